import request from 'supertest';
import { issueDonorLink } from '../../server/giving/donor-links';
import { createGivingTest, deliverAll, formVisitor, type GivingTest, giveForm, postGive } from '../support/giving';

/**
 * Issue 16's donor links: random tokens stored hashed, one purpose each. Nothing is derived from
 * SESSION_SECRET, so knowing it (and guessing sequential pledge ids) opens no donor's data.
 */
const SECRET = 'a-session-secret-that-has-leaked-to-the-world-0123456789';
let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest({ SESSION_SECRET: SECRET });
});
afterAll(() => t.destroyAll());

async function cardGift(overrides: Record<string, string>) {
  const visitor = await formVisitor(t.app);
  const res = await visitor.post('/give', giveForm(overrides)).expect(303);
  const create = t.stand.requests.filter((r) => r.path === '/v1/checkout/sessions').pop()!;
  const pledgeId = Number(create.params.client_reference_id);
  return { visitor, pledgeId, success: new URL(create.params.success_url), cancel: new URL(create.params.cancel_url), sessionId: /\/checkout\/(cs_\w+)$/.exec(res.headers.location as string)![1]! };
}

test('tokens are random and stored only as hashes: the old HMAC of the leaked secret, or a guessed id with a well-formed token, opens nothing', async () => {
  const { pledgeId, success } = await cardGift({ name: 'Private Person', addressLine1: '1 Hidden Lane' });
  const token = success.searchParams.get('t')!;
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const stored = await t.db.selectFrom('donor_links').select(['token_hash', 'purpose']).where('pledge_id', '=', pledgeId).execute();
  expect(stored.map((r) => r.purpose).sort()).toEqual(['resume', 'thanks']);
  for (const row of stored) expect(row.token_hash).not.toContain(token);

  // What the former signer made from the secret: HMAC('haven-giving:pledge:<id>').
  const { createHmac } = await import('node:crypto');
  const hmac = createHmac('sha256', SECRET).update(`haven-giving:pledge:${pledgeId}`).digest('base64url').slice(0, 32);
  for (const guess of [hmac, token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), 'A'.repeat(43)]) {
    await request(t.app).get(`/give/thanks/${pledgeId}?t=${guess}`).expect(404);
    const resume = await request(t.app).get(`/give?resume=${pledgeId}&t=${guess}`).expect(200);
    expect(resume.text).not.toContain('Private Person');
  }
  // The real token, on the next (sequential) pledge id, opens nothing either.
  await request(t.app).get(`/give/thanks/${pledgeId + 1}?t=${token}`).expect(404);
  await request(t.app).get(`/give/thanks/${pledgeId - 1}?t=${token}`).expect(404);
  await request(t.app).get(`/give/thanks/${pledgeId}?t=${token}`).expect(200);
});

test('each token opens only its own purpose', async () => {
  const gift = await cardGift({ name: 'Monthly Person', frequency: 'monthly', amount: '25' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(gift.sessionId));
  const thanks = gift.success.searchParams.get('t')!;
  const resumeCookie = (await t.db.selectFrom('donor_links').select('id').where('pledge_id', '=', gift.pledgeId).where('purpose', '=', 'resume').execute()).length;
  expect(resumeCookie).toBe(1);
  const mail = await t.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').executeTakeFirstOrThrow();
  const cancelUrl = new URL((mail.payload as { data: { cancelUrl: string } }).data.cancelUrl);
  const cancel = cancelUrl.searchParams.get('t')!;

  // The thank-you token (in Stripe's success and cancel URLs) does not stop the gift …
  await request(t.app).get(`/give/monthly/${gift.pledgeId}/cancel?t=${thanks}`).expect(404);
  // … and the cancel token does not open the thank-you page, nor the form's choices.
  await request(t.app).get(`/give/thanks/${gift.pledgeId}?t=${cancel}`).expect(404);
  const form = await request(t.app).get(`/give?resume=${gift.pledgeId}&t=${cancel}`).expect(200);
  expect(form.text).not.toContain('value="25.00"');
  await request(t.app).get(cancelUrl.pathname + cancelUrl.search).expect(200);

  // A sign-in or details-confirmation token made for this pledge's donor opens neither page.
  const pledge = await t.db.selectFrom('pledges').select('donor_id').where('id', '=', gift.pledgeId).executeTakeFirstOrThrow();
  const signIn = await issueDonorLink(t.db, 'sign_in', { donorId: pledge.donor_id });
  const confirm = await issueDonorLink(t.db, 'confirm_details', { pledgeId: gift.pledgeId });
  for (const other of [signIn, confirm]) {
    await request(t.app).get(`/give/thanks/${gift.pledgeId}?t=${other}`).expect(404);
    await request(t.app).get(`/give/monthly/${gift.pledgeId}/cancel?t=${other}`).expect(404);
  }
  // And the thank-you token does not sign anyone in to the donor page.
  await request(t.app).get(`/donor/sign-in/${thanks}`).expect(404);
});

test('the pay-later page opens with its own token only; an expired thank-you token opens nothing', async () => {
  const res = await postGive(t.app, giveForm({ method: 'cheque', name: 'Cheque Person' }), 303);
  const location = new URL(res.headers.location as string, 'http://haven.test');
  const pledgeId = Number(/\/give\/pledged\/(\d+)$/.exec(location.pathname)![1]);
  await request(t.app).get(location.pathname + location.search).expect(200);
  await request(t.app).get(`/give/pledged/${pledgeId}`).expect(404);
  await t.db.updateTable('donor_links').set({ expires_at: new Date(Date.now() - 1000) }).where('pledge_id', '=', pledgeId).execute();
  await request(t.app).get(location.pathname + location.search).expect(404);
});
