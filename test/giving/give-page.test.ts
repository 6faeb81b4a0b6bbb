import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { postGive, formVisitor, createGivingTest, deliverAll, giveForm, type GivingTest, startCardGift, totals } from '../support/giving';
import { feeCoverCents } from '../../server/giving/stripe-client';
import { parseDollars } from '../../server/giving/give-form';

let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest({ PLEDGE_RATE_LIMIT_PER_EMAIL: '3' });
});
afterAll(() => t.destroyAll());

test('the giving page offers card and pay-later, and labels the group preference as non-binding', async () => {
  const res = await request(t.app).get('/give?groupId=7').expect(200);
  expect(res.text).toContain('name="method" value="card"');
  expect(res.text).toContain('name="method" value="cheque"');
  expect(res.text).toContain('non-binding preference');
  expect(res.text).toContain('Gifts cannot be directed to a family.');
  expect(res.text).toContain('name="groupId" value="7"');
  expect(res.text).toContain('name="_csrf"');
  const fr = await request(t.app).get('/give?lang=fr').expect(200);
  expect(fr.text).toContain('préférence non contraignante');
});

test('amounts outside $5–$100,000 and missing details re-render the form with messages and the typed values', async () => {
  const low = await postGive(t.app, giveForm({ amount: 'other', customAmount: '4.99', name: 'Ana Lee' }), 400);
  expect(low.text).toContain('The smallest gift we can accept online is $5.');
  expect(low.text).toContain('value="Ana Lee"');
  const high = await postGive(t.app, giveForm({ amount: 'other', customAmount: '100000.01' }), 400);
  expect(high.text).toContain('For gifts above $100,000, please contact us.');
  const bad = await postGive(t.app, giveForm({ amount: 'other', customAmount: '12.345', email: 'nope', postalCode: '' }), 400);
  expect(bad.text).toContain('Enter an amount in dollars');
  expect(bad.text).toContain('Enter a valid e-mail address.');
  expect(bad.text).toContain('Enter your postal code.');
  expect(await t.db.selectFrom('pledges').select('id').execute()).toHaveLength(0);
});

test('an amount typed under "Another amount" while a preset is still chosen is refused, not silently replaced by the preset', async () => {
  const pledgesBefore = (await t.db.selectFrom('pledges').select('id').execute()).length;
  // The $50 preset is chosen by default; the donor types $123.45 in the amount field and goes on.
  const both = await postGive(t.app, giveForm({ amount: '50', customAmount: '123.45', method: 'cheque', email: 'both-amounts@example.org' }), 400);
  expect(both.text).toContain('id="amount-error"');
  expect(both.text).toContain('Choose “Another amount”');
  expect(both.text).toMatch(/id="customAmount"[^>]*value="123.45"/);
  expect(await t.db.selectFrom('pledges').select('id').execute()).toHaveLength(pledgesBefore);
  // The same amount typed as chosen, or a blank field, is no contradiction.
  await postGive(t.app, giveForm({ amount: '50', customAmount: '50.00', method: 'cheque', email: 'same-amount@example.org' }), 303);
  await postGive(t.app, giveForm({ amount: '50', customAmount: '  ', method: 'cheque', email: 'blank-amount@example.org' }), 303);
});

/** The input named `field`, holding `typed`, marked invalid, with `message` in the paragraph right after it that it names. */
function fieldRefused(html: string, field: string, typed: string, message: string) {
  const input = new RegExp(`<input id="${field}" name="${field}"[^>]*>`).exec(html)?.[0];
  expect(input).toBeDefined();
  expect(input).toContain(`value="${typed}"`);
  expect(input).toContain('aria-invalid="true"');
  expect(input).toMatch(new RegExp(`aria-describedby="[^"]*\\b${field}-error\\b`));
  expect(html.slice(html.indexOf(input!) + input!.length).trimStart().startsWith(`<p class="field-error" id="${field}-error">${message}</p>`)).toBe(true);
}

