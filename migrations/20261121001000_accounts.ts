import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // People who sign in: charity staff and sponsor-group members. Donors never need one.
  await sql`
    create table users (
      id bigint generated always as identity primary key,
      email text not null check (email = lower(btrim(email)) and email ~ '^[^@\\s]+@[^@\\s]+$'),
      name text not null check (char_length(name) between 1 and 200),
      password_hash text check (password_hash like '$argon2id$%'),
      role text not null check (role in ('staff', 'sponsor')),
      disabled_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  // Stored lower-cased; the unique index on lower() also guards rows written by hand.
  await sql`create unique index users_email_key on users (lower(email))`.execute(db);

  // The cookie carries a random token; only its SHA-256 is stored, so a copy of this table opens no session.
  await sql`
    create table sessions (
      token_hash text primary key,
      user_id bigint not null references users (id) on delete cascade,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index sessions_user_idx on sessions (user_id)`.execute(db);
  await sql`create index sessions_expires_idx on sessions (expires_at)`.execute(db);

  // Single-use, expiring e-mailed tokens (stored hashed). group_id gains its foreign key with sponsor_groups.
  await sql`
    create table invitations (
      id bigint generated always as identity primary key,
      email text not null check (email = lower(btrim(email))),
      role text not null check (role in ('staff', 'sponsor')),
      group_id bigint,
      invited_by_user_id bigint references users (id),
      token_hash text not null unique,
      expires_at timestamptz not null,
      accepted_at timestamptz,
      accepted_user_id bigint references users (id),
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index invitations_pending_idx on invitations (created_at desc) where accepted_at is null`.execute(db);

  await sql`
    create table password_resets (
      id bigint generated always as identity primary key,
      user_id bigint not null references users (id) on delete cascade,
      token_hash text not null unique,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index password_resets_user_idx on password_resets (user_id)`.execute(db);

  // Fixed-window counters for rate limits (sign-in, password reset), shared by every app process.
  await sql`
    create table rate_limits (
      key text primary key,
      window_started_at timestamptz not null,
      hits integer not null
    )`.execute(db);
}
