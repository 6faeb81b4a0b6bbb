import { sql } from 'kysely';
import type Stripe from 'stripe';
import type { Db } from '../db/database';
import { processDueStripeCalls } from './stripe-calls';
import { describeError } from './stripe-event-context';
import { applyStripeEvent, applyStripeEvents, HoldEvent, RetryLater, type WebhookContext } from './stripe-webhooks';

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
 */

/** How long a leased event is left to the process that leased it before another may take it. */
export const LEASE_SECONDS = 30;
/** Events leased by one statement; a few workers apply them. */
const BATCH_SIZE = 64;
/** Workers per process, so PostgreSQL has work while one waits on Stripe or a lock. */
const CONCURRENCY = 4;
/** Events one worker applies in one transaction (applyStripeEvents): one commit, one claim, for the lot. */
const APPLY_BATCH = 16;
/** How often an idle processor looks for due events (retries come due without any nudge). */
const POLL_INTERVAL_MS = 1_000;
/** Staff see an unprocessed event as failing once it has been tried this many times. */
export const FAILING_AFTER_ATTEMPTS = 3;

/** 2 s, 4 s, 8 s … doubling, capped at an hour; never given up (Stripe itself retries for 3 days). */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(2 * 2 ** Math.max(0, attempts - 1), 3_600);
}

type StoredEvent = { id: string; type: string; object_id: string | null; stripe_created_at: Date; payload: string };

function toStoredEvent(event: Stripe.Event, rawBody: string): StoredEvent {
  const object = event.data.object as { id?: unknown };
  return { id: event.id, type: event.type, object_id: typeof object.id === 'string' ? object.id : null, stripe_created_at: new Date(event.created * 1000), payload: rawBody };
}

/** Inserts events that are not stored yet (one statement); returns the ids it inserted. */
async function insertNewEvents(db: Db, rows: StoredEvent[]): Promise<Set<string>> {
  const inserted = await db
    .insertInto('stripe_events')
    .values(rows)
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .execute();
  return new Set(inserted.map((r) => r.id));
}

/** Rows per INSERT at most (payloads are a few kB each). */
const MAX_INBOX_BATCH = 100;

export type StripeEventInbox = { store(event: Stripe.Event, rawBody: string): Promise<boolean> };

/**
 * What POST /webhooks/stripe does before answering: store the event, true when it is new, false
 * for a redelivery. Deliveries that arrive in the same turn of the event loop share one
 * INSERT … ON CONFLICT (id) DO NOTHING RETURNING id (a group commit: each is answered once the
 * statement holding its row has committed), which is most of what lets one process acknowledge
 * over a thousand events a second. Should that statement fail, each row is inserted on its own,
 * so a bad event fails only its own delivery.
 */
export function createStripeEventInbox(db: Db): StripeEventInbox {
  type Waiting = { row: StoredEvent; resolve: (stored: boolean) => void; reject: (error: unknown) => void };
  let waiting: Waiting[] = [];

  const settle = (batch: Waiting[], inserted: Set<string>) => {
    // The same event twice in one batch: the first delivery stored it, the second is a redelivery.
    for (const w of batch) w.resolve(inserted.delete(w.row.id));
  };
  const write = async (batch: Waiting[]) => {
    const rows = [...new Map(batch.map((w) => [w.row.id, w.row])).values()];
    try {
      settle(batch, await insertNewEvents(db, rows));
    } catch {
      for (const row of rows) {
        const mine = batch.filter((w) => w.row.id === row.id);
        await insertNewEvents(db, [row]).then(
          (inserted) => settle(mine, inserted),
          (error: unknown) => mine.forEach((w) => w.reject(error)),
        );
      }
    }
  };
  const flush = () => {
    const batch = waiting;
    waiting = [];
    if (batch.length > 0) void write(batch);
  };

  return {
    store(event, rawBody) {
      return new Promise<boolean>((resolve, reject) => {
        if (waiting.length === 0) setImmediate(flush);
        waiting.push({ row: toStoredEvent(event, rawBody), resolve, reject });
        if (waiting.length >= MAX_INBOX_BATCH) flush();
      });
    },
  };
}

export type LeasedEvent = { id: string; type: string; payload: unknown; attempts: number; read_from_api: boolean };

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

export type EventOutcome = 'applied' | 'already_processed' | 'rescheduled' | 'held';

/**
 * Applies one leased event; on any failure the event is due again after the backoff, with
 * last_error saved: a missing precondition (RetryLater) is a warning, anything else an error.
 * An event Haven cannot read (HoldEvent) is held for staff with its reason, and not retried.
 */
export async function processLeasedEvent(ctx: WebhookContext, leased: LeasedEvent): Promise<EventOutcome> {
  try {
    return await applyStripeEvent(ctx, leased.payload as Stripe.Event, { readFromApi: leased.read_from_api });
  } catch (error) {
    if (error instanceof HoldEvent) {
      await ctx.db
        .updateTable('stripe_events')
        .set({ held_at: sql<Date>`now()`, held_reason: error.message.slice(0, 1_000), last_error: `HoldEvent: ${error.message.slice(0, 500)}`, read_from_api: false })
        .where('id', '=', leased.id)
        .where('processed_at', 'is', null)
        .execute();
      ctx.logger.warn({ eventId: leased.id, eventType: leased.type, attempts: leased.attempts }, `Stripe event held for staff: ${error.message}`);
      return 'held';
    }
    const delay = retryDelaySeconds(leased.attempts);
    const { name, code, message } = describeError(error);
    const lastError = `${name}${code ? ` ${code}` : ''}: ${message}`;
    await ctx.db
      .updateTable('stripe_events')
      .set({ last_error: lastError, next_attempt_at: sql<Date>`now() + make_interval(secs => ${delay})` })
      .where('id', '=', leased.id)
      .where('processed_at', 'is', null)
      .execute();
    const fields = { eventId: leased.id, eventType: leased.type, attempts: leased.attempts, retryInSeconds: delay };
    if (error instanceof RetryLater) ctx.logger.warn(fields, `Stripe event deferred: ${message}`);
    else ctx.logger.error({ ...fields, err: { type: name, code, message, stack: (error as Error).stack } }, `Stripe event failed: ${message}`);
    return 'rescheduled';
  }
}

/**
 * Applies leased events together in one transaction (applyStripeEvents); should that fail for any
 * of them, each is applied on its own (processLeasedEvent), so one event's failure is its own and
 * the others are applied in the same pass, their attempt counted once. Events to be read again
 * from Stripe's API are always applied on their own.
 */
export async function processLeasedEvents(ctx: WebhookContext, leased: LeasedEvent[]): Promise<EventOutcome[]> {
  const together = leased.filter((e) => !e.read_from_api);
  if (together.length > 1) {
    try {
      const outcomes = await applyStripeEvents(ctx, together.map((e) => e.payload as Stripe.Event));
      const alone = await Promise.all(leased.filter((e) => e.read_from_api).map((e) => processLeasedEvent(ctx, e)));
      return [...together.map((e) => outcomes.get(e.id)!), ...alone];
    } catch {
      // Each event on its own below: the one that failed is retried or held, with its error.
    }
  }
  const outcomes: EventOutcome[] = [];
  for (const event of leased) outcomes.push(await processLeasedEvent(ctx, event));
  return outcomes;
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