test('invisible and control characters in a name or address are refused beside the field, what was typed is kept, and nothing is stored', async () => {
  const invisible = 'This contains an invisible or control character (often picked up when copying and pasting). Please retype it.';
  const typed = {
    name: '김지우\u200b (Ji-woo Kim)', // zero-width space
    addressLine1: '12 \u202eKing Street', // right-to-left override
    addressLine2: 'Unit 4\u0007', // BEL
    city: 'Tor\u00adonto', // soft hyphen
    displayName: 'Ji\u2060woo', // word joiner
  };
  const before = { donors: await t.db.selectFrom('donors').select('id').execute(), pledges: await t.db.selectFrom('pledges').select('id').execute() };
  const res = await postGive(t.app, giveForm({ method: 'cheque', email: 'invisible@example.org', wallConsent: 'on', ...typed }), 400);
  for (const [field, value] of Object.entries(typed)) fieldRefused(res.text, field, value, invisible);
  expect(res.text).toContain('value="invisible@example.org"');
  expect(await t.db.selectFrom('donors').select('id').execute()).toEqual(before.donors);
  expect(await t.db.selectFrom('pledges').select('id').execute()).toEqual(before.pledges);
  expect(await t.db.selectFrom('donors').select('id').where('email', '=', 'invisible@example.org').executeTakeFirst()).toBeUndefined();

  // A Hangul name with an ordinary space is a name like any other.
  await postGive(t.app, giveForm({ method: 'cheque', email: 'hangul-space@example.org', name: '이 서연', addressLine1: '12 King Street' }), 303);
  const donor = await t.db.selectFrom('donors').select(['name', 'address_line1']).where('email', '=', 'hangul-space@example.org').executeTakeFirstOrThrow();
  expect(donor).toEqual({ name: '이 서연', address_line1: '12 King Street' });
});

test('typed dollars become cents without floats, and covering the fee adds what Stripe keeps', () => {
  expect(parseDollars('50.25')).toBe(5025);
  expect(parseDollars('$1,000')).toBe(100_000);
  expect(parseDollars('0.1')).toBe(10);
  expect(parseDollars('1e3')).toBeUndefined();
  // As French writes amounts: spaces (also no-break) group the thousands, a comma marks the cents, the sign comes after.
  expect(parseDollars('12,50')).toBe(1_250);
  expect(parseDollars('12 345,67')).toBe(1_234_567);
  expect(parseDollars('12\u00a0345,67\u00a0$')).toBe(1_234_567);
  expect(parseDollars('12\u202f345,5')).toBe(1_234_550);
  // English thousands still group by three; anything ambiguous or malformed is not an amount.
  expect(parseDollars('1,250.50')).toBe(125_050);
  expect(parseDollars('99,999,999')).toBe(9_999_999_900);
  expect(parseDollars('1,234')).toBe(123_400);
  expect(parseDollars('12,345.6,7')).toBeUndefined();
  expect(parseDollars('1,234,56')).toBeUndefined();
  expect(parseDollars('10,0000')).toBeUndefined();
  expect(parseDollars('1.234,56')).toBeUndefined();
  // $100 at 2.9% + 30¢: the donor gives $103.30, Stripe keeps $3.30 (2.9% of 103.30 = 2.9957 → 3.00 + 0.30).
  expect(feeCoverCents(10_000, { basisPoints: 290, fixedCents: 30 })).toBe(330);
});

test('cover-the-fee charges the gift plus the fee, and the fund receives the whole gross amount', async () => {
  const { sessionId } = await startCardGift(t.app, { amount: '100', coverFee: 'on' });
  const create = t.stand.requests.filter((r) => r.path === '/v1/checkout/sessions').pop()!;
  expect(create.params.line_items[0].price_data.unit_amount).toBe('10330');
  const before = await totals(t.db);
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(10_330);
});

test('cancelling Checkout returns to the form with the values kept, the personal ones only in the browser that typed them', async () => {
  const visitor = await formVisitor(t.app);
  await visitor.post('/give', giveForm({ amount: 'other', customAmount: '42.50', name: 'Returning Donor', city: 'Ottawa', frequency: 'monthly', months: '6' })).expect(303);
  const create = t.stand.requests.filter((r) => r.path === '/v1/checkout/sessions').pop()!;
  const cancel = new URL(create.params.cancel_url);
  const res = await visitor.agent.get(cancel.pathname + cancel.search).expect(200);
  expect(res.text).toContain('value="42.50"');
  expect(res.text).toContain('value="Returning Donor"');
  expect(res.text).toContain('value="Ottawa"');
  expect(res.text).toContain('value="6"');
  // Stripe's cancel URL alone (another browser, Stripe's logs) brings back the gift's choices, never the person.
  const elsewhere = await request(t.app).get(cancel.pathname + cancel.search).expect(200);
  expect(elsewhere.text).toContain('value="42.50"');
  expect(elsewhere.text).not.toContain('Returning Donor');
  expect(elsewhere.text).not.toContain('Ottawa');
  // A forged token shows an empty form, not someone else's details.
  const forged = await request(t.app).get(`${cancel.pathname}?resume=${cancel.searchParams.get('resume')}&t=forged`).expect(200);
  expect(forged.text).not.toContain('42.50');
});

