import { type Kysely, sql } from 'kysely';

/**
 * Periodic jobs that run once across every Haven process on one database (server/jobs/README.md).
 * `scheduled_jobs` holds one row per job: a process runs a job only by moving its next_run_at
 * forward and taking its lease in one conditional UPDATE, so of several processes polling at the
 * same moment exactly one wins each period; the row also tells staff when it last ran, when it runs
 * next and how it last failed (/staff/jobs).
 *
 * `overdue_reminders` makes the coordinators' overdue reminder idempotent in the database: one row
 * per coordinator (group member) per week (the Monday of the charity's week), inserted in the
 * transaction that queues the e-mail, so two overlapping runs can never e-mail a coordinator twice
 * in a week (the second blocks on the key, then finds it taken).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table scheduled_jobs (
      name text primary key,
      every_seconds integer not null check (every_seconds > 0),
      next_run_at timestamptz not null,
      lease_until timestamptz,
      leased_by text,
      last_started_at timestamptz,
      last_finished_at timestamptz,
      last_succeeded_at timestamptz,
      last_failed_at timestamptz,
      last_error text,
      last_result jsonb,
      runs bigint not null default 0,
      failures bigint not null default 0
    )`.execute(db);
  await sql`
    create table overdue_reminders (
      group_member_id bigint not null references group_members (id) on delete cascade,
      week_of date not null check (extract(isodow from week_of) = 1),
      created_at timestamptz not null default now(),
      primary key (group_member_id, week_of)
    )`.execute(db);
}
