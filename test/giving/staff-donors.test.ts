import { findOrCreateDonor } from '../../server/giving/donors';
import { recordPayment } from '../../server/giving/payments';
import { createPledge } from '../../server/giving/pledges';
import type { EmailMessage } from '../../server/notifications/outbox';
import { createTestApp, type TestApp } from '../support/app';
import { formVisitor, giveForm, postGive, totals } from '../support/giving';
import { giveAndReceive } from '../support/receipted-gifts';
import { type SignedIn, signInAs } from '../support/session';

let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

/** A donor without an address (as seeded ones are), a cheque pledge and its payment received yesterday. */
async function giftWithoutAddress(email: string, name: string, amountCents = 10_000) {
  const campaign = await t.db.selectFrom('campaigns').select('id').orderBy('id').executeTakeFirstOrThrow();
  return t.db.transaction().execute(async (trx) => {
    const donorId = await findOrCreateDonor(trx, { email, name, city: 'Toronto', province: 'ON' });
    const pledgeId = await createPledge(trx, { campaignId: campaign.id, donorId, groupId: null, amountCents, frequency: 'once', installments: null, method: 'cheque' });
    const paymentId = await recordPayment(trx, { pledgeId, amountCents, method: 'cheque', reference: `CHQ-${email}`, receivedAt: new Date(Date.now() - 86_400_000) });
    return { donorId, pledgeId, paymentId };
  });
}

test('staff find a donor by name, e-mail, pledge reference, cheque number or receipt serial', async () => {
  const { donorId, pledgeId, paymentId } = await giftWithoutAddress('searchable@example.org', '박서준 Seo-jun Park');
  for (const q of ['서준', 'SEARCHABLE@example', `HAVEN-${pledgeId}`, 'CHQ-searchable']) {
    const res = await staff.agent.get(`/staff/donors?q=${encodeURIComponent(q)}`).expect(200);
    expect(res.text).toContain(`href="/staff/donors/${donorId}"`);
  }
  const other = await staff.agent.get('/staff/donors?q=nobody-has-this').expect(200);
  expect(other.text).toContain('No donor matches this search.');
  // Linked from the staff navigation and from the pledge and gift pages (lists and each one's own page).
  expect((await staff.agent.get('/staff').expect(200)).text).toContain('href="/staff/donors"');
  expect((await staff.agent.get(`/staff/pledges/${pledgeId}`).expect(200)).text).toContain(`href="/staff/donors/${donorId}"`);
  expect((await staff.agent.get(`/staff/payments/${paymentId}`).expect(200)).text).toContain(`<a href="/staff/donors/${donorId}">박서준 Seo-jun Park</a>`);
  expect((await staff.agent.get('/staff/gifts').expect(200)).text).toContain(`href="/staff/donors/${donorId}"`);
  expect((await staff.agent.get('/staff/pledges').expect(200)).text).toContain(`href="/staff/donors/${donorId}"`);
});

test('staff add an address (audited, with the reason) and the gift becomes receiptable', async () => {
  const { donorId, paymentId } = await giftWithoutAddress('no-address@example.org', 'Hye-jin Choi');
  const refused = await staff.postForm('/staff/receipts/issue', { paymentId });
  expect(refused.status).toBe(409);
  expect(refused.text).toContain('address is needed');

  // Bad input changes nothing and says why, keeping what was typed.
  const bad = await staff.postForm(`/staff/donors/${donorId}/details`, { name: 'Hye-jin\u202e Choi', addressLine1: '5 King St', city: 'Toronto', province: 'ON', postalCode: 'M5H 1A1', country: 'CA', locale: 'en', reason: 'phone call' });
  expect(bad.status).toBe(400);
  expect(bad.text).toContain('invisible or control character');
  expect(bad.text).toContain('value="5 King St"');
  const noReason = await staff.postForm(`/staff/donors/${donorId}/details`, { name: 'Hye-jin Choi', addressLine1: '5 King St', city: 'Toronto', country: 'CA', locale: 'en', reason: '' });
  expect(noReason.status).toBe(400);
  expect((await t.db.selectFrom('donors').select('address_line1').where('id', '=', donorId).executeTakeFirstOrThrow()).address_line1).toBeNull();

  const saved = await staff.postForm(`/staff/donors/${donorId}/details`, { name: 'Hye-jin Choi', addressLine1: '5 King Street West', city: 'Toronto', province: 'ON', postalCode: 'M5H 1A1', country: 'CA', locale: 'en', reason: 'Donor phoned with her address' });
  expect(saved.status).toBe(303);
  const audit = await t.db.selectFrom('audit_log').select(['action', 'details', 'actor_user_id']).where('subject', '=', `donor:${donorId}`).executeTakeFirstOrThrow();
  expect(audit).toMatchObject({ action: 'donor.details_edited', actor_user_id: staff.user.id, details: { reason: 'Donor phoned with her address', before: { addressLine1: null } } });

  const page = await staff.agent.get(`/staff/donors/${donorId}`).expect(200);
  expect(page.text).toContain('Issue receipt');
  expect((await staff.postForm('/staff/receipts/issue', { paymentId })).status).toBe(303);
  const receipt = await t.db.selectFrom('receipts').select(['donor_name', 'donor_address']).where('donor_id', '=', donorId).executeTakeFirstOrThrow();
  expect(receipt).toEqual({ donor_name: 'Hye-jin Choi', donor_address: '5 King Street West\nToronto ON  M5H 1A1' });
});

