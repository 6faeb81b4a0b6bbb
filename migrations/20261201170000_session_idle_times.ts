import { type Kysely, sql } from 'kysely';

/**
 * When each session was last used: sessions that can see a family's identity (staff, members of
 * a matched group) end after 30 minutes without a request (server/accounts/sessions.ts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table sessions add column last_seen_at timestamptz not null default now()`.execute(db);
}
