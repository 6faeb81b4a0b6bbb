import { createStripeEventProcessor } from '../../server/giving/stripe-event-queue';
import { webhookContext } from '../../server/giving/stripe-webhooks';
import { createTestApp, type TestApp } from '../support/app';
import { createGivingTest, deliverAll, type GivingTest, giveForm, postGive, startCardGift, totals, pledgeOfSession } from '../support/giving';
import { signInAs } from '../support/session';

/**
 * Smaller ways real Stripe accounts differ from Haven's own assumptions (issue 13, point 6):
 * other integrations on the same account, invoices paid by several payments or outside Stripe,
 * delayed payment methods, and idempotency keys that must not collide across installations or
 * swallow a second refund. References: Checkout's `client_reference_id` and `metadata`
 * (https://docs.stripe.com/api/checkout/sessions/object), invoice payments
 * (https://docs.stripe.com/api/invoice-payment/object; several per invoice since
 * https://docs.stripe.com/changelog/basil/2025-05-28/partial-payments), idempotency keys
 * (https://docs.stripe.com/api/idempotent_requests: a key is the account's, whoever sends it).
 */
let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest();
});
afterAll(() => t.destroyAll());

async function paymentsOfPledge(pledgeId: number) {
  return t.db.selectFrom('payments').select(['amount_cents', 'stripe_invoice_id']).where('pledge_id', '=', pledgeId).orderBy('id').execute();
}

test('a Checkout session of another integration naming a Haven pledge only in client_reference_id attaches to nothing', async () => {
  const { sessionId } = await startCardGift(t.app, { amount: '55' });
  const pledge = await pledgeOfSession(t.db, sessionId);
  const before = await totals(t.db);
  // Another app on the same Stripe account uses client_reference_id for its own ids.
  const foreign = await t.webhooks.stripe.checkout.sessions.create({
    mode: 'payment',
    client_reference_id: String(pledge.id),
    line_items: [{ quantity: 1, price_data: { currency: 'cad', unit_amount: 9_900, product_data: { name: 'Concert ticket' } } }],
    success_url: 'https://tickets.example.org/done',
  });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(foreign.id));
  expect(await totals(t.db)).toEqual(before);
  expect(await paymentsOfPledge(pledge.id)).toEqual([]);
  expect((await pledgeOfSession(t.db, sessionId)).status).toBe('pending');
});

test('a Checkout session naming a Haven pledge in metadata, but not the session Haven opened for it, attaches to nothing', async () => {
  const { sessionId } = await startCardGift(t.app, { amount: '65' });
  const pledge = await pledgeOfSession(t.db, sessionId);
  const before = await totals(t.db);
  const metadata = { pledge_id: String(pledge.id) };
  const foreign = await t.webhooks.stripe.checkout.sessions.create({
    mode: 'payment',
    metadata,
    payment_intent_data: { metadata },
    line_items: [{ quantity: 1, price_data: { currency: 'cad', unit_amount: 6_500, product_data: { name: 'Another pledge system' } } }],
    success_url: 'https://elsewhere.example.org/done',
  });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(foreign.id));
  expect(await totals(t.db)).toEqual(before);
  expect((await pledgeOfSession(t.db, sessionId)).status).toBe('pending');
});

