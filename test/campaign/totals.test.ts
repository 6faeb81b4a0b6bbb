import request from 'supertest';
import { campaignTotals, requireCurrentCampaign } from '../../server/campaign/campaign';
import { createTestApp, type TestApp } from '../support/app';
import { makePledge, receive } from '../support/gifts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

async function totals() {
  return campaignTotals(t.db, await requireCurrentCampaign(t.db));
}

test('a new campaign shows its goal and nothing raised yet', async () => {
  const res = await request(t.app).get('/api/campaign').expect(200);
  expect(res.body).toEqual({
    goalCents: 25_000_000,
    raisedCents: 0,
    pledgedOutstandingCents: 0,
    donorCount: 0,
    familiesGoal: 5,
    familiesSponsored: 0,
    currency: 'CAD',
  });
});

test('received and pledged-but-unpaid come from the ledger and move as pledges are paid', async () => {
  // $100 a month for 3 months, pay later: $300 pledged, nothing received.
  const monthly = await makePledge(t.db, { frequency: 'monthly', installments: 3, amountCents: 10_000, email: 'kim@example.org' });
  expect(await totals()).toMatchObject({ raisedCents: 0, pledgedOutstandingCents: 30_000, donorCount: 0 });

  await receive(t.db, monthly, 10_000, { reference: 'CHQ-1' });
  expect(await totals()).toMatchObject({ raisedCents: 10_000, pledgedOutstandingCents: 20_000, donorCount: 1 });

  // A card gift of $50 with a $1.75 fee counts its gross amount as raised; same donor again counts once.
  const card = await makePledge(t.db, { method: 'card', amountCents: 5_000, email: 'KIM@example.org' });
  await receive(t.db, card, 5_000, { method: 'card', feeCents: 175 });
  expect(await totals()).toMatchObject({ raisedCents: 15_000, pledgedOutstandingCents: 20_000, donorCount: 1 });

  // Paying more than was promised releases only what was outstanding.
  await receive(t.db, monthly, 10_000, { reference: 'CHQ-2' });
  await receive(t.db, monthly, 15_000, { reference: 'CHQ-3' });
  expect(await totals()).toMatchObject({ raisedCents: 40_000, pledgedOutstandingCents: 0, donorCount: 1 });
});

test('the campaign page shows the totals, the bar and its text equivalent', async () => {
  const res = await request(t.app).get('/').expect(200);
  expect(res.text).toContain('$400 raised of $250,000');
  expect(res.text).toContain('$400 received and $0 pledged, of a $250,000 goal.');
  expect(res.text).toContain('0 of 5 families sponsored');
  expect(res.text).toMatch(/<dt>Donors<\/dt><dd>1<\/dd>/);
  expect(res.text).toContain('class="progress__received" x="0" y="0" width="2"');
});

test('the campaign page is served in French with amounts formatted for fr-CA', async () => {
  const res = await request(t.app).get('/?lang=fr').expect(200);
  expect(res.text).toContain('<html lang="fr">');
  // fr-CA groups digits and sets the dollar sign apart with no-break spaces.
  expect(res.text.replace(/[\u00a0\u202f]/g, ' ')).toContain('400 $ recueillis sur 250 000 $');
  expect(res.headers['set-cookie']?.[0]).toMatch(/^lang=fr/);
});