test('a donor stops a monthly gift from the signed link in the confirmation e-mail', async () => {
  const { sessionId } = await startCardGift(t.app, { frequency: 'monthly', amount: '25' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await t.db.selectFrom('pledges').select(['id', 'stripe_subscription_id']).where('stripe_checkout_session_id', '=', sessionId).executeTakeFirstOrThrow();
  const mail = await t.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').executeTakeFirstOrThrow();
  const cancelUrl = new URL((mail.payload as { data: { cancelUrl: string } }).data.cancelUrl);
  expect(cancelUrl.pathname).toBe(`/give/monthly/${pledge.id}/cancel`);

  await request(t.app).get(`/give/monthly/${pledge.id}/cancel?t=wrong`).expect(404);
  const page = await request(t.app).get(cancelUrl.pathname + cancelUrl.search).expect(200);
  expect(page.text).toContain('Stop my monthly gift');
  const visitor = await formVisitor(t.app, cancelUrl.pathname + cancelUrl.search);
  await visitor.post(cancelUrl.pathname, { t: cancelUrl.searchParams.get('t')! }).expect(303);
  expect((await t.db.selectFrom('pledges').select('status').where('id', '=', pledge.id).executeTakeFirstOrThrow()).status).toBe('cancelled');
  const call = t.stand.requests.find((r) => r.method === 'DELETE' && r.path === `/v1/subscriptions/${pledge.stripe_subscription_id}`);
  expect(call?.idempotencyKey).toMatch(/^haven-[0-9a-f-]{36}-[0-9a-f]{8}-stripe-call-\d+-attempt-1$/);
  // Stripe's customer.subscription.deleted then changes nothing.
  await deliverAll(t.app, t.stand, t.stand.takeEvents());
  expect((await t.db.selectFrom('pledges').select('status').where('id', '=', pledge.id).executeTakeFirstOrThrow()).status).toBe('cancelled');
});

test('pledge creation is rate-limited per e-mail, with the counts kept in PostgreSQL', async () => {
  const form = giveForm({ method: 'cheque', email: 'busy@example.org' });
  for (let i = 0; i < 3; i++) await postGive(t.app, form, 303);
  const res = await postGive(t.app, form, 429);
  expect(res.text).toContain('Too many gifts were started from here');
  const row = await t.db.selectFrom('rate_limits').select('hits').where('key', 'like', 'pledge-email:%').orderBy('hits', 'desc').executeTakeFirstOrThrow();
  expect(row.hits).toBe(4);
});

describe('without STRIPE_SECRET_KEY', () => {
  let plain: TestApp;
  beforeAll(async () => {
    plain = await createTestApp();
  });
  afterAll(() => plain.destroy());

  test('card giving is off with a notice, pay-later still works, and webhooks are refused unverified', async () => {
    const page = await request(plain.app).get('/give').expect(200);
    expect(page.text).toContain('Card giving is turned off for now.');
    expect(page.text).not.toContain('value="card"');
    await postGive(plain.app, giveForm({ method: 'card' }), 503);
    const res = await postGive(plain.app, giveForm({ method: 'etransfer' }), 303);
    expect(res.headers.location).toMatch(/^\/give\/pledged\/\d+\?t=/);
    const pledged = await request(plain.app).get(res.headers.location!).expect(200);
    expect(pledged.text).toMatch(new RegExp(`Interac e-Transfer to ${plain.config.contact.eTransferEmail.replace(/[.]/g, "\\.")} with the reference HAVEN-\\d+`));
    await request(plain.app).post('/webhooks/stripe').set('content-type', 'application/json').send('{}').expect(404);
  });
});
