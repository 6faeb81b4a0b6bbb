import { type Kysely, sql } from 'kysely';
import { renderStory } from '../server/groups/story';

/**
 * A group's Korean story is kept rendered too (story_ko_html beside story_ko, as story_html beside
 * story): written whenever the group saves its page, so Korean pages render no Markdown per request.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table sponsor_groups add column story_ko_html text not null default ''`.execute(db);
  const groups = await db.selectFrom('sponsor_groups').select(['id', 'story_ko']).where('story_ko', '<>', '').execute();
  for (const group of groups as { id: number; story_ko: string }[]) {
    if (group.story_ko.trim()) await db.updateTable('sponsor_groups').set({ story_ko_html: renderStory(group.story_ko) }).where('id', '=', group.id).execute();
  }
}
