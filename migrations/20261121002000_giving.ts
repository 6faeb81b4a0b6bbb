import { type Kysely, sql } from 'kysely';

/**
 * Giving: Stripe Checkout state on pledges, instalments (pay-later schedules and paid or failed
 * Stripe invoices), Stripe webhook events (de-duplication) and disputes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table pledges add column stripe_checkout_session_id text unique`.execute(db);
  await sql`alter table pledges add column stripe_subscription_id text unique`.execute(db);
  await sql`alter table pledges add column stripe_customer_id text`.execute(db);
  // The donor agreed to show their display name and message on the donor wall.
  await sql`alter table pledges add column wall_consent boolean not null default false`.execute(db);
  await sql`alter table pledges add column ended_at timestamptz`.execute(db);
  await sql`create index pledges_status_idx on pledges (status, id desc)`.execute(db);

  // Every delivered event, stored before its effect in the same transaction: the primary key de-duplicates.
  await sql`
    create table stripe_events (
      id text primary key,
      type text not null,
      object_id text,
      stripe_created_at timestamptz not null,
      received_at timestamptz not null default now(),
      payload jsonb not null
    )`.execute(db);

  // One row per expected or actual instalment. Pay-later: created with the pledge (status due);
  // card: one per Stripe invoice, keyed by the invoice id, paid or failed.
  await sql`
    create table pledge_installments (
      id bigint generated always as identity primary key,
      pledge_id bigint not null references pledges (id),
      seq integer not null check (seq >= 1),
      due_on date not null,
      amount_cents bigint not null check (amount_cents > 0),
      status text not null default 'due' check (status in ('due', 'paid', 'failed', 'cancelled')),
      payment_id bigint unique references payments (id),
      stripe_invoice_id text unique,
      reminded_at timestamptz,
      unique (pledge_id, seq)
    )`.execute(db);
  await sql`create index pledge_installments_due_idx on pledge_installments (due_on) where status = 'due'`.execute(db);

  // A dispute moves money once when opened and, if won, once more when closed.
  await sql`
    create table stripe_disputes (
      id text primary key,
      payment_id bigint not null references payments (id),
      amount_cents bigint not null check (amount_cents > 0),
      fee_cents bigint not null default 0 check (fee_cents >= 0),
      status text not null,
      reversed boolean not null default false,
      opened_at timestamptz not null default now(),
      closed_at timestamptz
    )`.execute(db);

}
