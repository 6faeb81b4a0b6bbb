import { type Kysely, sql } from 'kysely';

/**
 * Sponsor groups (shared/DOMAIN.md "Who sponsors"): applications and vetting, members, the
 * settlement plan, in-kind commitments, the funding requirement (with the cost-table edition it
 * used) and the checks staff record before a group can be matched.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table sponsor_groups (
      id bigint generated always as identity primary key,
      slug text not null unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 80),
      name text not null check (length(name) between 1 and 120),
      city text not null check (length(city) between 1 and 80),
      province text not null check (province in ('AB','BC','MB','NB','NL','NS','NT','NU','ON','PE','QC','SK','YT')),
      languages text[] not null default '{}',
      family_size integer not null check (family_size between 1 and 20),
      story text not null default '' check (length(story) <= 10000),
      status text not null default 'applied' check (status in ('applied', 'approved', 'rejected')),
      rejection_reason text check (length(rejection_reason) <= 2000),
      coordinator_name text not null check (length(coordinator_name) between 1 and 120),
      coordinator_email text not null check (length(coordinator_email) between 3 and 254),
      locale text not null default 'en' check (locale in ('en', 'fr')),
      decided_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index sponsor_groups_status_idx on sponsor_groups (status, slug)`.execute(db);
  await sql`create index sponsor_groups_city_idx on sponsor_groups (lower(city))`.execute(db);

  // Named people of a group. user_id links the account once the invitation is accepted.
  await sql`
    create table group_members (
      id bigint generated always as identity primary key,
      group_id bigint not null references sponsor_groups (id),
      user_id bigint,
      name text not null check (length(name) between 1 and 120),
      email text not null check (length(email) between 3 and 254),
      role text not null check (role in ('coordinator', 'member')),
      created_at timestamptz not null default now(),
      removed_at timestamptz
    )`.execute(db);
  await sql`create unique index group_members_email_idx on group_members (group_id, lower(email)) where removed_at is null`.execute(db);
  await sql`create unique index group_members_user_idx on group_members (user_id) where removed_at is null and user_id is not null`.execute(db);

  await sql`
    create table settlement_assignments (
      group_id bigint not null references sponsor_groups (id),
      area text not null check (area in ('reception', 'orientation', 'housing', 'clothing', 'food', 'transportation',
        'language_training', 'schooling', 'childcare', 'employment', 'health', 'finances', 'emotional_support', 'interpretation')),
      member_id bigint not null references group_members (id),
      created_at timestamptz not null default now(),
      primary key (group_id, area, member_id)
    )`.execute(db);

  await sql`
    create table in_kind_commitments (
      id bigint generated always as identity primary key,
      group_id bigint not null references sponsor_groups (id),
      category text not null check (category in ('housing', 'furniture', 'clothing', 'household', 'linens', 'staples')),
      description text not null check (length(description) between 1 and 500),
      value_cents bigint not null check (value_cents between 1 and 10000000),
      evidence_note text not null check (length(evidence_note) between 1 and 1000),
      donor_is_party boolean not null default false,
      status text not null default 'offered' check (status in ('offered', 'confirmed', 'received', 'withdrawn')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index in_kind_commitments_group_idx on in_kind_commitments (group_id)`.execute(db);

  // What the group must show, from the cost-table edition current when it was set: kept as is
  // when staff add a new edition.
  await sql`
    create table group_requirements (
      group_id bigint primary key references sponsor_groups (id),
      edition_on date not null,
      family_size integer not null check (family_size between 1 and 20),
      income_support_cents bigint not null check (income_support_cents >= 0),
      startup_cents bigint not null check (startup_cents >= 0),
      set_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table group_checks (
      group_id bigint not null references sponsor_groups (id),
      check_name text not null check (check_name in ('training', 'background_checks')),
      done boolean not null,
      note text check (length(note) <= 1000),
      recorded_by_user_id bigint,
      recorded_at timestamptz not null default now(),
      primary key (group_id, check_name)
    )`.execute(db);
}
