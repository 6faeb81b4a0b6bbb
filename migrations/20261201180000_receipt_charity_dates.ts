import { type Kysely, sql } from 'kysely';

/**
 * The dates a receipt prints are the charity's dates (CHARITY_TIME_ZONE), fixed when it is issued:
 * `receipts.issued_on` (date issued) and `receipt_payments.received_on` (each gift's date received).
 * Receipts issued before this migration keep both null and are read in America/Toronto, the only
 * zone Haven used until then. The receipts trigger already refuses any change to a new column; the
 * lines' trigger is extended to cover received_on.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table receipts add column issued_on date`.execute(db);
  await sql`alter table receipt_payments add column received_on date`.execute(db);
  await sql`
    create or replace function receipt_payments_refuse_change() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' or not old.in_force or new.in_force
         or (new.receipt_id, new.payment_id, new.amount_cents, new.received_on) is distinct from (old.receipt_id, old.payment_id, old.amount_cents, old.received_on) then
        raise exception 'receipt lines cannot be altered, only taken out of force' using errcode = '55000';
      end if;
      return new;
    end $$`.execute(db);
}

