import type { Transaction } from 'kysely';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import type { Requirement } from './cost-tables';

export const IN_KIND_CATEGORIES = ['housing', 'furniture', 'clothing', 'household', 'linens', 'staples'] as const;
export type InKindCategory = (typeof IN_KIND_CATEGORIES)[number];
export const IN_KIND_STATUSES = ['offered', 'confirmed', 'received', 'withdrawn'] as const;
export type InKindStatus = (typeof IN_KIND_STATUSES)[number];

export type InKindCommitment = {
  id: number;
  category: InKindCategory;
  description: string;
  valueCents: number;
  evidenceNote: string;
  donorIsParty: boolean;
  status: InKindStatus;
  /** Whether this item may count toward the requirement at all (before the caps). */
  countable: boolean;
};

export type NewInKind = Omit<InKindCommitment, 'id' | 'status' | 'countable'>;

/** The rules in shared/DOMAIN.md, with the cash floor from configuration. */
export type InKindRules = { startupCashFloorPercent: number };
export const DEFAULT_IN_KIND_RULES: InKindRules = { startupCashFloorPercent: 25 };

type Handle = Db | Transaction<Database>;

function countable(c: { category: string; status: string; donorIsParty: boolean }): boolean {
  if (c.status !== 'confirmed' && c.status !== 'received') return false;
  // Donated housing counts only when the donor is a party to the sponsorship.
  return c.category !== 'housing' || c.donorIsParty;
}

export async function listInKind(db: Handle, groupId: number): Promise<InKindCommitment[]> {
  return (await listInKindOf(db, [groupId])).get(groupId) ?? [];
}

/** The commitments of several groups in one query, by group id. */
export async function listInKindOf(db: Handle, groupIds: number[]): Promise<Map<number, InKindCommitment[]>> {
  const result = new Map<number, InKindCommitment[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return result;
  const rows = await db
    .selectFrom('in_kind_commitments')
    .select(['group_id', 'id', 'category', 'description', 'value_cents', 'evidence_note', 'donor_is_party', 'status'])
    .where('group_id', 'in', groupIds)
    .orderBy('id')
    .execute();
  for (const r of rows) {
    const c = {
      id: r.id,
      category: r.category as InKindCategory,
      description: r.description,
      valueCents: r.value_cents,
      evidenceNote: r.evidence_note,
      donorIsParty: r.donor_is_party,
      status: r.status,
    };
    result.get(r.group_id)?.push({ ...c, countable: countable(c) });
  }
  return result;
}

export async function addInKind(trx: Transaction<Database>, groupId: number, item: NewInKind): Promise<number> {
  const { id } = await trx
    .insertInto('in_kind_commitments')
    .values({
      group_id: groupId,
      category: item.category,
      description: item.description,
      value_cents: item.valueCents,
      evidence_note: item.evidenceNote,
      donor_is_party: item.category === 'housing' && item.donorIsParty,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** Only an item of this group: another group's id is not found. */
export async function setInKindStatus(trx: Transaction<Database>, groupId: number, id: number, status: InKindStatus): Promise<void> {
  const result = await trx
    .updateTable('in_kind_commitments')
    .set({ status, updated_at: new Date() })
    .where('id', '=', id)
    .where('group_id', '=', groupId)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new DomainError('not_found', 'groups:errors.notFound');
}

/**
 * How much in-kind value may count toward the requirement: confirmed or received items only;
 * housing only from a party to the sponsorship, and at most the income support it replaces;
 * everything else reduces start-up costs but never below the cash floor.
 */
export function allowedInKind(items: InKindCommitment[], requirement: Requirement, rules: InKindRules) {
  const counted = items.filter((i) => i.countable);
  const housing = counted.filter((i) => i.category === 'housing').reduce((s, i) => s + i.valueCents, 0);
  const goods = counted.filter((i) => i.category !== 'housing').reduce((s, i) => s + i.valueCents, 0);
  const cashFloorCents = Math.ceil((requirement.startupCents * rules.startupCashFloorPercent) / 100);
  const startupCap = Math.max(0, requirement.startupCents - cashFloorCents);
  const housingCents = Math.min(housing, requirement.incomeSupportCents);
  const goodsCents = Math.min(goods, startupCap);
  return {
    recordedCents: items.filter((i) => i.status !== 'withdrawn').reduce((s, i) => s + i.valueCents, 0),
    allowedCents: housingCents + goodsCents,
    cashFloorCents,
    goodsCappedAtCents: startupCap,
  };
}
