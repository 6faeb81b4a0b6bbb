import { type Kysely, sql } from 'kysely';

/**
 * Calls Haven must make to Stripe and must not lose: ending a fixed-term monthly gift at its
 * term (`cancel_at` on the subscription) and stopping a subscription the donor cancelled. Written
 * in the same transaction as the change that needs them (an outbox), then made by the Stripe
 * event processor and retried with backoff until Stripe confirms, however long it is down.
 * One call of each kind per pledge and subscription.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table stripe_calls (
      id bigint generated always as identity primary key,
      kind text not null check (kind in ('end_subscription_at_term', 'cancel_subscription')),
      pledge_id bigint not null references pledges (id),
      subscription_id text not null,
      attempts integer not null default 0 check (attempts >= 0),
      next_attempt_at timestamptz not null default now(),
      last_error text,
      outcome text,
      done_at timestamptz,
      created_at timestamptz not null default now(),
      unique (kind, pledge_id, subscription_id)
    )`.execute(db);
  await sql`create index stripe_calls_due_idx on stripe_calls (next_attempt_at) where done_at is null`.execute(db);
}
