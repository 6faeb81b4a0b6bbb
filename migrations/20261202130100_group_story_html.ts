import { type Kysely, sql } from 'kysely';
import { renderStory } from '../server/groups/story';

/**
 * A group's story is kept rendered beside its Markdown: story_html is the sanitized HTML
 * (server/groups/story.ts), written whenever the story is saved, so its public page serves it
 * instead of running marked and sanitize-html on every request. Existing stories are rendered here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table sponsor_groups add column story_html text not null default ''`.execute(db);
  const groups = await db.selectFrom('sponsor_groups').select(['id', 'story']).where('story', '<>', '').execute();
  for (const group of groups as { id: number; story: string }[]) {
    await db.updateTable('sponsor_groups').set({ story_html: renderStory(group.story) }).where('id', '=', group.id).execute();
  }
}
