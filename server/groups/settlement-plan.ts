import type { Transaction } from 'kysely';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';

/** Every area of a settlement plan (shared/DOMAIN.md "Who sponsors"), each to be assigned to a named member. */
export const SETTLEMENT_AREAS = [
  'reception',
  'orientation',
  'housing',
  'clothing',
  'food',
  'transportation',
  'language_training',
  'schooling',
  'childcare',
  'employment',
  'health',
  'finances',
  'emotional_support',
  'interpretation',
] as const;
export type SettlementArea = (typeof SETTLEMENT_AREAS)[number];

export function isSettlementArea(value: string): value is SettlementArea {
  return (SETTLEMENT_AREAS as readonly string[]).includes(value);
}

export type SettlementPlan = {
  areas: { area: SettlementArea; memberIds: number[]; memberNames: string[] }[];
  assignedCount: number;
  /** 0..1: share of areas with at least one member. */
  completeness: number;
  unassigned: SettlementArea[];
};

type Handle = Db | Transaction<Database>;

export async function settlementPlan(db: Handle, groupId: number): Promise<SettlementPlan> {
  const rows = await db
    .selectFrom('settlement_assignments as a')
    .innerJoin('group_members as m', 'm.id', 'a.member_id')
    .select(['a.area', 'm.id', 'm.name'])
    .where('a.group_id', '=', groupId)
    .where('m.removed_at', 'is', null)
    .orderBy('m.name')
    .execute();
  const areas = SETTLEMENT_AREAS.map((area) => {
    const mine = rows.filter((r) => r.area === area);
    return { area, memberIds: mine.map((r) => r.id), memberNames: mine.map((r) => r.name) };
  });
  const assignedCount = areas.filter((a) => a.memberIds.length > 0).length;
  return {
    areas,
    assignedCount,
    completeness: assignedCount / SETTLEMENT_AREAS.length,
    unassigned: areas.filter((a) => a.memberIds.length === 0).map((a) => a.area),
  };
}

/** Replaces the plan: for each area, the members responsible (members of this group only). */
export async function savePlan(trx: Transaction<Database>, groupId: number, assignments: Partial<Record<SettlementArea, number[]>>): Promise<void> {
  const memberIds = new Set(
    (await trx.selectFrom('group_members').select('id').where('group_id', '=', groupId).where('removed_at', 'is', null).execute()).map((m) => m.id),
  );
  const rows: { group_id: number; area: SettlementArea; member_id: number }[] = [];
  for (const area of SETTLEMENT_AREAS) {
    for (const id of new Set(assignments[area] ?? [])) {
      if (!memberIds.has(id)) throw new DomainError('invalid', 'groups:errors.notAMember');
      rows.push({ group_id: groupId, area, member_id: id });
    }
  }
  await trx.deleteFrom('settlement_assignments').where('group_id', '=', groupId).execute();
  if (rows.length) await trx.insertInto('settlement_assignments').values(rows).execute();
}
