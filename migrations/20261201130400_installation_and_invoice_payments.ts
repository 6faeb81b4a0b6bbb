import { type Kysely, sql } from 'kysely';

/**
 * - `installation`: one row, a random id made when the database is: it namespaces the
 *   idempotency keys Haven sends to Stripe. Keys belong to the Stripe account, whoever sends
 *   them, so two installations on one account (staging beside production) must never send the
 *   same key for different requests.
 * - An invoice can be paid by several invoice payments (partial payments, since 2025-03-31.basil):
 *   each is its own payment row naming the invoice, so payments.stripe_invoice_id is no longer unique.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table installation (
      singleton boolean primary key default true check (singleton),
      id uuid not null default gen_random_uuid(),
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`insert into installation default values`.execute(db);
  await sql`alter table payments drop constraint payments_stripe_invoice_id_key`.execute(db);
  await sql`create index payments_stripe_invoice_idx on payments (stripe_invoice_id) where stripe_invoice_id is not null`.execute(db);
}
