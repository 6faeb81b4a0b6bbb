import { type Kysely, sql } from 'kysely';

/**
 * Disputes move money only through their balance transactions (Stripe's Dispute object lists
 * "zero, one, or two balance transactions that show funds withdrawn and reinstated"): an
 * inquiry has none, a chargeback one when the funds are withdrawn and a second if they are
 * reinstated. Each is posted to the ledger once, keyed by its id. `status_at` is when Stripe
 * reported the dispute's current status (the event's `created`), so an older event arriving late
 * never puts an earlier status back.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table stripe_disputes add column status_at timestamptz`.execute(db);
  await sql`
    create table stripe_dispute_balance_transactions (
      id text primary key,
      dispute_id text not null references stripe_disputes (id),
      payment_id bigint not null references payments (id),
      amount_cents bigint not null,
      fee_cents bigint not null,
      net_cents bigint not null,
      ledger_transaction_id bigint not null references ledger_transactions (id),
      created_at timestamptz not null default now(),
      check (net_cents = amount_cents - fee_cents)
    )`.execute(db);
  await sql`create index stripe_dispute_balance_transactions_payment_idx on stripe_dispute_balance_transactions (payment_id)`.execute(db);
}
