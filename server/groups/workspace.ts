import { sql, type Transaction } from 'kysely';
import type { Actor } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import type { Locale } from '../i18n/i18n';
import { inviteToGroup } from './invitations';

/** A group's own page text: name and story (the slug never changes once published). */
export async function updateGroupPage(trx: Transaction<Database>, groupId: number, page: { name: string; story: string }): Promise<void> {
  const sameName = await trx
    .selectFrom('sponsor_groups')
    .select('id')
    .where(sql`lower(name)`, '=', page.name.toLowerCase())
    .where('id', '!=', groupId)
    .where('status', '!=', 'rejected')
    .executeTakeFirst();
  if (sameName) throw new DomainError('conflict', 'groups:errors.nameTaken', { name: 'groups:errors.nameTaken' });
  await trx.updateTable('sponsor_groups').set({ name: page.name, story: page.story, updated_at: new Date() }).where('id', '=', groupId).execute();
}

export type Member = { id: number; name: string; email: string; role: 'coordinator' | 'member'; linked: boolean };

export async function listMembers(db: Db | Transaction<Database>, groupId: number): Promise<Member[]> {
  const rows = await db
    .selectFrom('group_members')
    .select(['id', 'name', 'email', 'role', 'user_id'])
    .where('group_id', '=', groupId)
    .where('removed_at', 'is', null)
    .orderBy('role')
    .orderBy('name')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, email: r.email, role: r.role, linked: r.user_id !== null }));
}

/** The coordinator adds a member, who is invited by e-mail. */
export async function addMember(
  trx: Transaction<Database>,
  groupId: number,
  member: { name: string; email: string; locale: Locale },
  invitation: { invitedBy: Actor; publicUrl: string },
): Promise<number> {
  const existing = await trx
    .selectFrom('group_members')
    .select('id')
    .where('group_id', '=', groupId)
    .where(sql`lower(email)`, '=', member.email.toLowerCase())
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  if (existing) throw new DomainError('conflict', 'groups:errors.memberExists', { email: 'groups:errors.memberExists' });
  const { id } = await trx
    .insertInto('group_members')
    .values({ group_id: groupId, name: member.name, email: member.email, role: 'member' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await inviteToGroup(trx, { groupId, email: member.email, locale: member.locale, ...invitation });
  return id;
}

/**
 * The coordinator removes a member of their own group (another group's member is not found);
 * the coordinator cannot be removed this way. Their settlement areas become unassigned.
 */
export async function removeMember(trx: Transaction<Database>, groupId: number, memberId: number): Promise<void> {
  const member = await trx
    .selectFrom('group_members')
    .select(['id', 'role'])
    .where('id', '=', memberId)
    .where('group_id', '=', groupId)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  if (!member) throw new DomainError('not_found', 'groups:errors.notFound');
  if (member.role === 'coordinator') throw new DomainError('conflict', 'groups:errors.cannotRemoveCoordinator');
  await trx.deleteFrom('settlement_assignments').where('member_id', '=', memberId).execute();
  await trx.updateTable('group_members').set({ removed_at: new Date() }).where('id', '=', memberId).execute();
}
