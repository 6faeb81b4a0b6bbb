import { type Kysely, sql } from 'kysely';

/**
 * Each Stripe refund of a card payment, by its id: whether its money is out (`counted`: pending,
 * requires_action or succeeded) or came back (failed or canceled, which are final). A refund's
 * state only moves from counted to not counted, so events arriving in any order settle on what
 * Stripe says; the payment's `refunded_cents` (what the ledger has recorded) follows their sum.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table stripe_refunds (
      id text primary key,
      payment_id bigint not null references payments (id),
      amount_cents bigint not null check (amount_cents > 0),
      status text not null,
      counted boolean not null,
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index stripe_refunds_payment_idx on stripe_refunds (payment_id)`.execute(db);
}
