import { sql, type Transaction } from 'kysely';
import Stripe from 'stripe';
import type { Db } from '../db/database';
import type { Database, StripeCallKind } from '../db/schema';
import { idempotencyPrefix } from './stripe-client';
import { describeError, type WebhookContext } from './stripe-event-context';

/**
 * Calls to Stripe that Haven must not lose, kept in PostgreSQL like an outbox: written in the
 * same transaction as the change that needs them, made by the Stripe event processor after it,
 * and retried until Stripe confirms, for as long as it takes.
 * - `end_subscription_at_term`: a monthly gift for N months sets its subscription's `cancel_at`
 *   to the end of the Nth monthly period, right after Checkout completes, so Stripe ends it by
 *   itself (https://docs.stripe.com/api/subscriptions/update#update_subscription-cancel_at;
 *   periods start at `billing_cycle_anchor`, month after month,
 *   https://docs.stripe.com/billing/subscriptions/billing-cycle). Set at a period's end, with
 *   `proration_behavior: none`, nothing is prorated and no further invoice is made.
 * - `cancel_subscription`: the donor stopped the gift; a subscription Stripe already cancelled
 *   (cancelling it again is `resource_missing`) counts as done.
 * Stripe keeps the first answer for an idempotency key, 500s included
 * (https://docs.stripe.com/api/idempotent_requests): each attempt has its own key, which is safe
 * because both calls say where the subscription must end up rather than add anything.
 */

/** 2 s, 4 s, 8 s … doubling, at most 5 minutes apart: an end date or a cancellation is time-sensitive. Never given up. */
export function stripeCallRetryDelaySeconds(attempts: number): number {
  return Math.min(2 * 2 ** Math.max(0, attempts - 1), 300);
}

const LEASE_SECONDS = 60;
/** Staff see a call as failing once it has been tried this many times. */
export const CALL_FAILING_AFTER_ATTEMPTS = 3;