test('merging two records moves gifts, pledges and receipts, keeps every total, and can be undone', async () => {
  const a = await giveAndReceive(t.db, { email: 'min.park@example.org', name: 'Min-jun Park', amountCents: 5_000 });
  const b = await giveAndReceive(t.db, { email: 'minjun.park.old@example.org', name: 'Min-jun Park', amountCents: 7_000 });
  expect((await staff.postForm('/staff/receipts/issue', { paymentId: b.paymentId })).status).toBe(303);
  const before = await totals(t.db);

  expect((await staff.postForm(`/staff/donors/${a.donorId}/merge`, { other: 'minjun.park.old@example.org', reason: 'same person, old e-mail' })).status).toBe(303);
  const moved = await t.db.selectFrom('pledges').select('donor_id').where('id', '=', b.pledgeId).executeTakeFirstOrThrow();
  expect(moved.donor_id).toBe(a.donorId);
  const page = await staff.agent.get(`/staff/donors/${a.donorId}`).expect(200);
  expect(page.text).toContain(`/staff/pledges/${b.pledgeId}`);
  expect(page.text).toMatch(/HV-\d{4}-\d{6}/); // b's receipt is listed with the record kept
  expect(page.text).toContain('minjun.park.old@example.org');
  expect(await totals(t.db)).toEqual(before);
  // A merged record says where it went; its e-mail now leads to the record kept.
  expect((await staff.agent.get(`/staff/donors/${b.donorId}`).expect(200)).text).toContain(`/staff/donors/${a.donorId}`);
  const audit = await t.db.selectFrom('audit_log').select('details').where('action', '=', 'donor.merged').executeTakeFirstOrThrow();
  expect(audit.details).toMatchObject({ fromDonorId: b.donorId, intoDonorId: a.donorId, pledgeIds: [b.pledgeId] });

  const merge = await t.db.selectFrom('donor_merges').select('id').executeTakeFirstOrThrow();
  expect((await staff.postForm(`/staff/donor-merges/${merge.id}/undo`, { reason: 'not the same person after all' })).status).toBe(303);
  expect((await t.db.selectFrom('pledges').select('donor_id').where('id', '=', b.pledgeId).executeTakeFirstOrThrow()).donor_id).toBe(b.donorId);
  expect((await t.db.selectFrom('donors').select('merged_into_donor_id').where('id', '=', b.donorId).executeTakeFirstOrThrow()).merged_into_donor_id).toBeNull();
  expect(await totals(t.db)).toEqual(before);
  expect((await staff.postForm(`/staff/donor-merges/${merge.id}/undo`, { reason: 'twice' })).status).toBe(409);
});

/** The "E-mails sent" section of a staff donor page. */
function mailsSection(html: string): string {
  const start = html.indexOf('id="mails-title"');
  expect(start).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</section>', start));
}

test('a donor\'s page lists the e-mails sent to that donor, and none sent to another', async () => {
  // A pledges by cheque on /give (payment instructions) and staff record the cheque (the official receipt).
  const given = await postGive(t.app, giveForm({ method: 'cheque', email: 'mailed@example.org', name: 'Seo-yeon Kang' }), 303);
  const pledgeId = Number(/^\/give\/pledged\/(\d+)\?t=/.exec(given.headers.location!)![1]);
  const pledgePage = await staff.agent.get(`/staff/pledges/${pledgeId}`).expect(200);
  const today = /name="receivedOn" type="date" max="([\d-]+)"/.exec(pledgePage.text)![1]!;
  expect((await staff.postForm(`/staff/pledges/${pledgeId}/payments`, { amount: '50', method: 'cheque', reference: 'CHQ-MAILED', receivedOn: today })).status).toBe(303);
  // B, another donor, asks for a link to their donor page.
  const other = await giftWithoutAddress('other-mailed@example.org', 'Ha-eun Yoon');
  expect((await (await formVisitor(t.app, '/donor')).post('/donor', { email: 'other-mailed@example.org' })).status).toBe(200);

  const templatesTo = async (email: string) =>
    (await t.db.selectFrom('outbox').select('payload').orderBy('id').execute()).map((r) => r.payload as EmailMessage).filter((m) => m.to === email).map((m) => m.template);
  expect(await templatesTo('mailed@example.org')).toEqual(['giving/pledge-instructions', 'receipts/issued']);
  expect(await templatesTo('other-mailed@example.org')).toEqual(['giving/donor-sign-in']);

  const donorA = (await t.db.selectFrom('pledges').select('donor_id').where('id', '=', pledgeId).executeTakeFirstOrThrow()).donor_id;
  const mailsA = mailsSection((await staff.agent.get(`/staff/donors/${donorA}`).expect(200)).text);
  expect(mailsA).toContain('How to complete your pledge to HanVoice');
  expect(mailsA).toContain('Your official donation receipt');
  expect(mailsA).not.toContain('Your link to your HanVoice giving');
  expect(mailsA.match(/<tr><td>/g)).toHaveLength(2);

  const mailsB = mailsSection((await staff.agent.get(`/staff/donors/${other.donorId}`).expect(200)).text);
  expect(mailsB).toContain('Your link to your HanVoice giving');
  expect(mailsB).not.toContain('How to complete your pledge to HanVoice');
  expect(mailsB).not.toContain('Your official donation receipt');
  expect(mailsB.match(/<tr><td>/g)).toHaveLength(1);
});

test('only staff reach the donor pages', async () => {
  const sponsor = await signInAs(t, 'sponsor');
  await sponsor.agent.get('/staff/donors').expect(403);
  const anonymous = await (await import('supertest')).default(t.app).get('/staff/donors');
  expect(anonymous.status).toBe(303);
});
