import type { Transaction } from 'kysely';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';

export type Actor = { userId: number; label: string } | { userId: null; label: string };

export type AuditEntry = {
  actor: Actor;
  /** dotted verb, e.g. `group.approved`, `family_identity.viewed` */
  action: string;
  /** what it was done to, e.g. `group:12`, `payment:40`: ids, never names */
  subject: string;
  details?: Record<string, unknown>;
};

/** Written in the same transaction as the decision it records. */
export async function writeAudit(trx: Transaction<Database>, entry: AuditEntry): Promise<void> {
  await trx
    .insertInto('audit_log')
    .values({
      actor_user_id: entry.actor.userId,
      actor_label: entry.actor.label,
      action: entry.action,
      subject: entry.subject,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}

export type AuditFilter = { action?: string; subject?: string; actorUserId?: number; before?: number; limit?: number };

/** Newest first, keyset-paged by id. */
export async function listAudit(db: Db, filter: AuditFilter) {
  const limit = Math.min(filter.limit ?? 50, 200);
  let query = db
    .selectFrom('audit_log')
    .select(['id', 'actor_user_id', 'actor_label', 'action', 'subject', 'details', 'at'])
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (filter.action) query = query.where('action', 'like', `${filter.action.replace(/[%_\\]/g, '\\$&')}%`);
  if (filter.subject) query = query.where('subject', '=', filter.subject);
  if (filter.actorUserId) query = query.where('actor_user_id', '=', filter.actorUserId);
  if (filter.before) query = query.where('id', '<', filter.before);
  const rows = await query.execute();
  return { rows: rows.slice(0, limit), nextBefore: rows.length > limit ? rows[limit - 1]!.id : undefined };
}
