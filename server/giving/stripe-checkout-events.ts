import { type Expression, type ExpressionBuilder, sql, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database, PledgeStatus } from '../db/schema';
import type { LockedPledge } from './pledges';
import { issueReceiptsIfDue } from '../receipts/issuing';
import { type ChargeFacts, chargeFactsOfPaymentIntent, flagAmountMismatch, receiptIfDue, recordCardPayment, recordCardPayments } from './card-payments';
import { queueGiftConfirmation, queueGiftConfirmations } from './gift-emails';
import { type EventEffect, firstOfEachKey, idOf, pledgeIdIn, type WebhookContext } from './stripe-event-context';
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
  async applyAll(trx, ctx, items) {
    // A queue share's paid one-time gifts together, each pledge, charge and payment intent once
    // in the lot; anything else (a subscription, a delayed payment, a second event for a
    // pledge) goes through `apply`, one by one, after them.
    const { first, rest: alone } = firstOfEachKey(items, ({ event, facts }) => {
      const session = event.data.object;
      const pledgeId = pledgeIdIn(session.metadata);
      if (session.mode !== 'payment' || session.payment_status !== 'paid' || !facts || !pledgeId) return undefined;
      return [`pledge ${pledgeId}`, `charge ${facts.chargeId}`, ...(facts.paymentIntentId ? [`intent ${facts.paymentIntentId}`] : [])];
    });
    const together: PaidGift[] = first.map(({ event, facts }) => ({ session: event.data.object, pledgeId: pledgeIdIn(event.data.object.metadata)!, facts: facts! }));
    await applyPaidGifts(trx, ctx, together);
    for (const item of alone) await checkoutCompleted.apply(trx, ctx, item.event, item.facts);
  },
};

type PaidGift = { session: Stripe.Checkout.Session; pledgeId: number; facts: ChargeFacts };

/**
 * What `apply` does for each paid one-time Checkout, for several at once in a fixed number of
 * statements: one update attaches the sessions to their pledges (taking the pledges' row locks),
 * the payments and their ledger postings are recorded together (recordCardPayments), and the
 * confirmations and due receipts are queued together.
 */
async function applyPaidGifts(trx: Transaction<Database>, ctx: WebhookContext, gifts: PaidGift[]): Promise<void> {
  if (gifts.length === 0) return;
  const rows = sql.join(gifts.map((g) => sql`(${g.pledgeId}::bigint, ${g.session.id}::text, ${g.session.customer ? idOf(g.session.customer) : null}::text)`));
  const pledges: LockedPledge[] = await trx
    .updateTable('pledges')
    .from(sql<{ id: number; session_id: string; customer_id: string | null }>`(values ${rows})`.as<'v'>(sql.raw('v (id, session_id, customer_id)')))
    .set((eb) => ({
      stripe_checkout_session_id: eb.ref('v.session_id'),
      stripe_customer_id: sql<string | null>`coalesce(v.customer_id, pledges.stripe_customer_id)`,
      status: sql<PledgeStatus>`case when pledges.status = 'pending' then 'active' else pledges.status end`,
      updated_at: new Date(),
    }))
    .whereRef('pledges.id', '=', 'v.id')
    .where((eb) => openedByHaven(eb.ref('v.session_id'))(eb))
    .returningAll('pledges')
    .execute();
  const pledgeOf = new Map(pledges.map((p) => [p.id, p]));
  const attached = gifts.flatMap((g) => {
    const pledge = pledgeOf.get(g.pledgeId);
    if (!pledge) ctx.logger.warn({ sessionId: g.session.id }, 'a checkout session Haven did not open for a pledge: ignored');
    return pledge ? [{ ...g, pledge }] : [];
  });
  const recorded = await recordCardPayments(trx, attached, null);
  const fresh = attached.filter((g) => recorded.has(g.pledgeId));
  for (const g of fresh) {
    await flagAmountMismatch(trx, g.pledgeId, { amountCents: g.facts.amountCents, currency: g.facts.currency, chargeIds: [g.facts.chargeId], statedCents: g.session.amount_total }, g.pledge);
  }
  await queueGiftConfirmations(
    trx,
    ctx,
    fresh.map((g) => g.pledgeId),
  );
  await issueReceiptsIfDue(
    trx,
    ctx.receipts,
    fresh.map((g) => recorded.get(g.pledgeId)!),
  );
}

/**
 * The session is Haven's for this pledge: a card pledge, and the session Haven opened for it (or,
 * when that session id was never stored, one carrying the pledge in its metadata, which only
 * Haven's own Checkout call puts there). `client_reference_id` alone is never enough: another
 * integration on the same Stripe account may use it for its own ids, and would create gifts
 * and receipts here.
 */
function openedByHaven(sessionId: string | Expression<string>) {
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
