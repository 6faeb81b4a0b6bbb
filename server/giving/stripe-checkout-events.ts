import { type ExpressionBuilder, sql } from 'kysely';
import type { Database, PledgeStatus } from '../db/schema';
import { type ChargeFacts, chargeFactsOfPaymentIntent, flagAmountMismatch, receiptIfDue, recordCardPayment } from './card-payments';
import { queueGiftConfirmation } from './gift-emails';
import { type EventEffect, idOf, pledgeIdIn } from './stripe-event-context';
import { attachSubscription } from './stripe-invoice-events';

/**
 * Checkout (https://docs.stripe.com/api/checkout/sessions/object). A session completes when the
 * donor finishes Stripe's page: paid at once for cards, or unpaid for delayed methods (then
 * `async_payment_succeeded` or `async_payment_failed` follows). A one-time gift's money is its
 * payment intent's charge; a monthly gift's money comes with each invoice (invoice.paid).
 */
export const checkoutCompleted: EventEffect<'checkout.session.completed' | 'checkout.session.async_payment_succeeded', ChargeFacts | undefined> = {
  async prepare(ctx, event) {
    const session = event.data.object;
    if (session.mode !== 'payment' || session.payment_status !== 'paid' || !session.payment_intent) return undefined;
    return chargeFactsOfPaymentIntent(ctx.stripe, idOf(session.payment_intent));
  },
  async apply(trx, ctx, event, facts) {
    const session = event.data.object;
    const pledgeId = pledgeIdIn(session.metadata);
    // One statement: the update takes the pledge's row lock that every card-money path queues on.
    const pledge = pledgeId
      ? await trx
          .updateTable('pledges')
          .set({
            stripe_checkout_session_id: session.id,
            stripe_customer_id: session.customer ? idOf(session.customer) : sql<string | null>`stripe_customer_id`,
            status: sql<PledgeStatus>`case when status = 'pending' then 'active' else status end`,
            updated_at: new Date(),
          })
          .where('id', '=', pledgeId)
          .where(openedByHaven(session.id))
          .returningAll()
          .executeTakeFirst()
      : undefined;
    if (!pledge) {
      ctx.logger.warn({ sessionId: session.id }, 'a checkout session Haven did not open for a pledge: ignored');
      return;
    }

    if (session.mode === 'subscription') {
      // The money, and the donor's confirmation, come with the first paid invoice: a delayed
      // method (pre-authorised debit) completes Checkout days before it pays, or never does.
      if (session.subscription) await attachSubscription(trx, pledge.id, idOf(session.subscription));
      return;
    }
    if (session.payment_status !== 'paid' || !facts) return; // async methods: wait for async_payment_succeeded
    // The updated row (locked by the update) stands in for reading the pledge again.
    const recorded = await recordCardPayment(trx, pledge.id, facts, null, { locked: true, pledge });
    if (!recorded) return;
    await flagAmountMismatch(trx, pledge.id, { amountCents: facts.amountCents, currency: facts.currency, chargeIds: [facts.chargeId], statedCents: session.amount_total }, pledge);
    await queueGiftConfirmation(trx, ctx, pledge.id);
    await receiptIfDue(trx, ctx, recorded);
  },
};

/**
 * The session is Haven's for this pledge: a card pledge, and the session Haven opened for it (or,
 * when that session id was never stored, one carrying the pledge in its metadata, which only
 * Haven's own Checkout call puts there). `client_reference_id` alone is never enough: another
 * integration on the same Stripe account may use it for its own ids, and would create gifts
 * and receipts here.
 */
function openedByHaven(sessionId: string) {
  return (eb: ExpressionBuilder<Database, 'pledges'>) =>
    eb.and([eb('method', '=', 'card'), eb.or([eb('stripe_checkout_session_id', 'is', null), eb('stripe_checkout_session_id', '=', sessionId)])]);
}

/** The donor's bank refused a delayed payment, or the donor never paid (the session expired): the pledge lapses. */
export const checkoutFailed: EventEffect<'checkout.session.async_payment_failed' | 'checkout.session.expired'> = {
  async apply(trx, _ctx, event) {
    const session = event.data.object;
    const pledgeId = pledgeIdIn(session.metadata);
    if (!pledgeId) return;
    // Only a pledge with no money recorded: an expiry or failure reported late never undoes a payment.
    await trx
      .updateTable('pledges')
      .set({ status: 'lapsed', updated_at: new Date() })
      .where('id', '=', pledgeId)
      .where(openedByHaven(session.id))
      .where('status', 'in', ['pending', 'active'])
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('payments').select('payments.id').where('payments.pledge_id', '=', pledgeId))))
      .execute();
  },
};
