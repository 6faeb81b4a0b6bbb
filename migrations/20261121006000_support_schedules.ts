import { type Kysely, sql } from 'kysely';

/**
 * A matched family's support schedule after arrival: payees (adults, each paid into their own
 * account), instalments (start-up and monthly income support), disbursements against them
 * (each a ledger transaction), and the events that change the schedule.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table support_schedules (
      id bigint generated always as identity primary key,
      family_id bigint not null unique references families (id),
      group_id bigint not null references sponsor_groups (id),
      arrival_on date not null,
      months integer not null default 12 check (months between 1 and 36),
      status text not null default 'active' check (status in ('active', 'self_sufficient', 'ended')),
      rate_source text not null check (rate_source in ('cost_table', 'community')),
      cost_edition_on date,
      annual_income_support_cents bigint not null check (annual_income_support_cents >= 0),
      startup_cents bigint not null check (startup_cents >= 0),
      created_by bigint not null,
      created_at timestamptz not null default now(),
      check (rate_source = 'community' or cost_edition_on is not null)
    )`.execute(db);
  await sql`create index support_schedules_group_idx on support_schedules (group_id)`.execute(db);

  // Payees are labelled, never named: names stay in the encrypted family identity.
  await sql`
    create table schedule_payees (
      id bigint generated always as identity primary key,
      schedule_id bigint not null references support_schedules (id),
      position integer not null check (position >= 1),
      label text not null check (char_length(label) between 1 and 60),
      unique (schedule_id, position)
    )`.execute(db);

  await sql`
    create table schedule_installments (
      id bigint generated always as identity primary key,
      schedule_id bigint not null references support_schedules (id),
      payee_id bigint not null references schedule_payees (id),
      kind text not null check (kind in ('startup', 'monthly')),
      month_index integer not null check (month_index between 0 and 36),
      due_on date not null,
      amount_cents bigint not null check (amount_cents >= 0),
      paid_cents bigint not null default 0 check (paid_cents >= 0),
      status text not null default 'due' check (status in ('due', 'partly_paid', 'paid', 'skipped')),
      skip_reason text,
      reminded_at timestamptz,
      unique (schedule_id, payee_id, kind, month_index),
      check (status <> 'skipped' or skip_reason is not null)
    )`.execute(db);
  await sql`create index schedule_installments_open_idx on schedule_installments (due_on) where status in ('due', 'partly_paid')`.execute(db);
  await sql`create index schedule_installments_schedule_idx on schedule_installments (schedule_id, due_on)`.execute(db);

  await sql`
    create table disbursements (
      id bigint generated always as identity primary key,
      installment_id bigint not null references schedule_installments (id),
      amount_cents bigint not null check (amount_cents > 0),
      paid_on date not null,
      method text not null check (method in ('direct_deposit', 'etransfer', 'cheque', 'cash')),
      reference text check (char_length(reference) <= 80),
      ledger_transaction_id bigint not null references ledger_transactions (id),
      recorded_by bigint not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index disbursements_installment_idx on disbursements (installment_id)`.execute(db);

  await sql`
    create table schedule_events (
      id bigint generated always as identity primary key,
      schedule_id bigint not null references support_schedules (id),
      kind text not null check (kind in ('arrived', 'disbursed', 'skipped', 'earnings_reported', 'self_sufficient', 'resumed',
        'extension_requested', 'extension_approved', 'extension_declined')),
      months integer,
      amount_cents bigint,
      effective_on date,
      reason text check (char_length(reason) <= 1000),
      status text check (status in ('pending', 'approved', 'declined')),
      actor_user_id bigint,
      at timestamptz not null default now()
    )`.execute(db);
  await sql`create index schedule_events_schedule_idx on schedule_events (schedule_id, at)`.execute(db);
}
