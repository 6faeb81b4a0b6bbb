import { type Kysely, sql } from 'kysely';

/**
 * What a sponsor group can offer for a family's priority needs, as staff assessed it (scored by
 * matching), and the foreign key from matches to sponsor_groups now that the table exists.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table group_support_offers (
      group_id bigint primary key references sponsor_groups (id),
      sgbv_informed_support boolean not null default false,
      medical_support boolean not null default false,
      trauma_informed_support boolean not null default false,
      recorded_by bigint,
      recorded_at timestamptz not null default now()
    )`.execute(db);
  await sql`alter table matches add constraint matches_group_fk foreign key (group_id) references sponsor_groups (id)`.execute(db);
  await sql`create index matches_group_idx on matches (group_id)`.execute(db);
  await sql`create index matches_family_idx on matches (family_id)`.execute(db);
}
