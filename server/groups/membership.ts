import { sql } from 'kysely';
import type { Db } from '../db/database';

export type GroupMembership = { groupId: number; groupRole: 'coordinator' | 'member' };

/**
 * For the session user loader: the group a user belongs to and their role in it (SessionUser
 * .groupId/.groupRole). A member row is linked by user_id once an invitation is accepted;
 * before that, by the invited e-mail (the accounts branch verifies addresses). Rejected groups
 * give no membership. At most one live membership per user.
 */
export async function groupMembershipOf(db: Db, user: { id: number; email: string }): Promise<GroupMembership | undefined> {
  const row = await db
    .selectFrom('group_members as m')
    .innerJoin('sponsor_groups as g', 'g.id', 'm.group_id')
    .select(['m.group_id', 'm.role'])
    .where('m.removed_at', 'is', null)
    .where('g.status', '!=', 'rejected')
    .where((eb) => eb.or([eb('m.user_id', '=', user.id), eb.and([eb('m.user_id', 'is', null), eb(sql`lower(m.email)`, '=', user.email.toLowerCase())])]))
    .orderBy(sql`m.user_id is null`)
    .orderBy('m.id')
    .executeTakeFirst();
  return row ? { groupId: row.group_id, groupRole: row.role } : undefined;
}
