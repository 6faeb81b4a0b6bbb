import { type Kysely, sql } from 'kysely';

/**
 * Stripe payouts to the charity's bank, recorded from `payout.paid` (stripe → bank in the ledger)
 * and, should the bank return one, reversed by `payout.failed`. Keyed by Stripe's payout id, so a
 * repeated or reordered event moves money once. The staff reconciliation page reads them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table stripe_payouts (
      id text primary key check (id ~ '^po_[A-Za-z0-9]+$'),
      amount_cents bigint not null check (amount_cents > 0),
      currency text not null,
      arrival_on date not null,
      status text not null check (status in ('paid', 'failed')),
      paid_transaction_id bigint references ledger_transactions (id),
      failed_transaction_id bigint references ledger_transactions (id),
      recorded_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index stripe_payouts_arrival_idx on stripe_payouts (arrival_on)`.execute(db);
}
