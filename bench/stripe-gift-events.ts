import type Stripe from 'stripe';
import type { StripeStandIn } from '../test/support/stripe-stand-in';

export type Gift = { pledgeId: number; amountCents: number };
export type SignedDelivery = { payload: string; signature: string };

/**
 * The webhook events Stripe would send for card gifts to existing pledges: each checkout
 * created through Haven's own Stripe client against the stand-in and completed there, a partial
 * refund for every `refundEvery`-th gift; then duplicates mixed in (`duplicateShare` of them
 * sent twice) and the whole stream shuffled, so some refunds arrive before their gift. Each
 * delivery is signed for real. Shared by bench/webhooks.ts and npm run bench.
 */
export async function giftEvents(
  stand: StripeStandIn,
  stripe: Stripe,
  gifts: Gift[],
  options: { refundEvery: number; duplicateShare: number },
): Promise<{ deliveries: SignedDelivery[]; unique: number; expectedCents: number }> {
  const unique: Stripe.Event[] = [];
  let expectedCents = 0;
  for (const [i, gift] of gifts.entries()) {
    const metadata = { pledge_id: String(gift.pledgeId) };
    const session = await stripe.checkout.sessions.create(
      {
        mode: 'payment',
        line_items: [{ quantity: 1, price_data: { currency: 'cad', unit_amount: gift.amountCents, product_data: { name: 'Gift' } } }],
        metadata,
        payment_intent_data: { metadata },
        success_url: 'http://127.0.0.1/give/thanks',
        cancel_url: 'http://127.0.0.1/give',
      },
      { idempotencyKey: `pledge-${gift.pledgeId}-checkout` },
    );
    unique.push(...stand.completeCheckout(session.id));
    expectedCents += gift.amountCents;
    if (i % options.refundEvery === 0) {
      const intent = stand.objects.get(stand.objects.get(session.id)!.payment_intent)!;
      const refund = Math.floor(gift.amountCents / 4);
      unique.push(stand.refundCharge(intent.latest_charge, refund));
      expectedCents -= refund;
    }
  }
  stand.takeEvents();
  const events = [...unique, ...unique.filter(() => Math.random() < options.duplicateShare)];
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  const deliveries = events.map((e) => {
    const payload = JSON.stringify(e);
    return { payload, signature: stand.sign(payload) };
  });
  return { deliveries, unique: unique.length, expectedCents };
}
