import { sql, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema';
import { accounts } from '../ledger/accounts';
import { postTransaction } from '../ledger/ledger';
import { fundOfPayment, lockPaymentByCharge, receiptsFollowMoney, settlePaymentStatus } from './card-payments';
import { type EventEffect, idOf, RetryLater, type WebhookContext } from './stripe-event-context';

/**
 * Disputes (https://docs.stripe.com/disputes/how-disputes-work; the Dispute object,
 * https://docs.stripe.com/api/disputes/object). Every dispute event carries the dispute as it
 * stands, with `balance_transactions`: "zero, one, or two balance transactions that show funds
 * withdrawn and reinstated to your Stripe account as a result of this dispute". Haven posts
 * exactly those, each once by its id, whichever event brings it first:
 * - an inquiry (warning_needs_response, warning_under_review, warning_closed) has none: it moves
 *   no money, and a refund during an inquiry is an ordinary refund;
 * - a chargeback's withdrawal (charge.dispute.created / charge.dispute.funds_withdrawn) takes the
 *   amount from the fund and Stripe's balance, and the dispute fee as an expense;
 * - a reinstatement (charge.dispute.funds_reinstated, when won, also after a lost dispute is won
 *   on appeal) gives the amount back, and the fee back when Stripe returns it (a negative fee).
 * The ledger posting of a balance transaction is stripe +net, fees +fee, fund −amount.
 * Receipts follow: a lost dispute revises the receipt to what remains; funds reinstated restore it.
 */
type DisputeEventType = 'charge.dispute.created' | 'charge.dispute.updated' | 'charge.dispute.funds_withdrawn' | 'charge.dispute.funds_reinstated' | 'charge.dispute.closed';

export const disputeChanged: EventEffect<DisputeEventType> = {
  async apply(trx, ctx, event) {
    await syncDispute(trx, ctx, event.data.object, new Date(event.created * 1000));
  },
};

/**
 * Where a status stands in a dispute's life, to order two reports made in the same second
 * (Stripe's `created` has second precision). An inquiry can escalate, and a lost dispute can be
 * appealed and won, so later stages rank higher.
 */
const STAGE: Record<string, number> = {
  warning_needs_response: 1,
  warning_under_review: 2,
  warning_closed: 3,
  needs_response: 4,
  under_review: 5,
  lost: 6,
  appeal_needs_response: 7,
  appeal_under_review: 8,
  prevented: 9,
  won: 9,
};
const CLOSED = new Set(['warning_closed', 'won', 'lost', 'prevented']);

async function syncDispute(trx: Transaction<Database>, ctx: WebhookContext, dispute: Stripe.Dispute, reportedAt: Date): Promise<void> {
  const chargeId = idOf(dispute.charge);
  const payment = await lockPaymentByCharge(trx, chargeId);
  if (!payment) throw new RetryLater(`dispute ${dispute.id} on charge ${chargeId}, whose payment is not recorded yet`);

  await trx
    .insertInto('stripe_disputes')
    .values({ id: dispute.id, payment_id: payment.id, amount_cents: dispute.amount, status: dispute.status, status_at: reportedAt })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const row = await trx.selectFrom('stripe_disputes').select(['status', 'status_at']).where('id', '=', dispute.id).forUpdate().executeTakeFirstOrThrow();
  const newer = row.status_at === null || reportedAt > row.status_at || (reportedAt.getTime() === row.status_at.getTime() && (STAGE[dispute.status] ?? 0) >= (STAGE[row.status] ?? 0));
  const becameLost = newer && dispute.status === 'lost' && row.status !== 'lost';
  if (newer) {
    await trx
      .updateTable('stripe_disputes')
      .set({ status: dispute.status, status_at: reportedAt, amount_cents: dispute.amount, closed_at: CLOSED.has(dispute.status) ? reportedAt : null })
      .where('id', '=', dispute.id)
      .execute();
  }

  let reinstated = false;
  for (const bt of dispute.balance_transactions) {
    if (await postDisputeBalanceTransaction(trx, dispute.id, payment.id, bt)) reinstated ||= bt.amount > 0;
  }
  const moved = await trx
    .selectFrom('stripe_dispute_balance_transactions')
    .select([sql<number>`coalesce(sum(fee_cents), 0)::bigint`.as('fees'), sql<boolean>`coalesce(bool_or(amount_cents > 0), false)`.as('reinstated')])
    .where('dispute_id', '=', dispute.id)
    .executeTakeFirstOrThrow();
  await trx.updateTable('stripe_disputes').set({ fee_cents: Math.max(0, moved.fees), reversed: moved.reinstated }).where('id', '=', dispute.id).execute();

  const status = await settlePaymentStatus(trx, payment.id);
  // A lost dispute is money the charity no longer holds; funds reinstated are money it holds again.
  if (becameLost || (reinstated && status !== 'disputed')) await receiptsFollowMoney(trx, ctx, payment.id);
}

/** Posts one of a dispute's balance transactions to the ledger, once; true when it was new. */
async function postDisputeBalanceTransaction(trx: Transaction<Database>, disputeId: string, paymentId: number, bt: Stripe.BalanceTransaction): Promise<boolean> {
  const known = await trx.selectFrom('stripe_dispute_balance_transactions').select('id').where('id', '=', bt.id).executeTakeFirst();
  if (known) return false;
  const fund = await fundOfPayment(trx, paymentId);
  const ledgerTransactionId = await postTransaction(trx, {
    kind: bt.amount < 0 ? 'dispute_funds_withdrawn' : 'dispute_funds_reinstated',
    description: `Dispute ${disputeId} on card payment ${paymentId}: balance transaction ${bt.id}`,
    paymentId,
    entries: [
      // Same account order as a gift's posting, so concurrent postings lock balance rows in one order.
      { account: accounts.stripe, amountCents: bt.net },
      { account: accounts.fees(fund), amountCents: bt.fee },
      { account: accounts.fund(fund), amountCents: -bt.amount },
    ],
  });
  await trx
    .insertInto('stripe_dispute_balance_transactions')
    .values({ id: bt.id, dispute_id: disputeId, payment_id: paymentId, amount_cents: bt.amount, fee_cents: bt.fee, net_cents: bt.net, ledger_transaction_id: ledgerTransactionId })
    .execute();
  return true;
}
