import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table donors (
      id bigint generated always as identity primary key,
      email text not null check (char_length(email) between 3 and 254),
      name text not null check (char_length(name) between 1 and 200),
      address_line1 text,
      address_line2 text,
      city text,
      province text,
      postal_code text,
      country text not null default 'CA',
      locale text not null default 'en' check (locale in ('en', 'fr')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create unique index donors_email_key on donors (lower(email))`.execute(db);

  // A pledge is a promise: once (card or pay-later) or monthly, for a number of instalments or open-ended.
  await sql`
    create table pledges (
      id bigint generated always as identity primary key,
      campaign_id bigint not null references campaigns (id),
      donor_id bigint not null references donors (id),
      group_id bigint,
      amount_cents bigint not null check (amount_cents > 0),
      fee_cover_cents bigint not null default 0 check (fee_cover_cents >= 0),
      -- What this pledge promises in total and counts as pledged-but-unpaid until received
      -- (pay-later pledges and fixed-term monthly pledges); null when open-ended.
      committed_cents bigint check (committed_cents > 0),
      frequency text not null check (frequency in ('once', 'monthly')),
      installments integer check (installments between 1 and 120),
      method text not null check (method in ('card', 'cheque', 'etransfer')),
      status text not null default 'pending' check (status in ('pending', 'active', 'fulfilled', 'cancelled', 'lapsed')),
      anonymous boolean not null default false,
      display_name text check (char_length(display_name) <= 80),
      public_message text check (char_length(public_message) <= 280),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (frequency = 'monthly' or installments is null or installments = 1)
    )`.execute(db);
  await sql`create index pledges_donor_idx on pledges (donor_id)`.execute(db);
  await sql`create index pledges_campaign_created_idx on pledges (campaign_id, created_at desc)`.execute(db);

  await sql`
    create table payments (
      id bigint generated always as identity primary key,
      pledge_id bigint not null references pledges (id),
      amount_cents bigint not null check (amount_cents > 0),
      fee_cents bigint not null default 0 check (fee_cents >= 0),
      refunded_cents bigint not null default 0 check (refunded_cents >= 0 and refunded_cents <= amount_cents),
      method text not null check (method in ('card', 'cheque', 'etransfer', 'cash')),
      status text not null default 'succeeded' check (status in ('succeeded', 'refunded', 'partially_refunded', 'disputed')),
      reference text,
      stripe_payment_intent_id text unique,
      stripe_charge_id text unique,
      stripe_invoice_id text unique,
      receiptable boolean not null default true,
      received_at timestamptz not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index payments_pledge_idx on payments (pledge_id)`.execute(db);
  // An offline payment's natural key: the same cheque number or e-transfer reference cannot be recorded twice.
  await sql`create unique index payments_offline_reference_key on payments (method, lower(reference)) where reference is not null`.execute(db);

  // Donor count in O(1): one row per (campaign, donor) on the first gift received, and a
  // sharded counter bumped by trigger so concurrent first gifts do not queue on one row.
  await sql`
    create table campaign_donors (
      campaign_id bigint not null references campaigns (id),
      donor_id bigint not null references donors (id),
      first_gift_at timestamptz not null,
      primary key (campaign_id, donor_id)
    )`.execute(db);
  await sql`
    create table campaign_counters (
      campaign_id bigint not null references campaigns (id),
      shard smallint not null,
      donor_count bigint not null,
      primary key (campaign_id, shard)
    )`.execute(db);
  await sql`
    create function campaign_donors_count() returns trigger language plpgsql as $$
    begin
      insert into campaign_counters (campaign_id, shard, donor_count)
      values (new.campaign_id, pg_backend_pid() % 8, 1)
      on conflict (campaign_id, shard) do update set donor_count = campaign_counters.donor_count + 1;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger campaign_donors_count after insert on campaign_donors
    for each row execute function campaign_donors_count()`.execute(db);
}
