import { type Kysely, sql } from 'kysely';

/**
 * Phishing-resistant sign-in (server/accounts/second-factor.ts): passkeys (WebAuthn credentials),
 * authenticator-app codes (TOTP) for sponsors, one-time recovery codes (stored as SHA-256 only),
 * single-use set-up links (stored hashed), and on each session the second step it passed, the
 * window in which it may set up a first factor, and its outstanding WebAuthn challenge.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table passkeys (
      id bigint generated always as identity primary key,
      user_id bigint not null references users (id) on delete cascade,
      credential_id text not null unique check (credential_id ~ '^[A-Za-z0-9_-]+$'),
      public_key bytea not null,
      sign_count bigint not null default 0 check (sign_count >= 0),
      transports text[] not null default '{}',
      backed_up boolean not null default false,
      name text not null check (char_length(name) between 1 and 60),
      created_at timestamptz not null default now(),
      last_used_at timestamptz
    )`.execute(db);
  await sql`create index passkeys_user_idx on passkeys (user_id)`.execute(db);

  // The secret is sealed (AES-256-GCM, key derived from SESSION_SECRET): a database copy cannot make codes.
  await sql`
    create table totp_authenticators (
      user_id bigint primary key references users (id) on delete cascade,
      sealed_secret bytea not null,
      last_time_step bigint not null default 0,
      confirmed_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table recovery_codes (
      id bigint generated always as identity primary key,
      user_id bigint not null references users (id) on delete cascade,
      code_hash text not null unique,
      used_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index recovery_codes_user_idx on recovery_codes (user_id) where used_at is null`.execute(db);

  await sql`
    create table enrolment_links (
      id bigint generated always as identity primary key,
      user_id bigint not null references users (id) on delete cascade,
      kind text not null check (kind in ('new_account', 'staff_reset', 'self')),
      issued_by_user_id bigint references users (id),
      token_hash text not null unique,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index enrolment_links_user_idx on enrolment_links (user_id)`.execute(db);

  await sql`
    alter table sessions
      add column second_factor text check (second_factor in ('passkey', 'totp', 'recovery_code')),
      add column enrol_until timestamptz,
      add column challenge text,
      add column challenge_expires_at timestamptz`.execute(db);
}
