import { sql } from 'kysely';
import type { Db } from '../db/database';
import { processDueStripeCalls } from './stripe-calls';
import { type LeasedEvent, processLeasedEvents } from './stripe-event-apply';
import { describeError } from './stripe-event-context';
import type { WebhookContext } from './stripe-webhooks';

export { createStripeEventInbox, type StripeEventInbox } from './stripe-event-inbox';
export { type EventOutcome, type LeasedEvent, processLeasedEvent, processLeasedEvents } from './stripe-event-apply';
export {
  FAILING_AFTER_ATTEMPTS,
  rereadHeldStripeEvent,
  retryDelaySeconds,
  setAsideHeldStripeEvent,
  stripeEventQueueStatus,
  type StripeEventQueueStatus,
} from './stripe-event-failures';

/**
 * Stripe events wait in `stripe_events` until their effect is applied (Stripe asks endpoints to
 * answer before any complex logic). The endpoint stores a verified event (one INSERT, shared by
 * the deliveries that arrive together: createStripeEventInbox) and nudges the processor. The
 * processor leases due events in batches (FOR UPDATE SKIP LOCKED; the lease pushes
 * next_attempt_at ahead and counts an attempt); a few workers each apply a share of them in one
 * transaction (applyStripeEvents: one commit for up to APPLY_BATCH events, the events' rows locked
 * and those already processed skipped), or each in its own when that fails (applyStripeEvent),
 * and a failure is rescheduled with backoff. Safe with several app processes, and after a crash: a
 * dead process's lease expires and another pass applies the event, once.
 *
 * This file is the queue's one entry point: leasing and the processor loop here; storing deliveries
 * in stripe-event-inbox.ts, applying a share in stripe-event-apply.ts, retries, held events and
 * what staff see in stripe-event-failures.ts.
 */

/** How long a leased event is left to the process that leased it before another may take it. */
export const LEASE_SECONDS = 30;
/** Events leased by one statement; a few workers apply them. */
const BATCH_SIZE = 256;
/** Workers per process, so PostgreSQL has work while one waits on Stripe or a lock. */
const CONCURRENCY = 4;
/**
 * Events one worker applies in one transaction at most (applyStripeEvents): one claim, one
 * commit and a few statements for a share's card gifts, however many. A share is a fair part of
 * what is leased, so shares grow with the queue's depth (a trickle is still spread over the workers).
 */
const APPLY_BATCH = 64;
/** How often an idle processor looks for due events (retries come due without any nudge). */
const POLL_INTERVAL_MS = 1_000;

/** Leases up to `limit` due, unprocessed events for LEASE_SECONDS (one statement), counting an attempt for each. */
export async function leaseDueStripeEvents(db: Db, limit: number): Promise<LeasedEvent[]> {
  return db
    .updateTable('stripe_events')
    .set({ attempts: sql<number>`attempts + 1`, next_attempt_at: sql<Date>`now() + make_interval(secs => ${LEASE_SECONDS})` })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('stripe_events')
        .select('id')
        .where('processed_at', 'is', null)
        .where('held_at', 'is', null)
        .where('next_attempt_at', '<=', sql<Date>`now()`)
        .orderBy('next_attempt_at')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(['id', 'type', 'payload', 'attempts', 'read_from_api'])
    .execute();
}

/** Leased events this process will not get to (it is stopping): due again at once, the attempt not counted. */
async function releaseLeases(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('stripe_events')
    .set({ attempts: sql<number>`greatest(attempts - 1, 0)`, next_attempt_at: sql<Date>`now()` })
    .where('id', 'in', ids)
    .where('processed_at', 'is', null)
    .execute();
}

export type ProcessOptions = { concurrency?: number; batchSize?: number; applyBatch?: number; shouldStop?: () => boolean };

/**
 * One pass: leases and applies due events, `concurrency` at a time, until none is due (or
 * shouldStop says so; leased events not started are released). Returns how many it handled.
 */
export async function processDueStripeEvents(ctx: WebhookContext, options: ProcessOptions = {}): Promise<number> {
  const { concurrency = CONCURRENCY, batchSize = BATCH_SIZE, applyBatch = APPLY_BATCH, shouldStop = () => false } = options;
  const leased: LeasedEvent[] = [];
  let exhausted = false;
  let leasing: Promise<void> | undefined;
  let handled = 0;

  /** The next events for one worker: a fair share of what is leased, at most applyBatch. */
  const next = async (): Promise<LeasedEvent[]> => {
    while (leased.length === 0 && !exhausted && !shouldStop()) {
      leasing ??= leaseDueStripeEvents(ctx.db, batchSize)
        .then((rows) => {
          leased.push(...rows);
          if (rows.length === 0) exhausted = true;
        })
        .finally(() => (leasing = undefined));
      await leasing;
    }
    if (shouldStop()) return [];
    return leased.splice(0, Math.max(1, Math.min(applyBatch, Math.ceil(leased.length / concurrency))));
  };
  const worker = async () => {
    for (let events = await next(); events.length > 0; events = await next()) {
      await processLeasedEvents(ctx, events);
      handled += events.length;
    }
  };
  const results = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  await releaseLeases(ctx.db, leased.splice(0).map((e) => e.id));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return handled;
}

/** One pass of the processor: the events that are due, then the calls to Stripe they (or donors) queued. */
async function processDueStripeWork(ctx: WebhookContext, options: ProcessOptions): Promise<number> {
  const events = await processDueStripeEvents(ctx, options);
  return events + (await processDueStripeCalls(ctx, { shouldStop: options.shouldStop }));
}

export type StripeEventProcessor = {
  /** Runs passes (due events, then due calls to Stripe) in the background: woken by nudge() and every POLL_INTERVAL_MS. */
  start(): void;
  /** Something may be due (the endpoint stored an event): run a pass soon. Never waits. */
  nudge(): void;
  /** No new pass; waits for the events in flight (leased ones not started are released). */
  stop(): Promise<void>;
  /** Applies everything due now, and waits for a background pass in progress; tests and tools use it. */
  drain(): Promise<number>;
};

export function createStripeEventProcessor(ctx: WebhookContext, options: Omit<ProcessOptions, 'shouldStop'> & { intervalMs?: number } = {}): StripeEventProcessor {
  let stopping = false;
  let wanted = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let loop: Promise<void> | undefined;
  let pass: Promise<unknown> | undefined;

  const nudge = () => {
    wanted = true;
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const run = async () => {
    while (!stopping) {
      wanted = false;
      pass = processDueStripeWork(ctx, { ...options, shouldStop: () => stopping }).catch((error: unknown) => {
        const { name, code, message } = describeError(error);
        ctx.logger.warn({ err: { type: name, code, message } }, `Stripe event queue pass failed: ${message}`);
      });
      await pass;
      pass = undefined;
      if (!wanted && !stopping) await new Promise<void>((resolve) => (wake = resolve));
    }
  };

  return {
    start() {
      if (loop || stopping) return;
      timer = setInterval(nudge, options.intervalMs ?? POLL_INTERVAL_MS);
      timer.unref();
      loop = run();
    },
    nudge,
    async stop() {
      stopping = true;
      clearInterval(timer);
      nudge();
      await loop;
    },
    async drain() {
      const handled = await processDueStripeWork(ctx, options);
      await pass;
      return handled;
    },
  };
}
