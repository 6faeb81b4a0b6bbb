import type { Db } from '../db/database';
import { endPledge } from '../donations/pledges';
import type { Stripe } from './stripe-client';

export type MonthlyGift = { id: number; status: string; amountCents: number; cancellable: boolean };

export async function findMonthlyGift(db: Db, pledgeId: number): Promise<MonthlyGift | undefined> {
  const row = await db
    .selectFrom('pledges')
    .select(['id', 'status', 'amount_cents', 'fee_cover_cents', 'frequency', 'stripe_subscription_id'])
    .where('id', '=', pledgeId)
    .executeTakeFirst();
  if (!row || row.frequency !== 'monthly') return undefined;
  return {
    id: row.id,
    status: row.status,
    amountCents: row.amount_cents + row.fee_cover_cents,
    cancellable: row.status === 'active' || row.status === 'pending',
  };
}

/**
 * A donor stops their monthly gift (signed link from the confirmation e-mail): Stripe's
 * subscription is cancelled first (idempotency key from the pledge), then the pledge ends.
 * customer.subscription.deleted arriving later changes nothing more.
 */
export async function cancelMonthlyGift(db: Db, stripe: Stripe | undefined, pledgeId: number): Promise<void> {
  const pledge = await db.selectFrom('pledges').select(['id', 'status', 'stripe_subscription_id']).where('id', '=', pledgeId).executeTakeFirst();
  if (!pledge || (pledge.status !== 'active' && pledge.status !== 'pending')) return;
  if (pledge.stripe_subscription_id && stripe) {
    await stripe.subscriptions.cancel(pledge.stripe_subscription_id, {}, { idempotencyKey: `pledge-${pledge.id}-donor-cancel` });
  }
  // The unpaid remainder of a pay-later pledge leaves the pledged total in the same transaction.
  await db.transaction().execute((trx) => endPledge(trx, { pledgeId: pledge.id, status: 'cancelled', at: new Date() }));
}
