import type { Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database, GroupStatus } from '../db/schema';
import { accounts } from '../ledger/accounts';
import { balancesOf } from '../ledger/ledger';
import { findRequirement, type Requirement } from './cost-tables';
import { allowedInKind, DEFAULT_IN_KIND_RULES, type InKindRules, listInKind } from './in-kind';
import { settlementPlan } from './settlement-plan';

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
  coveredCents: number;
  shortfallCents: number;
};

type Handle = Db | Transaction<Database>;

export async function fundingPosition(db: Handle, groupId: number, rules: InKindRules = DEFAULT_IN_KIND_RULES): Promise<FundingPosition> {
  const ref = { groupId };
  const [requirement, balances, items] = await Promise.all([
    findRequirement(db, groupId),
    balancesOf(db, [accounts.fund(ref), accounts.expenses(ref), accounts.receivable(ref)]),
    listInKind(db, groupId),
  ]);
  const fund = balances.get(accounts.fund(ref)) ?? 0;
  const expenses = balances.get(accounts.expenses(ref)) ?? 0;
  const fundsAvailableCents = 0 - (fund + expenses);
  const pledgedOutstandingCents = Math.max(0, balances.get(accounts.receivable(ref)) ?? 0);
  const requirementCents = requirement?.totalCents ?? 0;
  const inKind = requirement ? allowedInKind(items, requirement, rules) : { recordedCents: 0, allowedCents: 0, cashFloorCents: 0 };
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
    coveredCents,
    shortfallCents: Math.max(0, requirementCents - coveredCents),
  };
}

export async function groupChecks(db: Handle, groupId: number): Promise<Record<GroupCheck, boolean>> {
  const rows = await db.selectFrom('group_checks').select(['check_name', 'done']).where('group_id', '=', groupId).execute();
  const result = { training: false, background_checks: false };
  for (const row of rows) result[row.check_name] = row.done;
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
  const group = await db
    .selectFrom('sponsor_groups')
    .select(['id', 'slug', 'name', 'city', 'province', 'languages', 'family_size', 'status'])
    .where('id', '=', groupId)
    .executeTakeFirst();
  if (!group) return undefined;
  const [funding, plan, checks] = await Promise.all([fundingPosition(db, groupId, rules), settlementPlan(db, groupId), groupChecks(db, groupId)]);
  const missing: MissingItem[] = [];
  if (group.status !== 'approved') missing.push('approved');
  if (!funding.requirement || funding.shortfallCents > 0) missing.push('funds');
  if (plan.unassigned.length > 0) missing.push('settlement_plan');
  for (const check of GROUP_CHECKS) if (!checks[check]) missing.push(check);
  return {
    id: group.id,
    slug: group.slug,
    name: group.name,
    city: group.city,
    province: group.province,
    languages: group.languages,
    capacity: group.family_size,
    status: group.status,
    requirementCents: funding.requirementCents,
    fundsAvailableCents: funding.fundsAvailableCents,
    pledgedOutstandingCents: funding.pledgedOutstandingCents,
    inKindAllowedCents: funding.inKindAllowedCents,
    shortfallCents: funding.shortfallCents,
    settlementCompleteness: plan.completeness,
    checks,
    ready: missing.length === 0,
    missing,
  };
}

/** Every group's profile, by name (staff list). A few dozen groups: one profile each is fine. */
export async function listGroupProfiles(db: Handle, rules: InKindRules = DEFAULT_IN_KIND_RULES): Promise<GroupProfile[]> {
  const ids = await db.selectFrom('sponsor_groups').select('id').orderBy('name').orderBy('id').execute();
  const profiles: GroupProfile[] = [];
  for (const { id } of ids) profiles.push((await groupProfile(db, id, rules))!);
  return profiles;
}

/** Approved groups that meet the whole checklist: the ones matching may offer a family. */
export async function listReadyGroups(db: Handle, rules: InKindRules = DEFAULT_IN_KIND_RULES): Promise<GroupProfile[]> {
  const ids = await db.selectFrom('sponsor_groups').select('id').where('status', '=', 'approved').orderBy('name').orderBy('id').execute();
  const ready: GroupProfile[] = [];
  for (const { id } of ids) {
    const profile = (await groupProfile(db, id, rules))!;
    if (profile.ready) ready.push(profile);
  }
  return ready;
}
