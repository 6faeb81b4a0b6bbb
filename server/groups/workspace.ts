import { sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database, GroupRole } from '../db/schema';
import { DomainError } from '../domain-error';
import type { Locale } from '../i18n/i18n';
import { inviteToGroup } from './invitations';
import { renderStory } from './story';

/** A translation kept rendered beside its Markdown ('' while it is not written). */
function translation(markdown: string): string {
  return markdown.trim() ? renderStory(markdown) : '';
}

/** A group's own page text: name, story and its story in Korean and French (the slug never changes once published). */
export async function updateGroupPage(trx: Transaction<Database>, groupId: number, page: { name: string; story: string; storyKo?: string; storyFr?: string }): Promise<void> {
  const sameName = await trx
    .selectFrom('sponsor_groups')
    .select('id')
    .where(sql`lower(name)`, '=', page.name.toLowerCase())
    .where('id', '!=', groupId)
    .where('status', '!=', 'rejected')
    .executeTakeFirst();
  if (sameName) throw new DomainError('conflict', 'groups:errors.nameTaken', { name: 'groups:errors.nameTaken' });
  await trx
    .updateTable('sponsor_groups')
    .set({
      name: page.name,
      story: page.story,
      story_html: renderStory(page.story),
      ...(page.storyKo === undefined ? {} : { story_ko: page.storyKo, story_ko_html: translation(page.storyKo) }),
      ...(page.storyFr === undefined ? {} : { story_fr: page.storyFr, story_fr_html: translation(page.storyFr) }),
      updated_at: new Date(),
    })
    .where('id', '=', groupId)
    .execute();
}

/**
 * Staff correct a group's story, in English, Korean and French, on the group's behalf (a typo, or a
 * line that says too much about a family). Kept rendered like the group's own edits, and audited
 * with which language changed (the words themselves are on the public page, not in the audit).
 */
export async function updateGroupStory(trx: Transaction<Database>, actor: Actor, groupId: number, story: { story: string; storyKo: string; storyFr: string }): Promise<void> {
  const before = await trx.selectFrom('sponsor_groups').select(['story', 'story_ko', 'story_fr']).where('id', '=', groupId).forUpdate().executeTakeFirst();
  if (!before) throw new DomainError('not_found', 'groups:errors.notFound');
  await trx
    .updateTable('sponsor_groups')
    .set({
      story: story.story,
      story_html: renderStory(story.story),
      story_ko: story.storyKo,
      story_ko_html: translation(story.storyKo),
      story_fr: story.storyFr,
      story_fr_html: translation(story.storyFr),
      updated_at: new Date(),
    })
    .where('id', '=', groupId)
    .execute();
  const changed = [...(before.story === story.story ? [] : ['en']), ...(before.story_ko === story.storyKo ? [] : ['ko']), ...(before.story_fr === story.storyFr ? [] : ['fr'])];
  await writeAudit(trx, { actor, action: 'group.story_edited', subject: `group:${groupId}`, details: { languages: changed.join(', ') || 'none' } });
}

export type Member = { id: number; name: string; email: string; role: GroupRole; linked: boolean };

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

/**
 * The coordinator adds a member, who is invited by e-mail. Only an approved group invites: an
 * application is unvetted, and its invitations would carry unvetted text to any address.
 */
export async function addMember(
  trx: Transaction<Database>,
  groupId: number,
  member: { name: string; email: string; locale: Locale },
  invitation: { invitedBy: Actor; publicUrl: string },
): Promise<number> {
  const group = await trx.selectFrom('sponsor_groups').select('status').where('id', '=', groupId).executeTakeFirst();
  if (group?.status !== 'approved') throw new DomainError('conflict', 'groups:permissions.notApproved', { email: 'groups:permissions.notApproved' });
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
 * A live member of this group other than its coordinator, locked for a change (another group's
 * member is not found; the coordinator's own row is not changed or removed from the members page).
 */
async function lockOtherMember(trx: Transaction<Database>, groupId: number, memberId: number) {
  const member = await trx
    .selectFrom('group_members')
    .select(['id', 'role'])
    .where('id', '=', memberId)
    .where('group_id', '=', groupId)
    .where('removed_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
  if (!member) throw new DomainError('not_found', 'groups:errors.notFound');
  if (member.role === 'coordinator') throw new DomainError('conflict', 'groups:errors.cannotRemoveCoordinator');
  return member;
}

/** The coordinator makes a member the group's treasurer, or a member again. */
export async function setMemberRole(trx: Transaction<Database>, actor: Actor, groupId: number, memberId: number, role: 'treasurer' | 'member'): Promise<void> {
  const member = await lockOtherMember(trx, groupId, memberId);
  if (member.role === role) return;
  await trx.updateTable('group_members').set({ role }).where('id', '=', memberId).execute();
  await writeAudit(trx, { actor, action: 'group.member_role_set', subject: `group:${groupId}`, details: { memberId, role } });
}

/**
 * The coordinator removes a member of their own group (another group's member is not found);
 * the coordinator cannot be removed this way. Their settlement areas become unassigned.
 */
export async function removeMember(trx: Transaction<Database>, groupId: number, memberId: number): Promise<void> {
  await lockOtherMember(trx, groupId, memberId);
  await trx.deleteFrom('settlement_assignments').where('member_id', '=', memberId).execute();
  await trx.updateTable('group_members').set({ removed_at: new Date() }).where('id', '=', memberId).execute();
}
