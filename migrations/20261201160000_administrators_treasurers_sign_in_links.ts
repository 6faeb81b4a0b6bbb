import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Staff administrators: only they invite staff (four eyes: no staff member makes a second account of their own).
  await sql`alter table users add column is_administrator boolean not null default false`.execute(db);
  await sql`alter table users add constraint users_administrator_is_staff check (not is_administrator or role = 'staff')`.execute(db);
  // Existing staff: accounts made from the command line (npm run create-staff, which has machine access)
  // become administrators; where there is none, the oldest active staff account.
  await sql`
    update users set is_administrator = true
    where role = 'staff' and disabled_at is null and id in (
      select substring(subject from 6)::bigint from audit_log
      where action = 'user.created' and actor_label = 'npm run create-staff' and subject ~ '^user:[0-9]{1,18}$'
    )`.execute(db);
  await sql`
    update users set is_administrator = true
    where id = (select id from users where role = 'staff' and disabled_at is null order by created_at, id limit 1)
      and not exists (select 1 from users where is_administrator)`.execute(db);

  // A sponsor group's treasurer records its money (disbursements, instalments skipped, income reports).
  await sql`alter table group_members drop constraint group_members_role_check`.execute(db);
  await sql`alter table group_members add constraint group_members_role_check check (role in ('coordinator', 'treasurer', 'member'))`.execute(db);

  // One-time sign-in links, e-mailed when an account's sign-in limit is reached (single-use, stored hashed).
  await sql`
    create table sign_in_links (
      id bigint generated always as identity primary key,
      user_id bigint not null references users (id) on delete cascade,
      token_hash text not null unique,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index sign_in_links_user_idx on sign_in_links (user_id)`.execute(db);
}
