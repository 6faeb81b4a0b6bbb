import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Side effects (e-mail) written in the same transaction as the change that causes them.
  await sql`
    create table outbox (
      id bigint generated always as identity primary key,
      kind text not null check (kind in ('email')),
      payload jsonb not null,
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      sent_at timestamptz,
      failed_at timestamptz,
      last_error text,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index outbox_due_idx on outbox (next_attempt_at) where sent_at is null and failed_at is null`.execute(db);

  // Who did what to what, when. Written for every staff decision and every view of family identity.
  await sql`
    create table audit_log (
      id bigint generated always as identity primary key,
      actor_user_id bigint,
      actor_label text not null,
      action text not null check (action ~ '^[a-z_]+(\\.[a-z_]+)+$'),
      subject text not null,
      details jsonb not null default '{}'::jsonb,
      at timestamptz not null default now()
    )`.execute(db);
  await sql`create index audit_log_at_idx on audit_log (at desc, id desc)`.execute(db);
  await sql`create index audit_log_subject_idx on audit_log (subject)`.execute(db);
  await sql`create index audit_log_actor_idx on audit_log (actor_user_id, at desc)`.execute(db);
}
