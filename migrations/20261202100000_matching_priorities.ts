import { type Kysely, sql } from 'kysely';

/**
 * The order in which matching places priority families (issue 19): data staff see and change,
 * not code. SGBV survivors first, as the program states (shared/DOMAIN.md); then medical needs,
 * then trauma-informed support. And the recorded reason when staff propose an SGBV survivor's
 * family to a group without SGBV-informed support (the hard rule's only override).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table matching_priorities (
      position integer primary key check (position between 1 and 3),
      need text not null unique check (need in ('sgbv_survivor','medical_needs','trauma_informed_support')),
      updated_by bigint references users (id),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`insert into matching_priorities (position, need) values (1, 'sgbv_survivor'), (2, 'medical_needs'), (3, 'trauma_informed_support')`.execute(db);
  await sql`alter table matches add column sgbv_override_reason text check (length(trim(sgbv_override_reason)) > 0)`.execute(db);
}
