import { sql } from 'kysely';
import Stripe from 'stripe';
import type { Db } from '../db/database';
import { describeError } from './stripe-event-context';
import { RetryLater, type WebhookContext } from './stripe-webhooks';

/**
 * What happens to a Stripe event that could not be applied, and what staff see of it: a failure
 * is due again after a growing delay with its error kept; an event Haven cannot read is held for
 * staff, who have it read again from Stripe's API or set it aside. Part of the queue
 * (stripe-event-queue.ts, its one entry point).
 */

/** Staff see an unprocessed event as failing once it has been tried this many times. */
export const FAILING_AFTER_ATTEMPTS = 3;

/** 2 s, 4 s, 8 s … doubling, capped at an hour; never given up (Stripe itself retries for 3 days). */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(2 * 2 ** Math.max(0, attempts - 1), 3_600);
}

type FailedEvent = { id: string; type: string; attempts: number };

/** An event Haven cannot read (HoldEvent): held for staff with its reason, and not retried. */
export async function holdStripeEvent(ctx: WebhookContext, event: FailedEvent, reason: string): Promise<void> {
  await ctx.db
    .updateTable('stripe_events')
    .set({ held_at: sql<Date>`now()`, held_reason: reason.slice(0, 1_000), last_error: `HoldEvent: ${reason.slice(0, 500)}`, read_from_api: false })
    .where('id', '=', event.id)
    .where('processed_at', 'is', null)
    .execute();
  ctx.logger.warn({ eventId: event.id, eventType: event.type, attempts: event.attempts }, `Stripe event held for staff: ${reason}`);
}

/**
 * A failed event is due again after the backoff, with last_error saved: a missing precondition
 * (RetryLater) or Stripe's rate limit (429) is logged as a warning, anything else as an error.
 */
export async function rescheduleStripeEvent(ctx: WebhookContext, event: FailedEvent, error: unknown): Promise<void> {
  const delay = retryDelaySeconds(event.attempts);
  const { name, code, message } = describeError(error);
  const lastError = `${name}${code ? ` ${code}` : ''}: ${message}`;
  await ctx.db
    .updateTable('stripe_events')
    .set({ last_error: lastError, next_attempt_at: sql<Date>`now() + make_interval(secs => ${delay})` })
    .where('id', '=', event.id)
    .where('processed_at', 'is', null)
    .execute();
  const fields = { eventId: event.id, eventType: event.type, attempts: event.attempts, retryInSeconds: delay };
  if (error instanceof RetryLater) ctx.logger.warn(fields, `Stripe event deferred: ${message}`);
  // Stripe limits requests per second (https://docs.stripe.com/rate-limits): a giving day's reads
  // can meet it. The SDK does not retry a 429 itself; the event comes due again after the backoff.
  else if (error instanceof Stripe.errors.StripeRateLimitError) ctx.logger.warn(fields, `Stripe event deferred: Stripe is limiting Haven's requests (429)`);
  else ctx.logger.error({ ...fields, err: { type: name, code, message, stack: (error as Error).stack } }, `Stripe event failed: ${message}`);
}

export type StripeEventQueueStatus = {
  waiting: number;
  failingCount: number;
  heldCount: number;
  /** The oldest failing events: ids, types, attempts and errors only, never payloads. */
  failing: { id: string; type: string; attempts: number; last_error: string | null; next_attempt_at: Date; received_at: Date }[];
  /** The oldest held events, with why Haven could not read them. */
  held: { id: string; type: string; held_reason: string | null; held_at: Date; received_at: Date }[];
};

/**
 * For staff: events waiting to be applied (held ones apart), those tried FAILING_AFTER_ATTEMPTS
 * times or more, and those held because Haven cannot read them.
 */
export async function stripeEventQueueStatus(db: Db, limit = 20): Promise<StripeEventQueueStatus> {
  const counts = await db
    .selectFrom('stripe_events')
    .select([
      sql<number>`(count(*) filter (where held_at is null))::int`.as('waiting'),
      sql<number>`(count(*) filter (where held_at is null and attempts >= ${FAILING_AFTER_ATTEMPTS}))::int`.as('failing'),
      sql<number>`(count(*) filter (where held_at is not null))::int`.as('held'),
    ])
    .where('processed_at', 'is', null)
    .executeTakeFirstOrThrow();
  const failing = await db
    .selectFrom('stripe_events')
    .select(['id', 'type', 'attempts', 'last_error', 'next_attempt_at', 'received_at'])
    .where('processed_at', 'is', null)
    .where('held_at', 'is', null)
    .where('attempts', '>=', FAILING_AFTER_ATTEMPTS)
    .orderBy('received_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  const held = await db
    .selectFrom('stripe_events')
    .select(['id', 'type', 'held_reason', sql<Date>`held_at`.as('held_at'), 'received_at'])
    .where('processed_at', 'is', null)
    .where('held_at', 'is not', null)
    .orderBy('held_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return { waiting: counts.waiting, failingCount: counts.failing, heldCount: counts.held, failing, held };
}

/** Staff: a held event they have looked into and that needs nothing recorded is marked done, never applied. */
export async function setAsideHeldStripeEvent(db: Db, eventId: string): Promise<boolean> {
  const done = await db
    .updateTable('stripe_events')
    .set({ processed_at: sql<Date>`now()`, last_error: 'Set aside by staff' })
    .where('id', '=', eventId)
    .where('processed_at', 'is', null)
    .where('held_at', 'is not', null)
    .returning('id')
    .executeTakeFirst();
  return done !== undefined;
}

/**
 * Staff: a held event is read again from Stripe's API and applied (once the endpoint's API
 * version is fixed, or whatever held it is resolved). It is due at once; if Haven still cannot
 * read it, it is held again with the new reason.
 */
export async function rereadHeldStripeEvent(db: Db, eventId: string): Promise<boolean> {
  const released = await db
    .updateTable('stripe_events')
    .set({ held_at: null, held_reason: null, read_from_api: true, next_attempt_at: sql<Date>`now()` })
    .where('id', '=', eventId)
    .where('processed_at', 'is', null)
    .where('held_at', 'is not', null)
    .returning('id')
    .executeTakeFirst();
  return released !== undefined;
}
