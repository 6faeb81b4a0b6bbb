import { type Kysely, sql } from 'kysely';

/**
 * The language a person last used Haven in, signed in (server/accounts/sessions.ts remembers it),
 * so that e-mails no request answers (the families' purge warning) reach staff in it. English
 * until they choose, as pages are without a choice.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table users add column locale text not null default 'en' check (locale in ('en', 'fr'))`.execute(db);
}
