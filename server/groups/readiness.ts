import { sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import { type Db, isAnyOf } from '../db/database';
import type { Database, GroupStatus } from '../db/schema';
import { extensionSupportByGroup } from '../schedules/support-schedules';
import { accounts } from '../ledger/accounts';
import { balancesOf } from '../ledger/ledger';
import { findRequirements, type Requirement, requirementOfRow } from './cost-tables';
import { allowedInKind, currentHousingShare, DEFAULT_IN_KIND_RULES, type InKindCommitment, type InKindRules, listInKindOf } from './in-kind';
import { SETTLEMENT_AREAS } from './settlement-plan';

export const GROUP_CHECKS = ['training', 'background_checks'] as const;
export type GroupCheck = (typeof GROUP_CHECKS)[number];

export type FundingPosition = {
  requirement: Requirement | undefined;
  requirementCents: number;
  /** What the group's fund can still spend: -(fund:group:<id> + expense:group:<id>). */
  fundsAvailableCents: number;
  /** Money credited to the group's fund so far (gifts preferring it, transfers): -(fund:group:<id>). */
  receivedCents: number;
  /** Pledges preferring the group, not yet paid: receivable:group:<id>. */
  pledgedOutstandingCents: number;
  inKindRecordedCents: number;
  inKindAllowedCents: number;
  cashFloorCents: number;
  /** The most donated housing may count for: the housing share of the income support. */
  housingCapCents: number;
  coveredCents: number;
  shortfallCents: number;
};

type Handle = Db | Transaction<Database>;

export async function fundingPosition(db: Handle, groupId: number, rules: InKindRules = DEFAULT_IN_KIND_RULES): Promise<FundingPosition> {
  return (await fundingPositions(db, [groupId], rules)).get(groupId)!;
}

/** Funding positions of several groups: five queries whatever the number of groups. */
export async function fundingPositions(db: Handle, groupIds: number[], rules: InKindRules = DEFAULT_IN_KIND_RULES): Promise<Map<number, FundingPosition>> {
  return fundingPositionsGiven(db, groupIds, await findRequirements(db, groupIds), rules);
}

/** Funding positions when the groups' requirements are already loaded (groupProfiles reads them with the groups). */
async function fundingPositionsGiven(
  db: Handle,
  groupIds: number[],
  requirements: Map<number, Requirement>,
  rules: InKindRules,
): Promise<Map<number, FundingPosition>> {
  const names = groupIds.flatMap((groupId) => [accounts.fund({ groupId }), accounts.expenses({ groupId }), accounts.receivable({ groupId })]);
  // Four independent reads, sent at once: on a pool each has its own connection (on a transaction
  // or the embedded database they queue on the one connection, as before). An approved extension
  // of support (schedules) grows the group's requirement and target.
  const [balances, items, housingShare, extensions] = await Promise.all([
    balancesOf(db, names),
    listInKindOf(db, groupIds),
    currentHousingShare(db),
    extensionSupportByGroup(db, groupIds),
  ]);
  return new Map(
    groupIds.map((groupId) => [groupId, toFundingPosition(groupId, requirements.get(groupId), balances, items.get(groupId) ?? [], rules, housingShare.basisPoints, extensions.get(groupId) ?? 0)]),
  );
}

function toFundingPosition(
  groupId: number,
  requirement: Requirement | undefined,
  balances: Map<string, number>,
  items: InKindCommitment[],
  rules: InKindRules,
  housingShareBasisPoints: number,
  extensionCents: number,
): FundingPosition {
  const ref = { groupId };
  const fund = balances.get(accounts.fund(ref)) ?? 0;
  const expenses = balances.get(accounts.expenses(ref)) ?? 0;
  const fundsAvailableCents = 0 - (fund + expenses);
  const pledgedOutstandingCents = Math.max(0, balances.get(accounts.receivable(ref)) ?? 0);
  const requirementCents = (requirement?.totalCents ?? 0) + extensionCents;
  const inKind = requirement ? allowedInKind(items, requirement, rules, housingShareBasisPoints) : { recordedCents: 0, allowedCents: 0, cashFloorCents: 0, housingCappedAtCents: 0 };
  const coveredCents = fundsAvailableCents + pledgedOutstandingCents + inKind.allowedCents;
  return {
    requirement,
    requirementCents,
    fundsAvailableCents,
    receivedCents: 0 - fund,
    pledgedOutstandingCents,
    inKindRecordedCents: inKind.recordedCents,
    inKindAllowedCents: inKind.allowedCents,
    cashFloorCents: inKind.cashFloorCents,
    housingCapCents: inKind.housingCappedAtCents,
    coveredCents,
    shortfallCents: Math.max(0, requirementCents - coveredCents),
  };
}

export async function groupChecks(db: Handle, groupId: number): Promise<Record<GroupCheck, boolean>> {
  return (await checksOf(db, [groupId])).get(groupId)!;
}

async function checksOf(db: Handle, groupIds: number[]): Promise<Map<number, Record<GroupCheck, boolean>>> {
  const result = new Map(groupIds.map((id) => [id, { training: false, background_checks: false }]));
  if (groupIds.length === 0) return result;
  const rows = await db.selectFrom('group_checks').select(['group_id', 'check_name', 'done']).where(isAnyOf('group_id', groupIds)).execute();
  for (const row of rows) result.get(row.group_id)![row.check_name] = row.done;
  return result;
}

/** Staff record a check (training, members' background checks) as done or not; audited. */
export async function recordCheck(trx: Transaction<Database>, actor: Actor, groupId: number, check: GroupCheck, done: boolean, note: string): Promise<void> {
  await trx
    .insertInto('group_checks')
    .values({ group_id: groupId, check_name: check, done, note: note || null, recorded_by_user_id: actor.userId })
    .onConflict((oc) => oc.columns(['group_id', 'check_name']).doUpdateSet({ done, note: note || null, recorded_by_user_id: actor.userId, recorded_at: new Date() }))
    .execute();
  await writeAudit(trx, { actor, action: 'group.check_recorded', subject: `group:${groupId}`, details: { check, done } });
}

/** What is missing for matching, as stable codes (views translate groups:missing.<code>). */
export type MissingItem = 'approved' | 'funds' | 'settlement_plan' | 'training' | 'background_checks';

/**
 * Everything matching needs to know about a group, and nothing about a family. `ready` is the
 * readiness checklist: approved, funds cover the requirement, every settlement area assigned,
 * and the staff checks done.
 */
export type GroupProfile = {
  id: number;
  slug: string;
  name: string;
  city: string;
  province: string;
  languages: string[];
  /** The family size the group can support. */
  capacity: number;
  status: GroupStatus;
  requirementCents: number;
  fundsAvailableCents: number;
  pledgedOutstandingCents: number;
  inKindAllowedCents: number;
  shortfallCents: number;
  settlementCompleteness: number;
  checks: Record<GroupCheck, boolean>;
  ready: boolean;
  missing: MissingItem[];
};

export async function groupProfile(db: Handle, groupId: number, rules: InKindRules = DEFAULT_IN_KIND_RULES): Promise<GroupProfile | undefined> {
  return (await groupProfiles(db, [groupId], rules))[0];
}

/**
 * Profiles of the given groups (unknown ids are left out), in the order given: six queries
 * whatever the number of groups.
 */
export async function groupProfiles(db: Handle, groupIds: number[], rules: InKindRules = DEFAULT_IN_KIND_RULES): Promise<GroupProfile[]> {
  if (groupIds.length === 0) return [];
  const byId = new Map((await groupFacts(db, { ids: groupIds })).map((r) => [r.id, r]));
  return profilesOf(
    db,
    groupIds.filter((id) => byId.has(id)).map((id) => byId.get(id)!),
    rules,
  );
}

type GroupFacts = Awaited<ReturnType<typeof groupFacts>>[number];

/**
 * Each group with its requirement, how many settlement areas a live member holds and which staff
 * checks are done: one query (matching reads every open group on each suggestions page).
 */
function groupFacts(db: Handle, scope: { ids: number[] } | { notRejected: true }) {
  // Every assignment is a live member's: savePlan assigns only live members and removeMember
  // deletes a member's assignments as it marks them removed, so no join to group_members (a third
  // of the page's time at 2,000 groups).
  const areas = db
    .selectFrom('settlement_assignments as a')
    .select(['a.group_id', sql<number>`count(distinct a.area)::int`.as('areas')])
    .groupBy('a.group_id');
  const checks = db
    .selectFrom('group_checks')
    .select([
      'group_id',
      sql<boolean>`bool_or(done) filter (where check_name = 'training')`.as('training'),
      sql<boolean>`bool_or(done) filter (where check_name = 'background_checks')`.as('background_checks'),
    ])
    .groupBy('group_id');
  let query = db
    .selectFrom('sponsor_groups as g')
    .leftJoin('group_requirements as r', 'r.group_id', 'g.id')
    .leftJoin(('ids' in scope ? areas.where(isAnyOf('a.group_id', scope.ids)) : areas).as('areas'), 'areas.group_id', 'g.id')
    .leftJoin(('ids' in scope ? checks.where(isAnyOf('group_id', scope.ids)) : checks).as('checks'), 'checks.group_id', 'g.id')
    .select([
      'g.id',
      'g.slug',
      'g.name',
      'g.city',
      'g.province',
      'g.languages',
      'g.family_size',
      'g.status',
      'r.edition_on',
      'r.family_size as requirement_family_size',
      'r.income_support_cents',
      'r.startup_cents',
      'areas.areas',
      'checks.training',
      'checks.background_checks',
    ]);
  query = 'ids' in scope ? query.where(isAnyOf('g.id', scope.ids)) : query.where('g.status', '!=', 'rejected').orderBy('g.name').orderBy('g.id');
  return query.execute();
}

async function profilesOf(db: Handle, rows: GroupFacts[], rules: InKindRules): Promise<GroupProfile[]> {
  const ids = rows.map((r) => r.id);
  const requirements = new Map<number, Requirement>();
  for (const r of rows) {
    const { edition_on, requirement_family_size: family_size, income_support_cents, startup_cents } = r;
    if (edition_on === null || family_size === null || income_support_cents === null || startup_cents === null) continue;
    requirements.set(r.id, requirementOfRow({ edition_on, family_size, income_support_cents, startup_cents }));
  }
  const funding = await fundingPositionsGiven(db, ids, requirements, rules);
  return rows.map((group) => {
    const id = group.id;
    const position = funding.get(id)!;
    const groupChecksDone: Record<GroupCheck, boolean> = { training: group.training ?? false, background_checks: group.background_checks ?? false };
    const assigned = group.areas ?? 0;
    const missing: MissingItem[] = [];
    if (group.status !== 'approved') missing.push('approved');
    if (!position.requirement || position.shortfallCents > 0) missing.push('funds');
    if (assigned < SETTLEMENT_AREAS.length) missing.push('settlement_plan');
    for (const check of GROUP_CHECKS) if (!groupChecksDone[check]) missing.push(check);
    return {
      id: group.id,
      slug: group.slug,
      name: group.name,
      city: group.city,
      province: group.province,
      languages: group.languages,
      capacity: group.family_size,
      status: group.status,
      requirementCents: position.requirementCents,
      fundsAvailableCents: position.fundsAvailableCents,
      pledgedOutstandingCents: position.pledgedOutstandingCents,
      inKindAllowedCents: position.inKindAllowedCents,
      shortfallCents: position.shortfallCents,
      settlementCompleteness: assigned / SETTLEMENT_AREAS.length,
      checks: groupChecksDone,
      ready: missing.length === 0,
      missing,
    };
  });
}

/** Every group's profile, by name (staff list). */
export async function listGroupProfiles(db: Handle, rules: InKindRules = DEFAULT_IN_KIND_RULES): Promise<GroupProfile[]> {
  const ids = await db.selectFrom('sponsor_groups').select('id').orderBy('name').orderBy('id').execute();
  return groupProfiles(db, ids.map((r) => r.id), rules);
}

/** Every group not rejected (applied or approved), by name: matching shows each with what it still misses. */
export async function listOpenGroupProfiles(db: Handle, rules: InKindRules = DEFAULT_IN_KIND_RULES): Promise<GroupProfile[]> {
  return profilesOf(db, await groupFacts(db, { notRejected: true }), rules);
}

/** Approved groups that meet the whole checklist: the ones matching may offer a family. */
export async function listReadyGroups(db: Handle, rules: InKindRules = DEFAULT_IN_KIND_RULES): Promise<GroupProfile[]> {
  // Ready implies approved (the checklist's first item).
  return (await listOpenGroupProfiles(db, rules)).filter((p) => p.ready);
}
