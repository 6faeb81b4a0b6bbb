import { type Kysely, sql } from 'kysely';

/**
 * A support instalment with nothing to pay settles itself: `tapered` when earned income reduced it
 * to $0 (it is due again if income falls), `waived` when it was planned at $0 (community rates of
 * $0). Neither is ever overdue. Instalments already reduced to $0 and still `due` become `tapered`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table schedule_installments drop constraint schedule_installments_status_check`.execute(db);
  await sql`
    alter table schedule_installments add constraint schedule_installments_status_check
      check (status in ('due', 'partly_paid', 'paid', 'skipped', 'tapered', 'waived'))`.execute(db);
  await sql`update schedule_installments set status = 'tapered' where status = 'due' and amount_cents = 0 and paid_cents = 0`.execute(db);
}
