import { type Kysely, sql } from 'kysely';

/**
 * The donations module became part of giving (issue 22): its e-mail templates moved from
 * views/emails/donations/ to views/emails/giving/. E-mails still waiting in the outbox name their
 * template, so they are pointed at the new path (sent ones are history and keep theirs).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    update outbox
       set payload = jsonb_set(payload, '{template}', to_jsonb('giving/' || substr(payload->>'template', length('donations/') + 1)))
     where sent_at is null and payload->>'template' like 'donations/%'`.execute(db);
}
