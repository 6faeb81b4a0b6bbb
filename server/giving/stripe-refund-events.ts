import { type Selectable, sql, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database, PaymentsTable } from '../db/schema';
import { accounts } from '../ledger/accounts';
import { postTransactions } from '../ledger/ledger';
import { type ChargeFacts, chargeFactsOfCharge, receiptsFollowMoneyOf, recordCardPayments, settlePaymentStatuses } from './card-payments';
import { type EventEffect, firstOfEachKey, idOf, pledgeIdIn, RetryLater, type WebhookContext } from './stripe-event-context';

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
    if (facts) await applyRefunds(trx, ctx, [facts]);
  },
  async applyAll(trx, ctx, items) {
    // A queue share's refund events together, each charge (and each pledge whose gift is recorded
    // here) once in the lot; a second event for one of them follows through `apply`, in turn.
    const { first: together, rest: after } = firstOfEachKey(
      items.flatMap(({ facts }) => (facts ? [facts] : [])),
      (facts) => [`charge ${facts.chargeId}`, ...(facts.gift ? [`pledge ${facts.pledgeId}`] : [])],
    );
    await applyRefunds(trx, ctx, together);
    for (const facts of after) await applyRefunds(trx, ctx, [facts]);
  },
};

type LockedPayment = Selectable<PaymentsTable> & { group_id: number | null };

/** The payments of these charges, locked, with the fund each belongs to (one statement). */
async function lockPaymentsByCharge(trx: Transaction<Database>, chargeIds: string[]): Promise<Map<string, LockedPayment>> {
  if (chargeIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('payments')
    .innerJoin('pledges', 'pledges.id', 'payments.pledge_id')
    .selectAll('payments')
    .select('pledges.group_id')
    .where('payments.stripe_charge_id', 'in', chargeIds)
    .orderBy('payments.id')
    .forUpdate('payments')
    .execute();
  return new Map(rows.map((r) => [r.stripe_charge_id!, r]));
}

/**
 * The refunds of several charges (each once), in a fixed number of statements however many:
 * the payments are locked (a gift reported only by its refund is recorded first), every refund
 * is noted, and each payment whose refunds now add up to another amount moves the ledger by the
 * difference, its status and receipt following.
 */
async function applyRefunds(trx: Transaction<Database>, ctx: WebhookContext, list: RefundFacts[]): Promise<void> {
  if (list.length === 0) return;
  const chargeIds = list.map((f) => f.chargeId);
  const payments = await lockPaymentsByCharge(trx, chargeIds);
  const unrecorded = list.filter((f) => !payments.has(f.chargeId));
  if (unrecorded.length > 0) {
    const missing = unrecorded.find((f) => !f.pledgeId || !f.gift);
    if (missing) throw new RetryLater(`refund for charge ${missing.chargeId}, whose payment is not recorded yet`);
    // Pledges first, as every path that records card money for them queues on their rows.
    const pledges = await trx
      .selectFrom('pledges')
      .selectAll()
      .where(
        'id',
        'in',
        unrecorded.map((f) => f.pledgeId!),
      )
      .orderBy('id')
      .forUpdate()
      .execute();
    const pledgeOf = new Map(pledges.map((p) => [p.id, p]));
    await recordCardPayments(
      trx,
      unrecorded.flatMap((f) => (pledgeOf.has(f.pledgeId!) ? [{ pledge: pledgeOf.get(f.pledgeId!)!, facts: f.gift! }] : [])),
      null,
    );
    for (const [chargeId, payment] of await lockPaymentsByCharge(
      trx,
      unrecorded.map((f) => f.chargeId),
    ))
      payments.set(chargeId, payment);
    const lost = unrecorded.find((f) => !payments.has(f.chargeId));
    if (lost) throw new RetryLater(`charge ${lost.chargeId} could not be recorded`);
  }
  await noteRefunds(
    trx,
    list.flatMap((f) => f.refunds.map((refund) => ({ paymentId: payments.get(f.chargeId)!.id, refund }))),
  );

  const paymentIds = [...payments.values()].map((p) => p.id);
  const outs = await trx
    .selectFrom('stripe_refunds')
    .select(['payment_id', sql<number>`coalesce(sum(amount_cents) filter (where counted), 0)::bigint`.as('out')])
    .where('payment_id', 'in', paymentIds)
    .groupBy('payment_id')
    .execute();
  const outOf = new Map(outs.map((r) => [r.payment_id, r.out]));
  const moved = [...payments.values()].flatMap((payment) => {
    const refundedCents = Math.min(outOf.get(payment.id) ?? 0, payment.amount_cents);
    const delta = refundedCents - payment.refunded_cents;
    return delta === 0 ? [] : [{ payment, refundedCents, delta }];
  });
  if (moved.length === 0) return;
  await postTransactions(
    trx,
    moved.map(({ payment, delta }) => ({
      kind: delta > 0 ? 'gift_refunded' : 'gift_refund_failed',
      description: delta > 0 ? `Refund of card payment ${payment.id}` : `Failed refund of card payment ${payment.id}: the money came back`,
      paymentId: payment.id,
      entries: [
        { account: accounts.stripe, amountCents: -delta },
        { account: accounts.fund({ groupId: payment.group_id }), amountCents: delta },
      ],
    })),
  );
  const values = sql.join(moved.map((m) => sql`(${m.payment.id}::bigint, ${m.refundedCents}::bigint)`));
  await trx
    .updateTable('payments')
    .from(sql<{ id: number; refunded_cents: number }>`(values ${values})`.as<'v'>(sql.raw('v (id, refunded_cents)')))
    .set((eb) => ({ refunded_cents: eb.ref('v.refunded_cents') }))
    .whereRef('payments.id', '=', 'v.id')
    .execute();
  const movedIds = moved.map((m) => m.payment.id);
  await settlePaymentStatuses(trx, movedIds);
  await receiptsFollowMoneyOf(trx, ctx, movedIds);
}

/** Statuses after which a refund's money is back in the balance for good. */
const RETURNED = new Set(['failed', 'canceled']);

/**
 * Records what each refund says (one statement): new, or from counted to returned; a returned
 * refund never counts again. A refund listed twice is noted once.
 */
async function noteRefunds(trx: Transaction<Database>, notes: { paymentId: number; refund: Stripe.Refund }[]): Promise<void> {
  const byId = new Map(notes.map((n) => [n.refund.id, n]));
  if (byId.size === 0) return;
  await trx
    .insertInto('stripe_refunds')
    .values(
      [...byId.values()].map(({ paymentId, refund }) => ({
        id: refund.id,
        payment_id: paymentId,
        amount_cents: refund.amount,
        status: refund.status ?? 'unknown',
        counted: !RETURNED.has(refund.status ?? ''),
      })),
    )
    // Only counted → returned changes a refund already noted (a returned one stays returned).
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ status: (eb) => eb.ref('excluded.status'), counted: false, updated_at: new Date() })
        .where('stripe_refunds.counted', '=', true)
        .where('excluded.counted', '=', false),
    )
    .execute();
}