test('an invoice paid by two invoice payments records both, as one instalment', async () => {
  const { sessionId } = await startCardGift(t.app, { frequency: 'monthly', months: '3', amount: '25' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOfSession(t.db, sessionId);
  const before = await totals(t.db);
  const renewal = t.stand.renewSubscription(pledge.stripe_subscription_id!, 'paid', { split: [1_000, 1_500] });
  await deliverAll(t.app, t.stand, [renewal, renewal]);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(2_500);
  const invoiceId = (renewal.data.object as { id: string }).id;
  expect((await paymentsOfPledge(pledge.id)).filter((p) => p.stripe_invoice_id === invoiceId).map((p) => p.amount_cents)).toEqual([1_000, 1_500]);
  const installments = await t.db.selectFrom('pledge_installments').select(['seq', 'status']).where('pledge_id', '=', pledge.id).orderBy('seq').execute();
  expect(installments).toEqual([{ seq: 1, status: 'paid' }, { seq: 2, status: 'paid' }]);
  // Two payments, but two instalments of three: the pledge is not fulfilled yet.
  expect((await pledgeOfSession(t.db, sessionId)).status).toBe('active');
});

test('an invoice paid outside Stripe (an invoice payment with no payment intent) is held with the reason, not retried', async () => {
  const { sessionId } = await startCardGift(t.app, { frequency: 'monthly', amount: '35' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOfSession(t.db, sessionId);
  const before = await totals(t.db);
  const renewal = t.stand.renewSubscription(pledge.stripe_subscription_id!, 'paid', { paidBy: 'payment_record' });
  await deliverAll(t.app, t.stand, [renewal]);
  const row = await t.db.selectFrom('stripe_events').select(['processed_at', 'held_reason', 'attempts']).where('id', '=', renewal.id).executeTakeFirstOrThrow();
  expect(row.processed_at).toBeNull();
  expect(row.held_reason).toContain('paid outside Stripe');
  expect(await totals(t.db)).toEqual(before);
  await t.stripeEvents.drain();
  expect((await t.db.selectFrom('stripe_events').select('attempts').where('id', '=', renewal.id).executeTakeFirstOrThrow()).attempts).toBe(row.attempts);

  // Staff look into it and set it aside: done, with nothing recorded, and audited.
  const staff = await signInAs(t, 'staff');
  expect((await staff.postForm(`/staff/gifts/stripe-events/${renewal.id}/set-aside`)).status).toBe(303);
  expect((await t.db.selectFrom('stripe_events').select('processed_at').where('id', '=', renewal.id).executeTakeFirstOrThrow()).processed_at).toBeInstanceOf(Date);
  expect(await totals(t.db)).toEqual(before);
  expect((await staff.postForm(`/staff/gifts/stripe-events/${renewal.id}/set-aside`)).status).toBe(409);
  expect(await t.db.selectFrom('audit_log').select('action').where('subject', '=', `stripe_event:${renewal.id}`).execute()).toEqual([{ action: 'stripe_event.set_aside' }]);
});

test("a monthly gift paid by a delayed method: the 'gift received' e-mail waits for the first payment to succeed", async () => {
  const confirmations = async (email: string) =>
    (await t.db.selectFrom('outbox').select('payload').execute()).filter((m) => {
      const p = m.payload as { template: string; to: string };
      return p.template === 'giving/gift-confirmed' && p.to === email;
    }).length;
  const form = giveForm({ frequency: 'monthly', amount: '40', method: 'card' });
  const res = await postGive(t.app, form, 303);
  const sessionId = /\/checkout\/(cs_\w+)$/.exec(res.headers.location as string)![1]!;
  // Pre-authorised debit: the session completes unpaid; the money clears days later.
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId, { paymentStatus: 'unpaid' }));
  expect((await pledgeOfSession(t.db, sessionId)).status).toBe('active');
  expect(await confirmations(form.email!)).toBe(0);

  await deliverAll(t.app, t.stand, t.stand.settleDelayedPayment(sessionId));
  expect(await confirmations(form.email!)).toBe(1);
  await deliverAll(t.app, t.stand, [t.stand.renewSubscription((await pledgeOfSession(t.db, sessionId)).stripe_subscription_id!)]);
  expect(await confirmations(form.email!)).toBe(1);
});

test('two staff refunds of the same amount asked before the webhook lands are two refunds; the same form posted twice is one', async () => {
  t.stand.takeEvents();
  const { sessionId } = await startCardGift(t.app, { amount: '100' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOfSession(t.db, sessionId);
  const payment = await t.db.selectFrom('payments').select('id').where('pledge_id', '=', pledge.id).executeTakeFirstOrThrow();
  const staff = await signInAs(t, 'staff');
  t.stand.setWebhookUrl(undefined);
  const refundForm = async () => {
    const page = await staff.agent.get(`/staff/pledges/${pledge.id}`).expect(200);
    return /name="requestId" value="([^"]+)"/.exec(page.text)![1]!;
  };
  const first = await refundForm();
  const second = await refundForm();
  expect(second).not.toBe(first);
  for (const requestId of [first, first, second]) {
    const res = await staff.postForm(`/staff/payments/${payment.id}/refund`, { amount: '10.00', requestId });
    expect(res.status).toBe(303);
  }
  const calls = t.stand.requests.filter((r) => r.method === 'POST' && r.path === '/v1/refunds');
  expect(new Set(calls.map((c) => c.idempotencyKey)).size).toBe(2);
  const refunds = [...t.stand.objects.values()].filter((o) => o.object === 'refund' && o.charge === (t.stand.objects.get(t.stand.objects.get(sessionId)!.payment_intent)!.latest_charge as string));
  expect(refunds).toHaveLength(2);
  await deliverAll(t.app, t.stand, t.stand.takeEvents());
  expect((await t.db.selectFrom('payments').select('refunded_cents').where('id', '=', payment.id).executeTakeFirstOrThrow()).refunded_cents).toBe(2_000);
  expect(await t.db.selectFrom('audit_log').select('action').where('subject', '=', `payment:${payment.id}`).where('action', '=', 'payment.refund_requested').execute()).toHaveLength(2);
});

describe('two Haven installations on one Stripe account', () => {
  let other: TestApp;
  beforeAll(async () => {
    // A second installation (staging beside production, say) with its own database, on the same account.
    other = await createTestApp({ ...t.stand.env, PLEDGE_RATE_LIMIT_PER_IP: '1000', PUBLIC_URL: 'http://other.haven.test' }, (deps) => {
      const ctx = webhookContext(deps)!;
      return { ...deps, stripeEvents: createStripeEventProcessor(ctx, { concurrency: 1 }) };
    });
  });
  afterAll(() => other.destroy());

  test('their idempotency keys never collide: the same pledge number opens two different Checkout sessions', async () => {
    const mine = await t.db.selectFrom('pledges').select((eb) => eb.fn.max('id').as('max')).executeTakeFirstOrThrow();
    // Bring the other installation's pledge numbers up to ours, so both open pledge N+1.
    for (let i = 0; i < Number(mine.max); i++) await postGive(other.app, giveForm({ method: 'cheque' }), 303);
    const a = await startCardGift(t.app, { amount: '20' });
    const b = await startCardGift(other.app, { amount: '30' });
    expect((await pledgeOfSession(t.db, a.sessionId)).id).toBe((await other.db.selectFrom('pledges').select('id').where('stripe_checkout_session_id', '=', b.sessionId).executeTakeFirstOrThrow()).id);
    expect(b.sessionId).not.toBe(a.sessionId);
    const keys = t.stand.requests.filter((r) => r.path === '/v1/checkout/sessions').slice(-2).map((r) => r.idempotencyKey!);
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys.every((k) => /^haven-[0-9a-f-]{36}-[0-9a-f]{8}-pledge-\d+-checkout$/.test(k))).toBe(true);
  });
});
