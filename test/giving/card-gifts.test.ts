import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import request from 'supertest';
import { balanceOf } from '../../server/ledger/ledger';
import { requestRefund } from '../../server/giving/staff';
import { createStripe } from '../../server/giving/stripe-client';
import { balance, createGivingTest, deliverAll, giveForm, type GivingTest, ledgerImbalance, postEvent, postGive, startCardGift, totals, pledgeOfSession } from '../support/giving';
import type Stripe from 'stripe';
import { stripeEvent } from '../support/stripe-fixtures/events';
import { DISPUTE_FEE_CENTS, standInFee } from '../support/stripe-stand-in';

let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest();
});
afterAll(() => t.destroyAll());

test('a one-time card gift end to end: form, Checkout (hosted stand-in page), signed webhook, confirmed thank-you page, ledger', async () => {
  const server: Server = t.app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.stand.setWebhookUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`);
  try {
    const before = await totals(t.db);
    const { sessionId, location } = await startCardGift(t.app, { amount: 'other', customAmount: '75.50', wallConsent: 'on', displayName: 'The Kims', publicMessage: 'Welcome!' });
    expect(location.startsWith(t.stand.url)).toBe(true);
    const pledge = await pledgeOfSession(t.db, sessionId);

    // Checkout was opened with the pledge in its metadata and an idempotency key from the pledge.
    const create = t.stand.requests.find((r) => r.path === '/v1/checkout/sessions')!;
    const { id: installation } = await t.db.selectFrom('installation').select('id').executeTakeFirstOrThrow();
    expect(create.idempotencyKey).toMatch(new RegExp(`^haven-${installation}-[0-9a-f]{8}-pledge-${pledge.id}-checkout$`));
    expect(create.params).toMatchObject({ mode: 'payment', metadata: { pledge_id: String(pledge.id) }, payment_intent_data: { metadata: { pledge_id: String(pledge.id) } } });
    expect(create.params.line_items[0].price_data).toMatchObject({ currency: 'cad', unit_amount: '7550' });

    // Before the webhook: processing.
    const thanksPath = new URL(create.params.success_url).pathname + new URL(create.params.success_url).search;
    expect((await request(t.app).get(thanksPath).expect(200)).text).toContain('data-status="processing"');

    // The donor pays on the stand-in's hosted page; it sends the signed webhook and redirects back.
    const page = await fetch(location);
    expect(await page.text()).toContain('<button type="submit">Pay</button>');
    const paid = await fetch(`${location}/pay`, { method: 'POST', redirect: 'manual' });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe(create.params.success_url);

    // The webhook was acknowledged and queued; the donor sees "processing" until the processor applies it.
    expect((await request(t.app).get(thanksPath).expect(200)).text).toContain('data-status="processing"');
    expect(await t.stripeEvents.drain()).toBe(1);
    expect((await request(t.app).get(thanksPath).expect(200)).text).toContain('data-status="confirmed"');
    const fee = standInFee(7_550);
    const after = await totals(t.db);
    expect(after.raisedCents - before.raisedCents).toBe(7_550);
    expect(after.donorCount - before.donorCount).toBe(1);
    const payment = await t.db.selectFrom('payments').selectAll().where('pledge_id', '=', pledge.id).executeTakeFirstOrThrow();
    expect(payment).toMatchObject({ amount_cents: 7_550, fee_cents: fee, method: 'card', status: 'succeeded' });
    expect(await balance(t.db, 'expense:general:fees')).toBeGreaterThanOrEqual(fee);
    expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });

    // The fee came from the balance transaction, fetched through the API.
    expect(t.stand.requests.some((r) => r.path.startsWith('/v1/payment_intents/'))).toBe(true);
    // A confirmation e-mail is in the outbox; the donor wall shows the consented name and message.
    const mails = (await t.db.selectFrom('outbox').select('payload').execute()).map((m) => m.payload as { template: string });
    expect(mails.map((m) => m.template)).toEqual(['giving/gift-confirmed', 'receipts/issued']);
    const home = await request(t.app).get('/').expect(200);
    expect(home.text).toContain('The Kims');
    expect(home.text).toContain('Welcome!');
  } finally {
    t.stand.setWebhookUrl(undefined);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('the same event three times, and a gift\'s events in reverse order, change the totals exactly once', async () => {
  const before = await totals(t.db);
  const once = await startCardGift(t.app, { amount: '100' });
  const [completed] = t.stand.completeCheckout(once.sessionId);
  for (let i = 0; i < 3; i++) {
    const res = await postEvent(t.app, t.stand, completed!).expect(200);
    expect(res.body.duplicate).toBe(i > 0);
  }
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(10_000);

  // A monthly gift whose renewal, first invoice and checkout completion arrive newest first.
  const monthly = await startCardGift(t.app, { frequency: 'monthly', amount: '10' });
  const first = t.stand.completeCheckout(monthly.sessionId);
  const sub = (t.stand.objects.get(monthly.sessionId) as { subscription: string }).subscription;
  const renewal = t.stand.renewSubscription(sub);
  await deliverAll(t.app, t.stand, [...first, renewal].reverse());
  await deliverAll(t.app, t.stand, [...first, renewal]);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(12_000);
  expect((await pledgeOfSession(t.db, monthly.sessionId)).status).toBe('active');

  // A one-time gift refunded before its completion event arrives.
  const late = await startCardGift(t.app, { amount: '40' });
  const [lateCompleted] = t.stand.completeCheckout(late.sessionId);
  const charge = t.stand.objects.get((t.stand.objects.get((t.stand.objects.get(late.sessionId) as { payment_intent: string }).payment_intent) as { latest_charge: string }).latest_charge) as { id: string };
  const refunded = t.stand.refundCharge(charge.id, 1_000);
  await deliverAll(t.app, t.stand, [refunded, lateCompleted!, refunded, lateCompleted!]);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(12_000 + 3_000);
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('a bad or stale signature is answered 400 and changes nothing', async () => {
  const { sessionId } = await startCardGift(t.app, { amount: '30' });
  const [completed] = t.stand.completeCheckout(sessionId);
  const before = await totals(t.db);
  const events = await t.db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();

  await postEvent(t.app, t.stand, completed!, { secret: 'whsec_someoneelse' }).expect(400);
  await postEvent(t.app, t.stand, completed!, { timestamp: Math.floor(Date.now() / 1000) - 3600 }).expect(400);
  await postEvent(t.app, t.stand, completed!, { signature: 'nonsense' }).expect(400);
  const tampered = JSON.stringify({ ...completed, id: 'evt_forged' });
  await request(t.app).post('/webhooks/stripe').set('content-type', 'application/json').set('stripe-signature', t.stand.sign(JSON.stringify(completed))).send(tampered).expect(400);

  expect(await totals(t.db)).toEqual(before);
  const after = await t.db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  expect(after.n).toBe(events.n);
  // The genuine delivery still works afterwards.
  await postEvent(t.app, t.stand, completed!).expect(200);
});

test('an unknown event type is stored and acknowledged', async () => {
  const event = { id: 'evt_unknown_1', object: 'event', type: 'customer.created', created: 1_800_000_000, data: { object: { id: 'cus_x', object: 'customer' } }, livemode: false, api_version: null, pending_webhooks: 1, request: null };
  await postEvent(t.app, t.stand, event as never).expect(200);
  const row = await t.db.selectFrom('stripe_events').select(['type', 'object_id']).where('id', '=', 'evt_unknown_1').executeTakeFirstOrThrow();
  expect(row).toEqual({ type: 'customer.created', object_id: 'cus_x' });
});

test('a partial and then a full refund, asked by staff through Stripe and recorded when the webhook arrives', async () => {
  t.stand.takeEvents();
  const { sessionId } = await startCardGift(t.app, { amount: '200' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOfSession(t.db, sessionId);
  const payment = await t.db.selectFrom('payments').selectAll().where('pledge_id', '=', pledge.id).executeTakeFirstOrThrow();
  const before = await totals(t.db);
  const stripe = createStripe(t.config.stripe)!;
  const actor = { userId: 1, label: 'staff@example.org' };

  await requestRefund({ db: t.db, stripe, publicUrl: t.config.publicUrl }, { paymentId: payment.id, amountCents: 5_000, actor, requestId: 'first-refund-request' });
  const refundCall = t.stand.requests.filter((r) => r.path === '/v1/refunds').pop()!;
  expect(refundCall.idempotencyKey).toMatch(new RegExp(`^haven-[0-9a-f-]{36}-[0-9a-f]{8}-payment-${payment.id}-refund-first-refund-request$`));
  expect((await totals(t.db)).raisedCents).toBe(before.raisedCents); // not until the webhook
  const [partial] = t.stand.takeEvents().filter((e) => e.type === 'charge.refunded');
  await deliverAll(t.app, t.stand, [partial!, partial!]);
  expect((await totals(t.db)).raisedCents).toBe(before.raisedCents - 5_000);
  expect(await t.db.selectFrom('payments').select(['status', 'refunded_cents']).where('id', '=', payment.id).executeTakeFirstOrThrow()).toEqual({ status: 'partially_refunded', refunded_cents: 5_000 });

  await expect(requestRefund({ db: t.db, stripe, publicUrl: t.config.publicUrl }, { paymentId: payment.id, amountCents: 15_001, actor, requestId: 'too-large-request' })).rejects.toMatchObject({ kind: 'invalid' });
  await expect(requestRefund({ db: t.db, stripe, publicUrl: t.config.publicUrl }, { paymentId: payment.id, amountCents: 100, actor, requestId: 'x' })).rejects.toMatchObject({ kind: 'invalid' });
  await requestRefund({ db: t.db, stripe, publicUrl: t.config.publicUrl }, { paymentId: payment.id, amountCents: 15_000, actor, requestId: 'second-refund-request' });
  await deliverAll(t.app, t.stand, t.stand.takeEvents());
  expect((await totals(t.db)).raisedCents).toBe(before.raisedCents - 20_000);
  expect(await t.db.selectFrom('payments').select(['status', 'refunded_cents']).where('id', '=', payment.id).executeTakeFirstOrThrow()).toEqual({ status: 'refunded', refunded_cents: 20_000 });
  const audits = await t.db.selectFrom('audit_log').select('action').where('subject', '=', `payment:${payment.id}`).execute();
  expect(audits.map((a) => a.action)).toEqual(['payment.refund_requested', 'payment.refund_requested']);
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('a dispute takes the amount and Stripe\'s fee out once; winning it returns the amount', async () => {
  const { sessionId } = await startCardGift(t.app, { amount: '80' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOfSession(t.db, sessionId);
  const payment = await t.db.selectFrom('payments').selectAll().where('pledge_id', '=', pledge.id).executeTakeFirstOrThrow();
  const before = await totals(t.db);
  const stripeBefore = await balanceOf(t.db, 'stripe');

  const { disputeId, events: opened } = t.stand.openDispute(payment.stripe_charge_id!);
  await deliverAll(t.app, t.stand, [...opened, ...opened]);
  expect((await totals(t.db)).raisedCents).toBe(before.raisedCents - 8_000);
  expect(await balanceOf(t.db, 'stripe')).toBe(stripeBefore - 8_000 - DISPUTE_FEE_CENTS);
  expect((await t.db.selectFrom('payments').select('status').where('id', '=', payment.id).executeTakeFirstOrThrow()).status).toBe('disputed');

  const won = t.stand.closeDispute(disputeId, 'won');
  await deliverAll(t.app, t.stand, [...won, ...won]);
  expect((await totals(t.db)).raisedCents).toBe(before.raisedCents);
  expect(await balanceOf(t.db, 'stripe')).toBe(stripeBefore - DISPUTE_FEE_CENTS);
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('a failed monthly invoice marks the instalment and e-mails the donor; no money moves', async () => {
  const { sessionId } = await startCardGift(t.app, { frequency: 'monthly', amount: '15' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOfSession(t.db, sessionId);
  const before = await totals(t.db);
  const failed = t.stand.renewSubscription(pledge.stripe_subscription_id!, 'failed');
  await deliverAll(t.app, t.stand, [failed, failed]);
  expect(await totals(t.db)).toEqual(before);
  const rows = await t.db.selectFrom('pledge_installments').select(['seq', 'status']).where('pledge_id', '=', pledge.id).orderBy('seq').execute();
  expect(rows).toEqual([{ seq: 1, status: 'paid' }, { seq: 2, status: 'failed' }]);
  const mails = await t.db.selectFrom('outbox').select('payload').execute();
  expect(mails.filter((m) => (m.payload as { template: string }).template === 'giving/payment-failed')).toHaveLength(1);
  expect((await pledgeOfSession(t.db, sessionId)).status).toBe('active');
});

test('an amount at Stripe that differs from the pledge is recorded as received and flagged for staff', async () => {
  const { sessionId } = await startCardGift(t.app, { amount: '60' });
  const session = t.stand.objects.get(sessionId)!;
  session.amount_total = 5_000; // as if the price had been tampered with
  const events = t.stand.completeCheckout(sessionId);
  const before = await totals(t.db);
  await deliverAll(t.app, t.stand, events);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(5_000);
  const pledge = await pledgeOfSession(t.db, sessionId);
  const flag = await t.db.selectFrom('audit_log').select(['action', 'details']).where('subject', '=', `pledge:${pledge.id}`).executeTakeFirstOrThrow();
  expect(flag).toMatchObject({ action: 'payment.amount_mismatch', details: { expectedCents: 6_000, chargedCents: 5_000 } });
});

test('an expired Checkout session lapses its pledge, but never one that was paid', async () => {
  const unpaid = await startCardGift(t.app, { amount: '35' });
  const session = t.stand.objects.get(unpaid.sessionId) as Stripe.Checkout.Session;
  const expired = stripeEvent('checkout.session.expired', { ...session, status: 'expired' });
  await postEvent(t.app, t.stand, expired).expect(200);
  expect((await pledgeOfSession(t.db, unpaid.sessionId)).status).toBe('lapsed');

  const paid = await startCardGift(t.app, { amount: '35' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(paid.sessionId));
  const late = stripeEvent('checkout.session.expired', { ...(t.stand.objects.get(paid.sessionId) as Stripe.Checkout.Session), status: 'expired' });
  await postEvent(t.app, t.stand, late).expect(200);
  expect((await pledgeOfSession(t.db, paid.sessionId)).status).toBe('fulfilled');
});

test('a per-gift donor is receipted when the webhook records the gift, and the receipt is revised after a partial refund', async () => {
  const { sessionId } = await startCardGift(t.app, { amount: '120' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOfSession(t.db, sessionId);
  const payment = await t.db.selectFrom('payments').selectAll().where('pledge_id', '=', pledge.id).executeTakeFirstOrThrow();
  const receipts = () => t.db.selectFrom('receipts').innerJoin('receipt_payments', 'receipt_payments.receipt_id', 'receipts.id').select(['receipts.status', 'receipts.amount_cents']).where('receipt_payments.payment_id', '=', payment.id).orderBy('receipts.id').execute();
  expect(await receipts()).toEqual([{ status: 'issued', amount_cents: 12_000 }]);

  await deliverAll(t.app, t.stand, [t.stand.refundCharge(payment.stripe_charge_id!, 2_000)]);
  expect(await receipts()).toEqual([{ status: 'cancelled', amount_cents: 12_000 }, { status: 'issued', amount_cents: 10_000 }]);
});

test('when Stripe cannot be reached the donor sees a clear 503 and nothing counts', async () => {
  await t.stand.close();
  const before = await totals(t.db);
  const res = await postGive(t.app, giveForm({ amount: '45' }));
  expect(res.status).toBe(503);
  expect(res.text).toContain('The card payment page could not be opened.');
  expect(await totals(t.db)).toEqual(before);
});
