import { type Kysely, sql } from 'kysely';

/**
 * Readiness counts only what staff have verified (issue 19). An in-kind item counts once staff
 * confirm it (verified_by/verified_at); items a group marked confirmed or received before this
 * migration stay as they are but no longer count until staff confirm them. A new write cannot
 * mark an item confirmed or received without a verifier (NOT VALID: old rows are kept as written).
 *
 * housing_shares: donated housing stands in for at most this share of the income support (which
 * also pays food, transport and phone), as dated data with its source, editable by staff. The
 * first row is a planning figure, marked as such in its source, for staff to confirm.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table in_kind_commitments add column verified_by bigint references users (id), add column verified_at timestamptz`.execute(db);
  await sql`
    alter table in_kind_commitments add constraint in_kind_verified_by_staff
      check (status not in ('confirmed', 'received') or (verified_by is not null and verified_at is not null)) not valid`.execute(db);
  await sql`
    create table housing_shares (
      id bigint generated always as identity primary key,
      basis_points integer not null check (basis_points between 0 and 10000),
      source text not null check (length(trim(source)) between 1 and 1000),
      recorded_by bigint references users (id),
      recorded_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    insert into housing_shares (basis_points, source) values (5000,
      'Planning figure, to be confirmed by staff: shelter taken as half of the monthly income support (the cost table''s income support pays rent, food, transport and phone; RAP income support is a shelter allowance plus basic needs, canada.ca Resettlement Assistance Program). Replace it with the shelter share of the community''s RAP rates.')`.execute(db);
}
