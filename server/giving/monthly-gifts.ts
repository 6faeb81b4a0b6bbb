import type { Db } from '../db/database';
import { endPledge } from './pledges';
import type { Logger } from '../logger';
import { isCancellationPending, processDueStripeCalls, queueStripeCall } from './stripe-calls';
import type { Stripe } from './stripe-client';

/** A monthly gift as its donor sees it: `stopping` while Stripe has not yet confirmed the cancellation. */
export type MonthlyGift = { id: number; status: string; amountCents: number; cancellable: boolean; stopping: boolean };

export async function findMonthlyGift(db: Db, pledgeId: number): Promise<MonthlyGift | undefined> {
  const row = await db
    .selectFrom('pledges')
    .select(['id', 'status', 'amount_cents', 'fee_cover_cents', 'frequency', 'stripe_subscription_id'])
    .where('id', '=', pledgeId)
    .executeTakeFirst();
  if (!row || row.frequency !== 'monthly') return undefined;
  const cancellable = row.status === 'active' || row.status === 'pending';
  return {
    id: row.id,
    status: row.status,
    amountCents: row.amount_cents + row.fee_cover_cents,
    cancellable,
    stopping: !cancellable && (await isCancellationPending(db, row.id)),
  };
}

/** How a donor's cancellation went: stopped at Stripe too, or stopped in Haven with Stripe not yet confirming. */
export type MonthlyGiftCancellation = 'stopped' | 'stopping';

/**
 * A donor stops their monthly gift (the link in their confirmation e-mail). In one transaction the
 * pledge ends and the subscription's cancellation is queued (stripe-calls.ts); then Haven asks
 * Stripe at once. If Stripe fails (a 5xx, a timeout) the donor still sees a clear page and the
 * Stripe event processor keeps asking until Stripe confirms; a subscription Stripe had already
 * cancelled counts as cancelled. Pressing the button twice queues one call.
 */
export async function cancelMonthlyGift(deps: { db: Db; stripe: Stripe | undefined; logger: Logger; config: { publicUrl: string } }, pledgeId: number): Promise<MonthlyGiftCancellation> {
  const callId = await deps.db.transaction().execute(async (trx) => {
    const pledge = await trx.selectFrom('pledges').select(['id', 'status', 'stripe_subscription_id']).where('id', '=', pledgeId).forUpdate().executeTakeFirst();
    if (!pledge) return undefined;
    if (pledge.status !== 'active' && pledge.status !== 'pending') {
      // Already ended (a second press, or Stripe ended it): only a cancellation still waiting on Stripe is worth another try.
      const waiting = await trx.selectFrom('stripe_calls').select('id').where('pledge_id', '=', pledge.id).where('kind', '=', 'cancel_subscription').where('done_at', 'is', null).executeTakeFirst();
      return waiting?.id;
    }
    // Its due instalments are cancelled and any unpaid remainder leaves the pledged total, in this transaction.
    await endPledge(trx, { pledgeId: pledge.id, status: 'cancelled', at: new Date() });
    return pledge.stripe_subscription_id ? queueStripeCall(trx, { kind: 'cancel_subscription', pledgeId: pledge.id, subscriptionId: pledge.stripe_subscription_id }) : undefined;
  });
  if (callId === undefined) return 'stopped';
  if (deps.stripe) await processDueStripeCalls({ db: deps.db, stripe: deps.stripe, logger: deps.logger, publicUrl: deps.config.publicUrl }, { ids: [callId] });
  return (await isCancellationPending(deps.db, pledgeId)) ? 'stopping' : 'stopped';
}
