import request from 'supertest';
import { DONOR_LINK_LIMITS } from '../../server/giving/donor-page';
import type { EmailMessage } from '../../server/notifications/outbox';
import { createGivingTest, deliverAll, formVisitor, type GivingTest, giveForm, postGive, startCardGift } from '../support/giving';
import { signInAs } from '../support/session';
import { pdfText } from '../support/receipted-gifts';

/** Issue 14: a donor's own page behind a single-use, expiring link e-mailed on request. */
let t: GivingTest;
beforeAll(async () => {
  // One proxy hop trusted, as behind nginx: a test names the visitor's address in X-Forwarded-For
  // (requests without it count as Supertest's own loopback address).
  t = await createGivingTest({ TRUST_PROXY: '1' });
});
afterAll(() => t.destroyAll());

async function lastMailTo(email: string, template: string): Promise<EmailMessage | undefined> {
  const rows = await t.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').execute();
  return rows.map((r) => r.payload as EmailMessage).find((m) => m.to === email && m.template === template);
}

/** Asks for a link on /donor and follows it as the donor would; returns the signed-in agent. */
async function signIn(email: string) {
  const visitor = await formVisitor(t.app, '/donor');
  const asked = await visitor.post('/donor', { email }).expect(200);
  expect(asked.text).toContain('a link is on its way');
  const mail = await lastMailTo(email, 'giving/donor-sign-in');
  const url = new URL(String(mail!.data.url));
  const page = await visitor.agent.get(url.pathname).expect(200);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
  await visitor.agent.post(url.pathname).type('form').send({ _csrf: csrf }).expect(303);
  const account = await visitor.agent.get('/donor/account').expect(200);
  const token = /name="_csrf" value="([^"]+)"/.exec(account.text)![1]!;
  return { agent: visitor.agent, url, account, post: (path: string, fields: Record<string, string> = {}) => visitor.agent.post(path).type('form').send({ ...fields, _csrf: token }) };
}

