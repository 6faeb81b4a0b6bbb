import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/database';
import type { Database, GroupRole } from '../db/schema';

export type GroupMembership = { groupId: number; groupRole: GroupRole };

/**
 * For the session user loader (SessionUser.groupId/.groupRole): the live member row linked to
 * this account, in a group that was not rejected. A removed member loses access at once.
 */
export async function groupMembershipOf(db: Db | Transaction<Database>, userId: number): Promise<GroupMembership | undefined> {
  const row = await db
    .selectFrom('group_members as m')
    .innerJoin('sponsor_groups as g', 'g.id', 'm.group_id')
    .select(['m.group_id', 'm.role'])
    .where('m.user_id', '=', userId)
    .where('m.removed_at', 'is', null)
    .where('g.status', '!=', 'rejected')
    .executeTakeFirst();
  return row ? { groupId: row.group_id, groupRole: row.role } : undefined;
}

/**
 * Called by accounts when a sponsor accepts a group invitation: links the invited member row
 * (same group, same e-mail, not removed) to the account. An account already linked to a live
 * membership keeps it (one group per person); returns whether the link was made.
 */
export async function linkMemberAccount(trx: Transaction<Database>, groupId: number, email: string, userId: number): Promise<boolean> {
  const current = await trx.selectFrom('group_members').select('group_id').where('user_id', '=', userId).where('removed_at', 'is', null).executeTakeFirst();
  if (current) return current.group_id === groupId;
  const result = await trx
    .updateTable('group_members')
    .set({ user_id: userId })
    .where('group_id', '=', groupId)
    .where(sql`lower(email)`, '=', email.toLowerCase())
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
