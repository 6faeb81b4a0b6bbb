import { sql } from 'kysely';
import type { Db } from '../db/database';

/**
 * Counts one attempt against a fixed window shared by every app process (PostgreSQL, not
 * memory) and answers whether it is still within the limit. Committed on its own, so a
 * failed attempt still counts.
 */
export async function hitRateLimit(db: Db, key: string, limit: number, windowSeconds: number, now = new Date()): Promise<boolean> {
  const windowStart = new Date(Math.floor(now.getTime() / (windowSeconds * 1000)) * windowSeconds * 1000);
  const row = await db
    .insertInto('rate_limit_hits')
    .values({ key, window_start: windowStart, hits: 1 })
    .onConflict((oc) => oc.columns(['key', 'window_start']).doUpdateSet({ hits: sql`rate_limit_hits.hits + 1` }))
    .returning('hits')
    .executeTakeFirstOrThrow();
  if (row.hits === 1 && Math.random() < 0.01) {
    // Now and then, drop windows long past.
    await db.deleteFrom('rate_limit_hits').where('window_start', '<', new Date(now.getTime() - 24 * 3600 * 1000)).execute();
  }
  return row.hits <= limit;
}
