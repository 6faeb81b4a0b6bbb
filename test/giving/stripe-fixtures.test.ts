import Stripe from 'stripe';
import { HANDLED_EVENT_TYPES } from '../../server/giving/stripe-webhooks';
import { openCheckoutSession } from '../support/stripe-fixtures/checkout-sessions';
import { CURRENT_API_VERSION, stripeEvent } from '../support/stripe-fixtures/events';
import { failedPayout, paidPayout, payoutEvent } from '../support/stripe-fixtures/payouts';
import { startStripeStandIn, type StripeStandIn } from '../support/stripe-stand-in';

/**
 * The fixture corpus (test/support/stripe-fixtures/, typed with the SDK's types for the pinned
 * version) has at least one event, in the current API version, for every event type Haven acts
 * on; the stand-in builds them through the same flows Stripe runs. A new handled type without a
 * fixture fails here.
 */
let stand: StripeStandIn;
let stripe: Stripe;
beforeAll(async () => {
  stand = await startStripeStandIn();
  stripe = new Stripe(stand.env.STRIPE_SECRET_KEY!, { host: '127.0.0.1', port: stand.port, protocol: 'http' });
});
afterAll(() => stand.close());

async function session(mode: 'payment' | 'subscription', metadata: Stripe.MetadataParam) {
  const price = { currency: 'cad', unit_amount: 2_500, product_data: { name: 'Gift' }, ...(mode === 'subscription' ? { recurring: { interval: 'month' as const } } : {}) };
  return stripe.checkout.sessions.create({
    mode,
    line_items: [{ quantity: 1, price_data: price }],
    metadata,
    ...(mode === 'subscription' ? { subscription_data: { metadata } } : { payment_intent_data: { metadata } }),
    success_url: 'https://haven.example.ca/give/thanks',
  });
}

test('every event type Haven handles has a fixture event in the current API version, with the object type Stripe sends', async () => {
  const events: Stripe.Event[] = [];
  const once = await session('payment', { pledge_id: '1' });
  events.push(...stand.completeCheckout(once.id));
  const delayed = await session('payment', { pledge_id: '2' });
  events.push(...stand.completeCheckout(delayed.id, { paymentStatus: 'unpaid' }), ...stand.settleDelayedPayment(delayed.id));
  events.push(stripeEvent('checkout.session.async_payment_failed', openCheckoutSession({ mode: 'payment', amount_total: 2_500, status: 'complete' })));
  events.push(stripeEvent('checkout.session.expired', openCheckoutSession({ mode: 'payment', amount_total: 2_500, status: 'expired' })));

  const monthly = await session('subscription', { pledge_id: '3' });
  events.push(...stand.completeCheckout(monthly.id));
  const subscriptionId = stand.objects.get(monthly.id)!.subscription as string;
  events.push(stand.renewSubscription(subscriptionId, 'failed'));
  stand.objects.get(subscriptionId)!.cancel_at = Math.floor(Date.now() / 1000);
  events.push(stand.renewSubscription(subscriptionId));

  const chargeId = stand.objects.get(stand.objects.get(once.id)!.payment_intent)!.latest_charge as string;
  events.push(stand.refundCharge(chargeId, 500));
  const refundId = [...stand.objects.values()].find((o) => o.object === 'refund' && o.charge === chargeId)!.id as string;
  events.push(...stand.failRefund(refundId));
  const inquiry = stand.openDispute(chargeId, { inquiry: true });
  events.push(...inquiry.events, ...stand.escalateInquiry(inquiry.disputeId), ...stand.closeDispute(inquiry.disputeId, 'won', { returnFee: true }));

  const payout = paidPayout(100_000, '2026-12-01');
  events.push(payoutEvent('payout.paid', payout), payoutEvent('payout.failed', failedPayout(payout)));

  const covered = new Set(events.map((e) => e.type));
  expect(HANDLED_EVENT_TYPES.filter((type) => !covered.has(type))).toEqual([]);
  const objectOf: Record<string, string> = { checkout: 'checkout.session', invoice: 'invoice', customer: 'subscription', refund: 'refund', payout: 'payout' };
  for (const e of events.filter((e) => HANDLED_EVENT_TYPES.includes(e.type))) {
    expect(e.api_version).toBe(CURRENT_API_VERSION);
    const object = (e.data.object as { object: string }).object;
    const expected = e.type.startsWith('charge.dispute.') ? 'dispute' : e.type === 'charge.refund.updated' ? 'refund' : e.type === 'charge.refunded' ? 'charge' : objectOf[e.type.split('.')[0]!];
    expect(`${e.type}: ${object}`).toBe(`${e.type}: ${expected}`);
  }
});
