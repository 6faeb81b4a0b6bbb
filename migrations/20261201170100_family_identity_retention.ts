import { type Kysely, sql } from 'kysely';

/**
 * Keep no longer than needed (server/families/retention.ts). A family's identity is deleted a
 * configured period after its support ends; families record the day support ended (closed,
 * withdrawn, self-sufficient without a schedule), when staff were warned of the deletion and when
 * it happened. `withdrawn` is a new status: the family left the programme (before arrival, or
 * after it, when no match stands).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table families
      add column support_ended_on date,
      add column identity_purge_warned_on date,
      add column identity_purged_at timestamptz`.execute(db);
  await sql`alter table families drop constraint families_status_check`.execute(db);
  await sql`
    alter table families add constraint families_status_check
      check (status in ('referred','available','matched','arrived','self_sufficient','closed','withdrawn'))`.execute(db);
  // Was families_check2: vetting is cleared for every family past referral, unless it left.
  await sql`alter table families drop constraint families_check2`.execute(db);
  await sql`
    alter table families add constraint families_cleared_unless_referred_or_ended
      check (status in ('referred','closed','withdrawn') or vetting_status = 'cleared')`.execute(db);
  // Families whose support had ended before this migration: from the day of their last change.
  await sql`
    update families set support_ended_on = (updated_at at time zone 'America/Toronto')::date
    where status in ('closed', 'self_sufficient')`.execute(db);
  await sql`create index families_identity_kept_idx on families (id) where identity_purged_at is null and status in ('closed','withdrawn','self_sufficient')`.execute(db);
}
