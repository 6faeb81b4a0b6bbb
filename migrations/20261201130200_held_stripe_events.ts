import { type Kysely, sql } from 'kysely';

/**
 * Stripe events Haven cannot read correctly (rendered in another API version, a shape it does
 * not know, money it cannot attribute) are held: `held_at` and `held_reason` say since when and
 * why; a held event is never leased again by itself. Staff can have it read again from Stripe's
 * API (`read_from_api`: the effect uses the object as the API returns it now, in Haven's version).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table stripe_events
      add column held_at timestamptz,
      add column held_reason text,
      add column read_from_api boolean not null default false`.execute(db);
  await sql`create index stripe_events_held_idx on stripe_events (held_at) where held_at is not null and processed_at is null`.execute(db);
}