/** Queues a call (once per kind, pledge and subscription); returns its id. */
export async function queueStripeCall(trx: Transaction<Database>, call: { kind: StripeCallKind; pledgeId: number; subscriptionId: string }): Promise<number> {
  const inserted = await trx
    .insertInto('stripe_calls')
    .values({ kind: call.kind, pledge_id: call.pledgeId, subscription_id: call.subscriptionId })
    .onConflict((oc) => oc.columns(['kind', 'pledge_id', 'subscription_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return inserted.id;
  const existing = await trx
    .selectFrom('stripe_calls')
    .select('id')
    .where('kind', '=', call.kind)
    .where('pledge_id', '=', call.pledgeId)
    .where('subscription_id', '=', call.subscriptionId)
    .executeTakeFirstOrThrow();
  return existing.id;
}

/** True once Stripe has confirmed the call. */
export async function isStripeCallDone(db: Db, callId: number): Promise<boolean> {
  const row = await db.selectFrom('stripe_calls').select('done_at').where('id', '=', callId).executeTakeFirst();
  return row?.done_at != null;
}

/** Whether a pledge still waits for Stripe to confirm that its subscription is cancelled. */
export async function isCancellationPending(db: Db, pledgeId: number): Promise<boolean> {
  const row = await db.selectFrom('stripe_calls').select('id').where('pledge_id', '=', pledgeId).where('kind', '=', 'cancel_subscription').where('done_at', 'is', null).executeTakeFirst();
  return row !== undefined;
}

type LeasedCall = { id: number; kind: StripeCallKind; pledge_id: number; subscription_id: string; attempts: number };

async function leaseDueStripeCalls(db: Db, limit: number, ids?: number[]): Promise<LeasedCall[]> {
  return db
    .updateTable('stripe_calls')
    .set({ attempts: sql<number>`attempts + 1`, next_attempt_at: sql<Date>`now() + make_interval(secs => ${LEASE_SECONDS})` })
    .where('id', 'in', (eb) => {
      let due = eb
        .selectFrom('stripe_calls')
        .select('id')
        .where('done_at', 'is', null)
        .where('next_attempt_at', '<=', sql<Date>`now()`)
        .orderBy('next_attempt_at')
        .limit(limit)
        .forUpdate()
        .skipLocked();
      if (ids) due = due.where('id', 'in', ids);
      return due;
    })
    .returning(['id', 'kind', 'pledge_id', 'subscription_id', 'attempts'])
    .execute();
}

/** The end of a monthly subscription's Nth period: N calendar months after its anchor, in UTC, on the anchor's day or the month's last. */
export function endOfMonthlyTerm(anchorSeconds: number, months: number): number {
  const anchor = new Date(anchorSeconds * 1000);
  const end = new Date(anchor.getTime());
  end.setUTCDate(1);
  end.setUTCMonth(anchor.getUTCMonth() + months);
  const daysInMonth = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() + 1, 0)).getUTCDate();
  end.setUTCDate(Math.min(anchor.getUTCDate(), daysInMonth));
  return end.getTime() / 1000;
}

function isMissing(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'resource_missing';
}

/** What making calls needs: the database, Stripe, and somewhere to log why a call failed. */
export type StripeCallContext = Pick<WebhookContext, 'db' | 'stripe' | 'logger' | 'publicUrl'>;

/** Makes one call; returns what it came to (kept as the call's outcome). Throws when Stripe did not confirm. */
async function makeCall(ctx: StripeCallContext, call: LeasedCall): Promise<string> {
  const idempotencyKey = `${await idempotencyPrefix(ctx)}-stripe-call-${call.id}-attempt-${call.attempts}`;
  if (call.kind === 'cancel_subscription') {
    try {
      await ctx.stripe.subscriptions.cancel(call.subscription_id, {}, { idempotencyKey });
      return 'cancelled';
    } catch (error) {
      if (!isMissing(error)) throw error;
      // Cancelling a cancelled subscription is resource_missing: check it really has ended.
      const subscription = await ctx.stripe.subscriptions.retrieve(call.subscription_id).catch((e: unknown) => (isMissing(e) ? undefined : Promise.reject(e)));
      if (subscription && subscription.status !== 'canceled' && subscription.status !== 'incomplete_expired') throw error;
      return 'was already cancelled';
    }
  }
  const pledge = await ctx.db.selectFrom('pledges').select(['installments', 'frequency']).where('id', '=', call.pledge_id).executeTakeFirstOrThrow();
  if (pledge.frequency !== 'monthly' || !pledge.installments) return 'not a fixed-term gift';
  const subscription = await ctx.stripe.subscriptions.retrieve(call.subscription_id);
  if (subscription.status === 'canceled' || subscription.status === 'incomplete_expired') return 'had already ended';
  const cancelAt = endOfMonthlyTerm(subscription.billing_cycle_anchor, pledge.installments);
  if (subscription.cancel_at !== cancelAt) {
    await ctx.stripe.subscriptions.update(call.subscription_id, { cancel_at: cancelAt, proration_behavior: 'none' }, { idempotencyKey });
  }
  return `cancel_at ${cancelAt}`;
}

export type CallOutcome = 'done' | 'rescheduled';

async function processLeasedCall(ctx: StripeCallContext, call: LeasedCall): Promise<CallOutcome> {
  try {
    const outcome = await makeCall(ctx, call);
    await ctx.db.updateTable('stripe_calls').set({ done_at: sql<Date>`now()`, outcome, last_error: null }).where('id', '=', call.id).execute();
    return 'done';
  } catch (error) {
    const delay = stripeCallRetryDelaySeconds(call.attempts);
    const { name, code, message } = describeError(error);
    const status = (error as { statusCode?: unknown }).statusCode;
    const lastError = `${name}${code ? ` ${code}` : ''}${typeof status === 'number' ? ` (HTTP ${status})` : ''}: ${message}`;
    await ctx.db
      .updateTable('stripe_calls')
      .set({ last_error: lastError, next_attempt_at: sql<Date>`now() + make_interval(secs => ${delay})` })
      .where('id', '=', call.id)
      .execute();
    ctx.logger.warn({ callId: call.id, kind: call.kind, pledgeId: call.pledge_id, attempts: call.attempts, retryInSeconds: delay }, `Stripe call failed, will retry: ${message}`);
    return 'rescheduled';
  }
}

/**
 * Makes every call that is due (one at a time: they are few, and each waits on Stripe); returns
 * how many it handled. `ids` limits the pass to these calls (a donor waiting on the page).
 */
export async function processDueStripeCalls(ctx: StripeCallContext, options: { ids?: number[]; shouldStop?: () => boolean } = {}): Promise<number> {
  let handled = 0;
  for (let batch = await leaseDueStripeCalls(ctx.db, 8, options.ids); batch.length > 0; batch = await leaseDueStripeCalls(ctx.db, 8, options.ids)) {
    for (const call of batch) {
      if (options.shouldStop?.()) {
        await ctx.db.updateTable('stripe_calls').set({ attempts: sql<number>`greatest(attempts - 1, 0)`, next_attempt_at: sql<Date>`now()` }).where('id', '=', call.id).execute();
        continue;
      }
      await processLeasedCall(ctx, call);
      handled += 1;
    }
    if (options.shouldStop?.() || options.ids) break;
  }
  return handled;
}

export type StripeCallStatus = {
  waiting: number;
  failing: { id: number; kind: StripeCallKind; subscription_id: string; attempts: number; last_error: string | null; next_attempt_at: Date }[];
};

/** For staff: calls not yet confirmed by Stripe, and those tried CALL_FAILING_AFTER_ATTEMPTS times or more. */
export async function stripeCallStatus(db: Db, limit = 20): Promise<StripeCallStatus> {
  const { waiting } = await db.selectFrom('stripe_calls').select(sql<number>`count(*)::int`.as('waiting')).where('done_at', 'is', null).executeTakeFirstOrThrow();
  const failing = await db
    .selectFrom('stripe_calls')
    .select(['id', 'kind', 'subscription_id', 'attempts', 'last_error', 'next_attempt_at'])
    .where('done_at', 'is', null)
    .where('attempts', '>=', CALL_FAILING_AFTER_ATTEMPTS)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return { waiting, failing };
}
