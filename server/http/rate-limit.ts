import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database';

/**
 * Fixed-window rate limits kept in PostgreSQL (table rate_limits), so every app process counts
 * the same attempts. One upsert per check: the window restarts once it has passed.
 */
export type RateLimit = { name: string; max: number; windowSeconds: number };

export type RateLimitOutcome = { limited: boolean; retryAfterSeconds: number };

/** Counts one attempt by `subject` (an IP address, an e-mail) and says whether it is over the limit. */
export async function consumeRateLimit(db: Db, limit: RateLimit, subject: string): Promise<RateLimitOutcome> {
  // E-mail addresses of people who may have no account are not kept in the clear.
  const key = `${limit.name}:${createHash('sha256').update(subject).digest('base64url')}`;
  const window = sql`make_interval(secs => ${limit.windowSeconds})`;
  const { rows } = await sql<{ hits: number; retry_after: number }>`
    insert into rate_limits as r (key, window_started_at, hits) values (${key}, now(), 1)
    on conflict (key) do update set
      hits = case when r.window_started_at <= now() - ${window} then 1 else r.hits + 1 end,
      window_started_at = case when r.window_started_at <= now() - ${window} then now() else r.window_started_at end
    returning hits, greatest(1, ceil(extract(epoch from (window_started_at + ${window} - now()))))::integer as retry_after
  `.execute(db);
  const row = rows[0]!;
  return { limited: row.hits > limit.max, retryAfterSeconds: row.retry_after };
}

/** Drops windows that ended more than a day ago (called now and then; rows are tiny). */
export async function pruneRateLimits(db: Db): Promise<void> {
  await db.deleteFrom('rate_limits').where('window_started_at', '<', sql<Date>`now() - interval '1 day'`).execute();
}
