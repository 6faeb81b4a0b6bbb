import type { Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import { type Db, isAnyOf } from '../db/database';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import type { Requirement } from './cost-tables';

export const IN_KIND_CATEGORIES = ['housing', 'furniture', 'clothing', 'household', 'linens', 'staples'] as const;
export type InKindCategory = (typeof IN_KIND_CATEGORIES)[number];
export const IN_KIND_STATUSES = ['offered', 'confirmed', 'received', 'withdrawn'] as const;
export type InKindStatus = (typeof IN_KIND_STATUSES)[number];
/** What a group may set itself: an offer, or withdrawing it. Confirming and receiving are staff's. */
export const GROUP_IN_KIND_STATUSES = ['offered', 'withdrawn'] as const satisfies readonly InKindStatus[];

export type InKindCommitment = {
  id: number;
  category: InKindCategory;
  description: string;
  valueCents: number;
  evidenceNote: string;
  donorIsParty: boolean;
  status: InKindStatus;
  /** When staff confirmed it (null: not verified, so it does not count). */
  verifiedAt: Date | null;
  /** Whether this item may count toward the requirement at all (before the caps). */
  countable: boolean;
};

export type NewInKind = Omit<InKindCommitment, 'id' | 'status' | 'countable' | 'verifiedAt'>;

/** The rules in shared/DOMAIN.md, with the cash floor from configuration. */
export type InKindRules = { startupCashFloorPercent: number };
export const DEFAULT_IN_KIND_RULES: InKindRules = { startupCashFloorPercent: 25 };

type Handle = Db | Transaction<Database>;

function countable(c: { category: string; status: string; donorIsParty: boolean; verifiedAt: Date | null }): boolean {
  // Only what staff confirmed counts (a group's own "confirmed" before issue 19 does not).
  if ((c.status !== 'confirmed' && c.status !== 'received') || c.verifiedAt === null) return false;
  // Donated housing counts only when the donor is a party to the sponsorship (staff check it when confirming).
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
    .select(['group_id', 'id', 'category', 'description', 'value_cents', 'evidence_note', 'donor_is_party', 'status', 'verified_at'])
    .where(isAnyOf('group_id', groupIds))
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
      verifiedAt: r.verified_at,
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

/**
 * A group marks its own item offered again or withdrawn (only an item of this group: another
 * group's id is not found). Either undoes a staff confirmation: the item stops counting.
 */
export async function setInKindStatus(trx: Transaction<Database>, groupId: number, id: number, status: (typeof GROUP_IN_KIND_STATUSES)[number]): Promise<void> {
  if (!(GROUP_IN_KIND_STATUSES as readonly string[]).includes(status)) throw new DomainError('forbidden', 'groups:errors.inKindStaffOnly');
  const result = await trx
    .updateTable('in_kind_commitments')
    .set({ status, verified_by: null, verified_at: null, updated_at: new Date() })
    .where('id', '=', id)
    .where('group_id', '=', groupId)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw new DomainError('not_found', 'groups:errors.notFound');
}

/**
 * Staff set an item's status after checking its evidence; confirming or receiving records them
 * as its verifier, and for housing they record whether the donor is a party to the sponsorship
 * (the group's own declaration is only a claim). Audited.
 */
export async function verifyInKind(
  trx: Transaction<Database>,
  actor: Actor,
  groupId: number,
  id: number,
  input: { status: InKindStatus; donorIsParty: boolean },
  now: Date = new Date(),
): Promise<void> {
  if (actor.userId === null) throw new DomainError('forbidden', 'groups:errors.inKindStaffOnly');
  const item = await trx.selectFrom('in_kind_commitments').select(['category']).where('id', '=', id).where('group_id', '=', groupId).forUpdate().executeTakeFirst();
  if (!item) throw new DomainError('not_found', 'groups:errors.notFound');
  const verified = input.status === 'confirmed' || input.status === 'received';
  const donorIsParty = item.category === 'housing' && input.donorIsParty;
  await trx
    .updateTable('in_kind_commitments')
    .set({ status: input.status, donor_is_party: donorIsParty, verified_by: verified ? actor.userId : null, verified_at: verified ? now : null, updated_at: now })
    .where('id', '=', id)
    .execute();
  await writeAudit(trx, { actor, action: 'group.in_kind_verified', subject: `group:${groupId}`, details: { itemId: id, status: input.status, donorIsParty } });
}

/** Donated housing counts for at most this share of the income support: dated data with its source. */
export type HousingShare = { basisPoints: number; source: string; recordedAt: Date };

export async function currentHousingShare(db: Handle): Promise<HousingShare> {
  const row = await db.selectFrom('housing_shares').select(['basis_points', 'source', 'recorded_at']).orderBy('id', 'desc').limit(1).executeTakeFirst();
  // The migration seeds a row and staff only add rows; none at all counts no housing.
  return row ? { basisPoints: row.basis_points, source: row.source, recordedAt: row.recorded_at } : { basisPoints: 0, source: '', recordedAt: new Date(0) };
}

/** Staff record a new housing share (basis points, 0–10,000) with its source; audited. */
export async function recordHousingShare(trx: Transaction<Database>, actor: Actor, input: { basisPoints: number; source: string }): Promise<void> {
  await trx.insertInto('housing_shares').values({ basis_points: input.basisPoints, source: input.source, recorded_by: actor.userId }).execute();
  await writeAudit(trx, { actor, action: 'group.housing_share_recorded', subject: 'housing_share', details: { basisPoints: input.basisPoints } });
}

/**
 * How much in-kind value may count toward the requirement: items staff confirmed only; housing
 * only from a party to the sponsorship, and at most the shelter share of the income support
 * (`housingShareBasisPoints`, the rest pays food, transport and phone); everything else reduces
 * start-up costs but never below the cash floor.
 */
export function allowedInKind(items: InKindCommitment[], requirement: Requirement, rules: InKindRules, housingShareBasisPoints: number) {
  const counted = items.filter((i) => i.countable);
  const housing = counted.filter((i) => i.category === 'housing').reduce((s, i) => s + i.valueCents, 0);
  const goods = counted.filter((i) => i.category !== 'housing').reduce((s, i) => s + i.valueCents, 0);
  const cashFloorCents = Math.ceil((requirement.startupCents * rules.startupCashFloorPercent) / 100);
  const startupCap = Math.max(0, requirement.startupCents - cashFloorCents);
  const housingCapCents = Math.floor((requirement.incomeSupportCents * housingShareBasisPoints) / 10_000);
  const housingCents = Math.min(housing, housingCapCents);
  const goodsCents = Math.min(goods, startupCap);
  return {
    recordedCents: items.filter((i) => i.status !== 'withdrawn').reduce((s, i) => s + i.valueCents, 0),
    allowedCents: housingCents + goodsCents,
    cashFloorCents,
    goodsCappedAtCents: startupCap,
    housingCappedAtCents: housingCapCents,
  };
}
