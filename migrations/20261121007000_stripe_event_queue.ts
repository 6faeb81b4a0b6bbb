import { type Kysely, sql } from 'kysely';

/**
 * Stripe webhook events become a queue: the endpoint only stores a verified event and answers;
 * a processor applies it later (server/giving/stripe-event-queue.ts). `attempts` counts leases,
 * `next_attempt_at` is when it is next due (pushed ahead while leased, and by the backoff after a
 * failure), `last_error` says why the last attempt failed (ids and messages only).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table stripe_events
      add column processed_at timestamptz,
      add column attempts integer not null default 0 check (attempts >= 0),
      add column next_attempt_at timestamptz not null default now(),
      add column last_error text`.execute(db);
  // Every event stored until now had its effect applied in the transaction that stored it.
  await sql`update stripe_events set processed_at = received_at`.execute(db);
  // The processor's scan: unprocessed events, oldest due first.
  await sql`create index stripe_events_due_idx on stripe_events (next_attempt_at) where processed_at is null`.execute(db);
}
