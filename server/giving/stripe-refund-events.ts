import { sql, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema';
import { accounts } from '../ledger/accounts';
import { postTransaction } from '../ledger/ledger';
import { type ChargeFacts, chargeFactsOfCharge, fundOfPayment, lockPaymentByCharge, receiptsFollowMoney, recordCardPayment, settlePaymentStatus } from './card-payments';
import { type EventEffect, idOf, pledgeIdIn, RetryLater } from './stripe-event-context';

/**
 * Refunds (https://docs.stripe.com/api/refunds/object). A refund takes its amount out of the
 * Stripe balance when it is made (charge.refunded) and can still fail afterwards, e.g. when the
 * card was closed: its status becomes `failed` (final), a `failure_balance_transaction` "reverses
 * the initial balance transaction", the charge's `amount_refunded` goes back down, and Stripe
 * sends refund.failed, refund.updated and (for some methods) charge.refund.updated.
 *
 * Haven keeps each refund by id (stripe_refunds): its money is out while it is pending,
 * requires_action or succeeded, and back once it failed or was canceled, which never changes
 * again. charge.refunded does not list the refunds (not since API version 2022-11-15), so they
 * are read from the API (`GET /v1/refunds?charge=`); the refund events carry theirs. Whatever the
 * order of events, the ledger then moves by the difference between the refunds whose money is
 * out and what it has recorded (`payments.refunded_cents`): a refund debits the fund, a failed
 * one credits it back, and the receipt follows both ways.
 */
type RefundEventType = 'charge.refunded' | 'refund.failed' | 'refund.updated' | 'charge.refund.updated';
type RefundFacts = { chargeId: string; refunds: Stripe.Refund[]; gift: ChargeFacts | undefined; pledgeId: number | undefined };

export const refundsChanged: EventEffect<RefundEventType, RefundFacts | undefined> = {
  async prepare(ctx, event) {
    const object = event.data.object;
    const refunds = object.object === 'charge' ? await ctx.stripe.refunds.list({ charge: object.id, limit: 100 }).autoPagingToArray({ limit: 10_000 }) : [object];
    const chargeId = object.object === 'charge' ? object.id : object.charge ? idOf(object.charge) : undefined;
    if (!chargeId) return undefined; // a refund of something other than a charge: not a card gift
    const known = await ctx.db.selectFrom('payments').select('id').where('stripe_charge_id', '=', chargeId).executeTakeFirst();
    if (known) return { chargeId, refunds, gift: undefined, pledgeId: undefined };
    // A refund reported before the payment itself: record the payment from the charge first.
    const charge = object.object === 'charge' ? object : await ctx.stripe.charges.retrieve(chargeId);
    const pledgeId = pledgeIdIn(charge.metadata);
    return { chargeId, refunds, pledgeId, gift: pledgeId ? await chargeFactsOfCharge(ctx.stripe, chargeId) : undefined };
  },
  async apply(trx, ctx, _event, facts) {
    if (!facts) return;
    let payment = await lockPaymentByCharge(trx, facts.chargeId);
    if (!payment) {
      if (!facts.pledgeId || !facts.gift) throw new RetryLater(`refund for charge ${facts.chargeId}, whose payment is not recorded yet`);
      await recordCardPayment(trx, facts.pledgeId, facts.gift, null);
      payment = await lockPaymentByCharge(trx, facts.chargeId);
      if (!payment) throw new RetryLater(`charge ${facts.chargeId} could not be recorded`);
    }
    for (const refund of facts.refunds) await noteRefund(trx, payment.id, refund);

    const { out } = await trx
      .selectFrom('stripe_refunds')
      .select(sql<number>`coalesce(sum(amount_cents) filter (where counted), 0)::bigint`.as('out'))
      .where('payment_id', '=', payment.id)
      .executeTakeFirstOrThrow();
    const refundedCents = Math.min(out, payment.amount_cents);
    const delta = refundedCents - payment.refunded_cents;
    if (delta === 0) return;
    const fund = await fundOfPayment(trx, payment.id);
    await postTransaction(trx, {
      kind: delta > 0 ? 'gift_refunded' : 'gift_refund_failed',
      description: delta > 0 ? `Refund of card payment ${payment.id}` : `Failed refund of card payment ${payment.id}: the money came back`,
      paymentId: payment.id,
      entries: [
        { account: accounts.stripe, amountCents: -delta },
        { account: accounts.fund(fund), amountCents: delta },
      ],
    });
    await trx.updateTable('payments').set({ refunded_cents: refundedCents }).where('id', '=', payment.id).execute();
    await settlePaymentStatus(trx, payment.id);
    await receiptsFollowMoney(trx, ctx, payment.id);
  },
};

/** Statuses after which a refund's money is back in the balance for good. */
const RETURNED = new Set(['failed', 'canceled']);

/** Records what one refund says: new, or from counted to returned; a returned refund never counts again. */
async function noteRefund(trx: Transaction<Database>, paymentId: number, refund: Stripe.Refund): Promise<void> {
  const counted = !RETURNED.has(refund.status ?? '');
  const status = refund.status ?? 'unknown';
  await trx
    .insertInto('stripe_refunds')
    .values({ id: refund.id, payment_id: paymentId, amount_cents: refund.amount, status, counted })
    .onConflict((oc) =>
      counted
        ? oc.column('id').doNothing()
        : oc.column('id').doUpdateSet({ status, counted: false, updated_at: new Date() }).where('stripe_refunds.counted', '=', true),
    )
    .execute();
}
