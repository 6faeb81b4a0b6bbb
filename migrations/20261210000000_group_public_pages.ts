import { type Kysely, sql } from 'kysely';

/**
 * Public group pages people share (issue 18):
 *
 * - A group's story in French (`story_fr`, kept rendered in `story_fr_html` like the others):
 *   French pages show it where it is not empty, the story otherwise.
 * - `group_photos`: the one photo a group's coordinator offers for its public page, shown only once
 *   staff approve it. The bytes are what the server re-encoded (no metadata: EXIF GPS can say where
 *   people live), kept in the database like receipt signatures. At most one pending photo a group
 *   (a new upload replaces it); the page shows the latest approved one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table sponsor_groups add column story_fr text not null default '' check (length(story_fr) <= 10000)`.execute(db);
  await sql`alter table sponsor_groups add column story_fr_html text not null default ''`.execute(db);
  await sql`
    create table group_photos (
      id bigint generated always as identity primary key,
      group_id bigint not null references sponsor_groups (id),
      bytes bytea not null check (octet_length(bytes) between 1 and 16777216),
      content_type text not null check (content_type in ('image/png', 'image/jpeg')),
      width integer not null check (width > 0),
      height integer not null check (height > 0),
      alt_text text not null check (length(alt_text) between 1 and 250),
      status text not null default 'pending' check (status in ('pending', 'approved', 'rejected')),
      uploaded_by bigint references users (id),
      uploaded_at timestamptz not null default now(),
      reviewed_by bigint references users (id),
      reviewed_at timestamptz,
      check ((status = 'pending') = (reviewed_at is null))
    )`.execute(db);
  await sql`create unique index group_photos_one_pending on group_photos (group_id) where status = 'pending'`.execute(db);
  await sql`create index group_photos_approved on group_photos (group_id, reviewed_at desc) where status = 'approved'`.execute(db);
}
