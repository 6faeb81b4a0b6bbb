import type Stripe from 'stripe';
import type { Db } from '../db/database';

/**
 * Storing verified deliveries (the endpoint's half of the queue, stripe-event-queue.ts): one
 * INSERT shared by the deliveries that arrive together, so the endpoint answers before any effect.
 */

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
