import { sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Config } from '../config';
import { type Db, isAnyOf } from '../db/database';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import type { Family } from '../families/families';
import { listEditions } from '../groups/cost-tables';
import { type GroupProfile, groupProfile, listOpenGroupProfiles, listReadyGroups } from '../groups/readiness';
import { type CostRow, type FamilyNeedsProfile, type GroupCandidate, PRIORITY_NEEDS, type PriorityNeed } from './score';

type Handle = Db | Transaction<Database>;

/** A scored group as staff see it: the candidate plus the names staff recognise it by. */
export type CandidateGroup = GroupCandidate & { name: string; slug: string; city: string; province: string };

export function inKindRules(config: Pick<Config, 'groupStartupCashFloorPercent'>) {
  return { startupCashFloorPercent: config.groupStartupCashFloorPercent };
}

/** The current cost-table edition's rows. */
export async function currentCostTable(db: Handle): Promise<CostRow[]> {
  const [latest] = await listEditions(db);
  if (!latest) throw new DomainError('unavailable', 'matching:errors.noCostTable');
  return latest.rows;
}

/** Groups held by a live proposal or an approved match: the hard rule "already matched/held". */
export async function takenGroupIds(db: Handle): Promise<Set<number>> {
  const rows = await db
    .selectFrom('matches')
    .select('group_id')
    .where((eb) => eb.or([eb('status', '=', 'approved'), eb.and([eb('status', '=', 'proposed'), eb('hold_expires_at', '>', sql<Date>`now()`)])]))
    .execute();
  return new Set(rows.map((r) => r.group_id));
}

export function toCandidate(profile: GroupProfile, taken: boolean, offers: GroupCandidate['offers'] | undefined): CandidateGroup {
  return {
    id: profile.id,
    name: profile.name,
    slug: profile.slug,
    city: profile.city,
    province: profile.province,
    ready: profile.ready,
    missing: profile.missing,
    taken,
    fundsCents: profile.fundsAvailableCents + profile.pledgedOutstandingCents + profile.inKindAllowedCents,
    region: profile.province,
    languages: profile.languages,
    capacity: profile.capacity,
    planCompleteness: profile.settlementCompleteness,
    offers: offers ?? { sgbvInformedSupport: false, medicalSupport: false, traumaInformedSupport: false },
  };
}

/** The support the groups offer: of the given groups, or of every group (one small row each). */
async function offersOf(db: Handle, groupIds: number[] | 'every group'): Promise<Map<number, GroupCandidate['offers']>> {
  if (groupIds !== 'every group' && groupIds.length === 0) return new Map();
  let query = db.selectFrom('group_support_offers').select(['group_id', 'sgbv_informed_support', 'medical_support', 'trauma_informed_support']);
  if (groupIds !== 'every group') query = query.where(isAnyOf('group_id', groupIds));
  const rows = await query.execute();
  return new Map(
    rows.map((r) => [r.group_id, { sgbvInformedSupport: r.sgbv_informed_support, medicalSupport: r.medical_support, traumaInformedSupport: r.trauma_informed_support }]),
  );
}

/**
 * Matching candidates (taken ones flagged, for the hard rule): every ready group, or with
 * `{ all: true }` every group not rejected, so staff see the ones not ready and why.
 */
export async function listCandidateGroups(db: Handle, config: Pick<Config, 'groupStartupCashFloorPercent'>, options: { all?: boolean } = {}): Promise<CandidateGroup[]> {
  const rules = inKindRules(config);
  // The offers are read with the profiles, not after them: a row per group, so reading every
  // group's costs less than waiting for the profiles' ids.
  const [profiles, taken, offers] = await Promise.all([options.all ? listOpenGroupProfiles(db, rules) : listReadyGroups(db, rules), takenGroupIds(db), offersOf(db, 'every group')]);
  return profiles.map((g) => toCandidate(g, taken.has(g.id), offers.get(g.id)));
}

/** The priority needs in the order matching places them (table matching_priorities). */
export async function priorityOrder(db: Handle): Promise<PriorityNeed[]> {
  const rows = await db.selectFrom('matching_priorities').select('need').orderBy('position').execute();
  return rows.map((r) => r.need);
}

/** Staff set the order of the priority needs (every need once); audited. */
export async function setPriorityOrder(trx: Transaction<Database>, actor: Actor, order: readonly PriorityNeed[]): Promise<void> {
  if (order.length !== PRIORITY_NEEDS.length || new Set(order).size !== order.length || order.some((n) => !PRIORITY_NEEDS.includes(n))) {
    throw new DomainError('invalid', 'matching:errors.priorityOrder', { order: 'matching:errors.priorityOrder' });
  }
  const before = await priorityOrder(trx);
  await trx.deleteFrom('matching_priorities').execute();
  await trx
    .insertInto('matching_priorities')
    .values(order.map((need, i) => ({ position: i + 1, need, updated_by: actor.userId })))
    .execute();
  await writeAudit(trx, { actor, action: 'matching.priorities_set', subject: 'matching:priorities', details: { from: before, to: [...order] } });
}

/** One group as a candidate, whatever its state (for proposing and approving). */
export async function requireCandidateGroup(db: Handle, config: Pick<Config, 'groupStartupCashFloorPercent'>, groupId: number, ignoreMatchId?: number): Promise<CandidateGroup> {
  const profile = await groupProfile(db, groupId, inKindRules(config));
  if (!profile) throw new DomainError('not_found', 'matching:errors.groupNotFound');
  let takenQuery = db.selectFrom('matches').select('id').where('group_id', '=', groupId).where('status', 'in', ['proposed', 'approved']);
  if (ignoreMatchId !== undefined) takenQuery = takenQuery.where('id', '!=', ignoreMatchId);
  const taken = (await takenQuery.executeTakeFirst()) !== undefined;
  const offers = await offersOf(db, [groupId]);
  return toCandidate(profile, taken, offers.get(groupId));
}

export function needsProfileOf(family: Family): FamilyNeedsProfile {
  return {
    id: family.id,
    size: family.size,
    languages: family.languages,
    preferredRegion: family.preferredRegion,
    sgbvSurvivor: family.sgbvSurvivor,
    medicalNeeds: family.medicalNeeds,
    traumaInformedSupport: family.traumaInformedSupport,
  };
}

/** Staff record what a group can offer for priority needs (scored by matching); audited. */
export async function recordSupportOffers(trx: Transaction<Database>, actor: Actor, groupId: number, offers: GroupCandidate['offers']): Promise<void> {
  const group = await trx.selectFrom('sponsor_groups').select('id').where('id', '=', groupId).executeTakeFirst();
  if (!group) throw new DomainError('not_found', 'matching:errors.groupNotFound');
  const values = {
    sgbv_informed_support: offers.sgbvInformedSupport,
    medical_support: offers.medicalSupport,
    trauma_informed_support: offers.traumaInformedSupport,
    recorded_by: actor.userId,
  };
  await trx
    .insertInto('group_support_offers')
    .values({ group_id: groupId, ...values })
    .onConflict((oc) => oc.column('group_id').doUpdateSet({ ...values, recorded_at: sql`now()` }))
    .execute();
  await writeAudit(trx, { actor, action: 'group.support_offers_recorded', subject: `group:${groupId}`, details: { ...offers } });
}

/** Families held by a live proposal (the best overall assignment leaves them out). */
export async function heldFamilyIds(db: Handle): Promise<Set<number>> {
  const rows = await db.selectFrom('matches').select('family_id').where('status', '=', 'proposed').where('hold_expires_at', '>', sql<Date>`now()`).execute();
  return new Set(rows.map((r) => r.family_id));
}
