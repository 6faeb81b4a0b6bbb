import { type Kysely, sql } from 'kysely';

/**
 * Families (no identifying data: a random case code and what matching needs), their identities
 * (AES-256-GCM ciphertext only, one row per family, never selected by public code), and matches.
 * matches.group_id gets its foreign key to sponsor_groups in a later migration, once that table exists.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table families (
      id bigint generated always as identity primary key,
      case_code text not null unique check (case_code ~ '^HV-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$'),
      size integer not null check (size between 1 and 20),
      adults integer not null check (adults between 1 and 20),
      children integer not null check (children between 0 and 19),
      languages text[] not null default '{}' check (array_position(languages, null) is null),
      needs text[] not null default '{}' check (needs <@ array['wheelchair_access','large_housing','childcare','school_enrolment','interpretation','dietary','mental_health']::text[]),
      sgbv_survivor boolean not null default false,
      medical_needs boolean not null default false,
      trauma_informed_support boolean not null default false,
      preferred_region text check (preferred_region ~ '^[A-Z]{2}$'),
      vetting_status text not null default 'pending' check (vetting_status in ('pending','cleared','refused')),
      vetted_on date,
      status text not null default 'referred' check (status in ('referred','available','matched','arrived','self_sufficient','closed')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (adults + children = size),
      check (vetting_status = 'pending' or vetted_on is not null),
      check (status in ('referred','closed') or vetting_status = 'cleared')
    )`.execute(db);
  await sql`create index families_status_idx on families (status, id)`.execute(db);

  await sql`
    create table family_identities (
      family_id bigint primary key references families (id) on delete cascade,
      format integer not null check (format = 1),
      key_id text not null,
      iv bytea not null check (length(iv) = 12),
      auth_tag bytea not null check (length(auth_tag) = 16),
      ciphertext bytea not null,
      updated_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table matches (
      id bigint generated always as identity primary key,
      family_id bigint not null references families (id),
      group_id bigint not null,
      status text not null default 'proposed' check (status in ('proposed','approved','rejected','withdrawn','expired')),
      score integer not null,
      score_parts jsonb not null,
      proposed_by bigint not null,
      proposed_at timestamptz not null default now(),
      hold_expires_at timestamptz not null,
      decided_by bigint,
      decided_at timestamptz,
      reason text,
      shared_fields text[] not null default '{}' check (shared_fields <@ array['names','dates_of_birth','contact','current_location']::text[]),
      check (status = 'proposed' or decided_at is not null),
      check (status in ('proposed','expired') or decided_by is not null),
      check (status <> 'approved' or decided_by <> proposed_by),
      check (status <> 'rejected' or length(trim(reason)) > 0)
    )`.execute(db);
  // At most one approved match per family and per group, and one live hold on each.
  await sql`create unique index matches_one_approved_per_family on matches (family_id) where status = 'approved'`.execute(db);
  await sql`create unique index matches_one_approved_per_group on matches (group_id) where status = 'approved'`.execute(db);
  await sql`create unique index matches_one_hold_per_family on matches (family_id) where status = 'proposed'`.execute(db);
  await sql`create unique index matches_one_hold_per_group on matches (group_id) where status = 'proposed'`.execute(db);
  await sql`create index matches_hold_expiry_idx on matches (hold_expires_at) where status = 'proposed'`.execute(db);
}
