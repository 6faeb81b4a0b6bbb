import { sql } from 'kysely';
import type { Db } from '../db/database';
import { pruneDonorLinks } from '../giving/donor-links';
import { pruneRateLimits } from '../http/rate-limit';

/** Deletes expired sessions, spent rate-limit windows and donor links expired a day ago; the `prune-expired` job runs it hourly, once across processes (server/jobs). Safe to run anywhere, any time. */
export async function pruneExpiredAccountsData(db: Db): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<', sql<Date>`now()`).execute();
  await db.deleteFrom('sign_in_links').where('expires_at', '<', sql<Date>`now() - interval '1 day'`).execute();
  await pruneRateLimits(db);
  await pruneDonorLinks(db);
}
