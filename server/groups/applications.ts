import { sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import type { Locale } from '../i18n/i18n';
import { queueEmail } from '../notifications/outbox';
import { setRequirement } from './cost-tables';
import type { Province } from './forms';
import { inviteToGroup } from './invitations';
import { renderStory } from './story';

export type GroupApplication = {
  name: string;
  city: string;
  province: Province;
  coordinatorName: string;
  coordinatorEmail: string;
  languages: string[];
  familySize: number;
  story: string;
  locale: Locale;
};

/** "Les Amis de Montréal!" → "les-amis-de-montreal"; at most 60 characters. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/g, '');
  return slug && !RESERVED_SLUGS.has(slug) ? slug : `${slug || 'sponsor'}-group`;
}

/** Paths under /groups/ that a group's page must not take. */
const RESERVED_SLUGS = new Set(['apply']);

/** The slug for a name, suffixed -2, -3… when taken. */
async function uniqueSlug(trx: Transaction<Database>, name: string): Promise<string> {
  const base = slugify(name);
  const taken = new Set(
    (
      await trx
        .selectFrom('sponsor_groups')
        .select('slug')
        .where((eb) => eb.or([eb('slug', '=', base), eb('slug', 'like', `${base}-%`)]))
        .execute()
    ).map((r) => r.slug),
  );
  if (!taken.has(base)) return base;
  for (let n = 2; ; n += 1) {
    if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
  }
}

/**
 * A group applies: created `applied`, its requirement fixed from the current cost table, the
 * coordinator recorded as its first member. A group name already in use is refused. Nobody is
 * invited yet: the coordinator's invitation goes out on approval (approveGroup), so an unvetted
 * application cannot send invitation e-mails.
 */
export async function applyForGroup(trx: Transaction<Database>, input: GroupApplication): Promise<{ id: number; slug: string }> {
  // Serialise name and slug choice: two applications with the same name cannot both take it.
  await sql`select pg_advisory_xact_lock(hashtext('sponsor_groups.slug'))`.execute(trx);
  const sameName = await trx
    .selectFrom('sponsor_groups')
    .select('id')
    .where(sql`lower(name)`, '=', input.name.toLowerCase())
    .where('status', '!=', 'rejected')
    .executeTakeFirst();
  if (sameName) throw new DomainError('conflict', 'groups:errors.nameTaken', { name: 'groups:errors.nameTaken' });

  const slug = await uniqueSlug(trx, input.name);
  const group = await trx
    .insertInto('sponsor_groups')
    .values({
      slug,
      name: input.name,
      city: input.city,
      province: input.province,
      languages: input.languages,
      family_size: input.familySize,
      story: input.story,
      story_html: renderStory(input.story),
      coordinator_name: input.coordinatorName,
      coordinator_email: input.coordinatorEmail,
      locale: input.locale,
    })
    .returning(['id', 'slug'])
    .executeTakeFirstOrThrow();
  await setRequirement(trx, group.id, input.familySize);
  await trx.insertInto('group_members').values({ group_id: group.id, name: input.coordinatorName, email: input.coordinatorEmail, role: 'coordinator' }).execute();
  await queueEmail(trx, { to: input.coordinatorEmail, template: 'groups/received', locale: input.locale, data: { name: input.coordinatorName, groupName: input.name } });
  return group;
}

async function lockApplication(trx: Transaction<Database>, groupId: number) {
  const group = await trx
    .selectFrom('sponsor_groups')
    .select(['id', 'name', 'slug', 'status', 'coordinator_name', 'coordinator_email', 'locale'])
    .where('id', '=', groupId)
    .forUpdate()
    .executeTakeFirst();
  if (!group) throw new DomainError('not_found', 'groups:errors.notFound');
  if (group.status !== 'applied') throw new DomainError('conflict', 'groups:errors.alreadyDecided');
  return group;
}

export async function approveGroup(trx: Transaction<Database>, actor: Actor, groupId: number, publicUrl: string): Promise<void> {
  const group = await lockApplication(trx, groupId);
  await trx.updateTable('sponsor_groups').set({ status: 'approved', decided_at: new Date(), updated_at: new Date() }).where('id', '=', groupId).execute();
  await writeAudit(trx, { actor, action: 'group.approved', subject: `group:${groupId}` });
  await inviteCoordinator(trx, groupId, group.coordinator_email, group.locale, publicUrl);
  await queueEmail(trx, {
    to: group.coordinator_email,
    template: 'groups/approved',
    locale: group.locale,
    data: { name: group.coordinator_name, groupName: group.name, pageUrl: `${publicUrl}/groups/${group.slug}`, workspaceUrl: `${publicUrl}/group` },
  });
}

/**
 * On approval the coordinator is invited (from HanVoice, in the application's language), unless
 * their member row already has an account or an open invitation (applications made before
 * invitations moved to approval were invited on application).
 */
async function inviteCoordinator(trx: Transaction<Database>, groupId: number, email: string, locale: Locale, publicUrl: string) {
  const coordinator = await trx
    .selectFrom('group_members')
    .select('user_id')
    .where('group_id', '=', groupId)
    .where('role', '=', 'coordinator')
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  if (!coordinator || coordinator.user_id !== null) return;
  const open = await trx
    .selectFrom('invitations')
    .select('id')
    .where('group_id', '=', groupId)
    .where('email', '=', email.toLowerCase())
    .where('accepted_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
  if (!open) await inviteToGroup(trx, { groupId, email, locale, invitedBy: { userId: null, label: 'HanVoice' }, publicUrl });
}

export async function rejectGroup(trx: Transaction<Database>, actor: Actor, groupId: number, reason: string): Promise<void> {
  const group = await lockApplication(trx, groupId);
  await trx
    .updateTable('sponsor_groups')
    .set({ status: 'rejected', rejection_reason: reason, decided_at: new Date(), updated_at: new Date() })
    .where('id', '=', groupId)
    .execute();
  await writeAudit(trx, { actor, action: 'group.rejected', subject: `group:${groupId}`, details: { reason } });
  await queueEmail(trx, { to: group.coordinator_email, template: 'groups/rejected', locale: group.locale, data: { name: group.coordinator_name, groupName: group.name, reason } });
}

export async function requireGroup(db: Db | Transaction<Database>, groupId: number) {
  const group = await db
    .selectFrom('sponsor_groups')
    .select(['id', 'slug', 'name', 'city', 'province', 'languages', 'family_size', 'story', 'story_html', 'story_ko', 'story_fr', 'status', 'rejection_reason', 'coordinator_name', 'coordinator_email', 'created_at', 'decided_at'])
    .where('id', '=', groupId)
    .executeTakeFirst();
  if (!group) throw new DomainError('not_found', 'groups:errors.notFound');
  return group;
}
