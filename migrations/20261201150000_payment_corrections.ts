import { type Kysely, sql } from 'kysely';

/**
 * Staff corrections of offline payments (issue 15), and the dates and advantages they carry.
 *
 * - `received_on`: the calendar date staff typed for an offline payment (a date, not an instant);
 *   null when the instant is the fact (card payments: Stripe's `received_at`). Offline payments stored until
 *   now were kept at 12:00 UTC of the typed date, so that date is recovered exactly.
 * - `advantage_cents` / `advantage_description`: what the donor received in return (CRA), so the
 *   receipt's eligible amount is the gift less it.
 * - A voided payment stays, marked `voided` with its reason; a corrected one is voided and its
 *   replacement names it in `corrects_payment_id`. The ledger keeps both postings and the reversal.
 *   The cheque number stays unique among payments in force only.
 * - The donor count can go down (a donor whose only gift was voided).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table payments
      add column received_on date,
      add column advantage_cents bigint not null default 0,
      add column advantage_description text,
      add column voided_at timestamptz,
      add column void_reason text,
      add column corrects_payment_id bigint unique references payments (id)`.execute(db);
  await sql`update payments set received_on = (received_at at time zone 'UTC')::date where method <> 'card'`.execute(db);
  await sql`alter table payments drop constraint payments_status_check`.execute(db);
  await sql`
    alter table payments
      add constraint payments_status_check check (status in ('succeeded', 'refunded', 'partially_refunded', 'disputed', 'voided')),
      add constraint payments_advantage_check check (advantage_cents >= 0 and advantage_cents <= amount_cents and (advantage_cents = 0 or char_length(advantage_description) between 1 and 200)),
      add constraint payments_void_check check ((status = 'voided') = (voided_at is not null) and (status <> 'voided' or char_length(void_reason) between 1 and 500))`.execute(db);
  await sql`drop index payments_offline_reference_key`.execute(db);
  await sql`create unique index payments_offline_reference_key on payments (method, lower(reference)) where reference is not null and status <> 'voided'`.execute(db);

  await sql`
    create function campaign_donors_uncount() returns trigger language plpgsql as $$
    begin
      insert into campaign_counters (campaign_id, shard, donor_count)
      values (old.campaign_id, pg_backend_pid() % 8, -1)
      on conflict (campaign_id, shard) do update set donor_count = campaign_counters.donor_count - 1;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger campaign_donors_uncount after delete on campaign_donors
    for each row execute function campaign_donors_uncount()`.execute(db);
}
