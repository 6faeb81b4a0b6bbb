import { type Kysely, sql } from 'kysely';

/**
 * Official donation receipts (CRA). A receipt is issued only for payments received; its
 * serial comes from a sequence, so it is unique and never repeats, even under concurrent
 * issuing. Issued receipts are immutable: the only change allowed is being cancelled (a
 * replacement, stating the serial it replaces, is a new row). A payment is covered by at most
 * one receipt in force, enforced by a partial unique index.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // null: the default (annual for donors who give monthly, otherwise one receipt per gift).
  await sql`alter table donors add column receipt_frequency text check (receipt_frequency in ('per_gift', 'annual'))`.execute(db);

  await sql`create sequence receipt_serial_seq as bigint start with 1 no cycle`.execute(db);

  await sql`
    create table receipts (
      id bigint generated always as identity primary key,
      serial text not null unique,
      donor_id bigint not null references donors (id),
      frequency text not null check (frequency in ('per_gift', 'annual')),
      tax_year integer not null check (tax_year between 2000 and 2100),
      amount_cents bigint not null check (amount_cents > 0),
      advantage_cents bigint not null default 0 check (advantage_cents >= 0),
      advantage_description text,
      eligible_amount_cents bigint not null,
      received_from date not null,
      received_to date not null,
      issued_at timestamptz not null default now(),
      -- The donor as receipted, kept so a copy downloaded later reads exactly as issued.
      donor_name text not null,
      donor_address text not null,
      locale text not null check (locale in ('en', 'fr')),
      -- The charity and signatory as configured at issue: a copy downloaded years later reads the same.
      charity_name text not null,
      charity_address text not null,
      charity_registration_number text not null,
      place_of_issue text not null,
      signatory_name text not null,
      signatory_title text not null,
      status text not null default 'issued' check (status in ('issued', 'cancelled')),
      cancelled_at timestamptz,
      cancel_reason text,
      replaces_receipt_id bigint unique references receipts (id),
      download_token_hash text not null unique,
      check (eligible_amount_cents = amount_cents - advantage_cents and eligible_amount_cents >= 0),
      check (received_from <= received_to),
      check ((status = 'cancelled') = (cancelled_at is not null))
    )`.execute(db);
  await sql`create index receipts_donor_idx on receipts (donor_id, tax_year)`.execute(db);
  await sql`create index receipts_issued_idx on receipts (issued_at desc, id desc)`.execute(db);
  // One annual receipt in force per donor and tax year.
  await sql`create unique index receipts_annual_key on receipts (donor_id, tax_year) where frequency = 'annual' and status = 'issued'`.execute(db);

  await sql`
    create table receipt_payments (
      receipt_id bigint not null references receipts (id),
      payment_id bigint not null references payments (id),
      amount_cents bigint not null check (amount_cents > 0),
      in_force boolean not null default true,
      primary key (receipt_id, payment_id)
    )`.execute(db);
  // A payment is receipted at most once at a time.
  await sql`create unique index receipt_payments_in_force_key on receipt_payments (payment_id) where in_force`.execute(db);

  // Receipts are records: only cancellation may change a row, once.
  await sql`
    create function receipts_refuse_change() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        raise exception 'receipts are kept; cancel instead' using errcode = '55000';
      end if;
      if old.status <> 'issued' or new.status <> 'cancelled'
         or (to_jsonb(new) - array['status', 'cancelled_at', 'cancel_reason']) <> (to_jsonb(old) - array['status', 'cancelled_at', 'cancel_reason']) then
        raise exception 'an issued receipt cannot be altered, only cancelled' using errcode = '55000';
      end if;
      return new;
    end $$`.execute(db);
  await sql`
    create trigger receipts_immutable before update or delete on receipts
    for each row execute function receipts_refuse_change()`.execute(db);
  await sql`
    create function receipt_payments_refuse_change() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' or not old.in_force or new.in_force
         or (new.receipt_id, new.payment_id, new.amount_cents) is distinct from (old.receipt_id, old.payment_id, old.amount_cents) then
        raise exception 'receipt lines cannot be altered, only taken out of force' using errcode = '55000';
      end if;
      return new;
    end $$`.execute(db);
  await sql`
    create trigger receipt_payments_immutable before update or delete on receipt_payments
    for each row execute function receipt_payments_refuse_change()`.execute(db);
}