test('asking for a link never says whether an e-mail has gifts, and is limited per e-mail', async () => {
  const visitor = await formVisitor(t.app, '/donor');
  const unknown = await visitor.post('/donor', { email: 'never-gave@example.org' }).expect(200);
  const known = await startCardGift(t.app, { email: 'gave-once@example.org' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(known.sessionId));
  const sent = await visitor.post('/donor', { email: 'gave-once@example.org' }).expect(200);
  const strip = (html: string) => html.replace(/never-gave@example\.org|gave-once@example\.org/g, 'EMAIL').replace(/value="[^"]*"/g, '');
  expect(strip(unknown.text)).toBe(strip(sent.text));
  expect(await lastMailTo('never-gave@example.org', 'giving/donor-sign-in')).toBeUndefined();
  expect(await lastMailTo('gave-once@example.org', 'giving/donor-sign-in')).toBeDefined();
  // Three an hour per e-mail, known or not.
  for (const email of ['never-gave@example.org', 'gave-once@example.org']) {
    await visitor.post('/donor', { email }).expect(200);
    await visitor.post('/donor', { email }).expect(200);
    const limited = await visitor.post('/donor', { email }).expect(429);
    expect(limited.text).toContain('Too many links');
  }
  const bad = await visitor.post('/donor', { email: 'not an e-mail' }).expect(400);
  expect(bad.text).toContain('value="not an e-mail"');
});

test('one address asking for links for many e-mails is refused after the per-IP limit, the same for an e-mail with gifts, and other addresses are not', async () => {
  const known = await startCardGift(t.app, { email: 'ip-known@example.org' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(known.sessionId));
  const visitor = await formVisitor(t.app, '/donor');
  const ask = (ip: string, email: string) => visitor.post('/donor', { email }).set('X-Forwarded-For', ip);

  // Each e-mail once, so only the per-IP limit can refuse.
  for (let i = 1; i <= DONOR_LINK_LIMITS.perIp; i++) {
    const answer = await ask('198.51.100.7', `ip-stranger-${i}@example.org`);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('a link is on its way');
  }
  const refusedUnknown = await ask('198.51.100.7', 'ip-never-gave@example.org').expect(429);
  const refusedKnown = await ask('198.51.100.7', 'ip-known@example.org').expect(429);
  // A rate-limit message, word for word the same whether or not the e-mail has gifts, naming neither.
  expect(refusedKnown.text).toContain('Too many links were asked for this address or from here in the last hour.');
  expect(refusedKnown.text).not.toContain('ip-known@example.org');
  expect(refusedKnown.text).toBe(refusedUnknown.text);
  expect(await lastMailTo('ip-known@example.org', 'giving/donor-sign-in')).toBeUndefined();
  expect(await lastMailTo('ip-never-gave@example.org', 'giving/donor-sign-in')).toBeUndefined();

  // Another address is not affected: the known e-mail gets its link from there.
  const elsewhere = await ask('203.0.113.20', 'ip-known@example.org').expect(200);
  expect(elsewhere.text).toContain('a link is on its way');
  expect(await lastMailTo('ip-known@example.org', 'giving/donor-sign-in')).toBeDefined();
});

test('the link works once, expires, and opens only its own donor\'s gifts and receipts', async () => {
  const a = await startCardGift(t.app, { email: 'donor-a@example.org', name: '김지우 (Ji-woo Kim)', amount: '100' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(a.sessionId));
  const b = await startCardGift(t.app, { email: 'donor-b@example.org', name: 'Other Person', amount: '250' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(b.sessionId));

  const donorA = await signIn('donor-a@example.org');
  expect(donorA.account.text).toContain('김지우 (Ji-woo Kim)');
  expect(donorA.account.text).toContain('$100.00');
  expect(donorA.account.text).not.toContain('Other Person');
  expect(donorA.account.text).not.toContain('$250.00');

  // The receipt downloads and reads back with the donor's name.
  const href = /href="(\/donor\/receipts\/\d+)"/.exec(donorA.account.text)![1]!;
  const pdf = await donorA.agent.get(href).buffer(true).expect(200);
  expect(await pdfText(pdf.body as Buffer)).toContain('김지우 (Ji-woo Kim)');
  // B's receipt is not reachable from A's session, nor without one.
  const bReceipt = await t.db.selectFrom('receipts').innerJoin('donors', 'donors.id', 'receipts.donor_id').select('receipts.id').where('donors.email', '=', 'donor-b@example.org').executeTakeFirstOrThrow();
  await donorA.agent.get(`/donor/receipts/${bReceipt.id}`).expect(404);
  await request(t.app).get(href).expect(404);
  const signedOut = await request(t.app).get('/donor/account').expect(200);
  expect(signedOut.text).toContain('E-mail me a link');
  expect(signedOut.text).not.toContain('김지우');

  // The link was used: it opens nothing a second time, in any browser.
  await request(t.app).get(donorA.url.pathname).expect(404);
  // A fresh link for B, expired: refused.
  const visitor = await formVisitor(t.app, '/donor');
  await visitor.post('/donor', { email: 'donor-b@example.org' }).expect(200);
  const mail = await lastMailTo('donor-b@example.org', 'giving/donor-sign-in');
  const url = new URL(String(mail!.data.url));
  await t.db.updateTable('donor_links').set({ expires_at: new Date(Date.now() - 1000) }).where('purpose', '=', 'sign_in').where('used_at', 'is', null).execute();
  await visitor.agent.get(url.pathname).expect(404);
  // Nor can A's session, holding a link, be turned into B's by naming B's e-mail.
  const stillA = await donorA.post('/donor', { email: 'donor-b@example.org' });
  expect([200, 429]).toContain(stillA.status);
  const page = await donorA.agent.get('/donor/account').expect(200);
  expect(page.text).not.toContain('Other Person');
});

test('a donor changes their address (future receipts), their receipt choice, asks for a reissue, stops a monthly gift and opens the card portal', async () => {
  const once = await startCardGift(t.app, { email: 'mover@example.org', name: 'Łukasz Nowak', amount: '50', addressLine1: '1 Old Street', city: 'Toronto' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(once.sessionId));
  const monthly = await startCardGift(t.app, { email: 'mover@example.org', name: 'Łukasz Nowak', frequency: 'monthly', amount: '20', addressLine1: '1 Old Street', city: 'Toronto' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(monthly.sessionId));
  const donor = await signIn('mover@example.org');

  // Bad input: refused with a message, nothing saved.
  const bad = await donor.post('/donor/details', { name: 'Łukasz\u200b Nowak', addressLine1: '9 New Road', city: 'Ottawa', province: 'ON', postalCode: 'K1A 0A1', country: 'CA', locale: 'en' });
  expect(bad.status).toBe(400);
  expect(bad.text).toContain('invisible or control character');
  expect(bad.text).toContain('value="9 New Road"');

  await donor.post('/donor/details', { name: 'Łukasz Nowak', addressLine1: '9 New Road', city: 'Ottawa', province: 'ON', postalCode: 'K1A 0A1', country: 'CA', locale: 'en' }).expect(303);
  const audit = await t.db.selectFrom('audit_log').select('action').where('action', '=', 'donor.details_updated_by_donor').execute();
  expect(audit).toHaveLength(1);
  // The one-time gift's receipt (issued before) keeps the old address, and can be reissued on request.
  const account = await donor.agent.get('/donor/account').expect(200);
  expect(account.text).toContain('Reissue with my current details');
  const receiptId = Number(/action="\/donor\/receipts\/(\d+)\/reissue"/.exec(account.text)![1]);
  await donor.post(`/donor/receipts/${receiptId}/reissue`).expect(303);
  const replacement = await t.db.selectFrom('receipts').select(['donor_address', 'status']).where('replaces_receipt_id', '=', receiptId).executeTakeFirstOrThrow();
  expect(replacement.donor_address).toContain('9 New Road');

  await donor.post('/donor/receipt-preference', { frequency: 'per_gift' }).expect(303);
  expect((await t.db.selectFrom('donors').select('receipt_frequency').where('email', '=', 'mover@example.org').executeTakeFirstOrThrow()).receipt_frequency).toBe('per_gift');

  // The next month's gift is receipted at the new address.
  const pledge = await t.db.selectFrom('pledges').select(['id', 'stripe_subscription_id']).where('stripe_checkout_session_id', '=', monthly.sessionId).executeTakeFirstOrThrow();
  await deliverAll(t.app, t.stand, [t.stand.renewSubscription(pledge.stripe_subscription_id!)]);
  const latest = await t.db.selectFrom('receipts').select(['donor_address', 'donor_name']).orderBy('id', 'desc').executeTakeFirstOrThrow();
  expect(latest).toEqual({ donor_name: 'Łukasz Nowak', donor_address: '9 New Road\nOttawa ON  K1A 0A1' });

  // The card: Stripe's Billing Portal for this donor's customer, returning to the donor page.
  const portal = await donor.post(`/donor/pledges/${pledge.id}/card`).expect(303);
  const call = t.stand.requests.filter((r) => r.path === '/v1/billing_portal/sessions').pop()!;
  expect(call.params.return_url).toBe('http://haven.test/donor/account');
  expect(portal.headers.location).toMatch(/\/billing\/bps_/);

  await donor.post(`/donor/pledges/${pledge.id}/cancel`).expect(303);
  expect((await t.db.selectFrom('pledges').select('status').where('id', '=', pledge.id).executeTakeFirstOrThrow()).status).toBe('cancelled');
  // Another donor's pledge cannot be cancelled from this page.
  const other = await t.db.selectFrom('pledges').select('id').where('stripe_checkout_session_id', '!=', monthly.sessionId).where('frequency', '=', 'once').executeTakeFirstOrThrow();
  await donor.post(`/donor/pledges/${other.id}/cancel`).expect(404);
});

test('a gift under new details asks the owner of the e-mail, who may take them for the record once', async () => {
  const first = await startCardGift(t.app, { email: 'confirmer@example.org', name: 'Nguyễn Thị Minh Khai', addressLine1: '1 First Avenue' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(first.sessionId));
  const visitor = await formVisitor(t.app);
  await visitor.post('/give', giveForm({ email: 'confirmer@example.org', name: 'Nguyễn Thị Minh Khai', addressLine1: '2 Second Avenue', method: 'cheque' })).expect(303);
  const mail = await lastMailTo('confirmer@example.org', 'giving/details-confirmation');
  expect(mail?.data.name).toBe('Nguyễn Thị Minh Khai');
  expect(JSON.stringify(mail)).not.toContain('2 Second Avenue');
  const url = new URL(String(mail!.data.url));
  const page = await visitor.agent.get(url.pathname).expect(200);
  expect(page.text).toContain('2 Second Avenue');
  expect(page.text).toContain('1 First Avenue');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
  await visitor.agent.post(url.pathname).type('form').send({ _csrf: csrf }).expect(200);
  expect((await t.db.selectFrom('donors').select('address_line1').where('email', '=', 'confirmer@example.org').executeTakeFirstOrThrow()).address_line1).toBe('2 Second Avenue');
  await visitor.agent.post(url.pathname).type('form').send({ _csrf: csrf }).expect(404);
});

test('a gift staff voided or corrected shows only the money in force on the donor page', async () => {
  const staff = await signInAs(t, 'staff');
  const res = await postGive(t.app, giveForm({ email: 'typo@example.org', method: 'cheque', amount: 'other', customAmount: '100' }), 303);
  const pledgeId = Number(/^\/give\/pledged\/(\d+)/.exec(res.headers.location!)![1]);
  // An extra zero: $500 for a $100 cheque, confirmed, then corrected to $100.
  await staff.postForm(`/staff/pledges/${pledgeId}/payments`, { amount: '500', method: 'cheque', reference: 'CHQ-TYPO-77', receivedOn: '2026-11-20', confirmAmountCents: '50000' }).then((r) => expect(r.status).toBe(303));
  const typo = await t.db.selectFrom('payments').select('id').where('reference', '=', 'CHQ-TYPO-77').executeTakeFirstOrThrow();
  await staff.postForm(`/staff/payments/${typo.id}/correct`, { amount: '100', receivedOn: '2026-11-20', reason: 'Extra zero typed' }).then((r) => expect(r.status).toBe(303));

  const donor = await signIn('typo@example.org');
  const received = /Received:[^<]*/.exec(donor.account.text)![0];
  expect(received).toContain('$100.00');
  expect(received).not.toContain('$500.00');
});
