import { sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Config } from '../config';
import type { Db } from '../db/database';
import type { Database, MatchStatus } from '../db/schema';
import { DomainError } from '../domain-error';
import { type Family, lockFamily } from '../families/families';
import type { ShareableField } from '../families/identities';
import { queueEmail } from '../notifications/outbox';
import { currentCostTable, needsProfileOf, priorityOrder, requireCandidateGroup } from './candidates';
import { type GroupCandidate, requirementCents, type ScorePart, scoreGroup } from './score';

/**
 * The match workflow: a proposal holds a family and a group for MATCH_HOLD_DAYS; another staff
 * member approves it (four-eyes), or staff reject it with a reason or withdraw it; an unanswered
 * hold expires. The database allows at most one approved match (and one live hold) per family and
 * per group. Every step is audited and e-mailed, without any family detail: e-mails carry a match
 * number and a link to sign in, nothing else.
 */
export type MatchingConfig = Pick<Config, 'matchHoldDays' | 'matchWeights' | 'groupStartupCashFloorPercent' | 'publicUrl' | 'matchingStaffEmail'>;

export type Match = {
  id: number;
  familyId: number;
  groupId: number;
  status: MatchStatus;
  score: number;
  scoreParts: ScorePart[];
  proposedBy: number;
  proposedAt: Date;
  holdExpiresAt: Date;
  decidedBy: number | null;
  decidedAt: Date | null;
  reason: string | null;
  sharedFields: ShareableField[];
  /** Staff's recorded reason for matching an SGBV survivor's family with a group without SGBV-informed support. */
  sgbvOverrideReason: string | null;
};

const MATCH_COLUMNS = [
  'id',
  'family_id',
  'group_id',
  'status',
  'score',
  'score_parts',
  'proposed_by',
  'proposed_at',
  'hold_expires_at',
  'decided_by',
  'decided_at',
  'reason',
  'shared_fields',
  'sgbv_override_reason',
] as const;

type MatchRow = {
  id: number;
  family_id: number;
  group_id: number;
  status: MatchStatus;
  score: number;
  score_parts: unknown;
  proposed_by: number;
  proposed_at: Date;
  hold_expires_at: Date;
  decided_by: number | null;
  decided_at: Date | null;
  reason: string | null;
  shared_fields: string[];
  sgbv_override_reason: string | null;
};

function toMatch(row: MatchRow): Match {
  return {
    id: row.id,
    familyId: row.family_id,
    groupId: row.group_id,
    status: row.status,
    score: row.score,
    scoreParts: row.score_parts as ScorePart[],
    proposedBy: row.proposed_by,
    proposedAt: row.proposed_at,
    holdExpiresAt: row.hold_expires_at,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    reason: row.reason,
    sharedFields: row.shared_fields as ShareableField[],
    sgbvOverrideReason: row.sgbv_override_reason,
  };
}

type Step = 'proposed' | 'approved' | 'rejected' | 'withdrawn' | 'expired';

/** Tells staff (the matching inbox) and the group's coordinator that a step happened: ids and a link only. */
async function notify(trx: Transaction<Database>, config: MatchingConfig, match: { id: number; groupId: number }, step: Step): Promise<void> {
  if (config.matchingStaffEmail) {
    await queueEmail(trx, {
      to: config.matchingStaffEmail,
      template: 'matching/staff-update',
      locale: 'en',
      data: { context: step, matchId: match.id, link: `${config.publicUrl}/staff/matches/${match.id}` },
    });
  }
  const group = await trx.selectFrom('sponsor_groups').select(['coordinator_email', 'locale']).where('id', '=', match.groupId).executeTakeFirst();
  if (group) {
    await queueEmail(trx, {
      to: group.coordinator_email,
      template: 'matching/group-update',
      locale: group.locale,
      data: { context: step, link: `${config.publicUrl}/group` },
    });
  }
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === '23505';
}

async function lockMatch(trx: Transaction<Database>, matchId: number): Promise<Match> {
  const row = await trx.selectFrom('matches').select(MATCH_COLUMNS).where('id', '=', matchId).forUpdate().executeTakeFirst();
  if (!row) throw new DomainError('not_found', 'matching:errors.matchNotFound');
  return toMatch(row);
}

/**
 * Expires every hold whose time has passed (run by the periodic job and lazily before any
 * matching read or decision). Returns the expired match ids.
 */
export async function expireHolds(trx: Transaction<Database>, config: MatchingConfig, now: Date = new Date()): Promise<number[]> {
  const rows = await trx
    .updateTable('matches')
    .set({ status: 'expired', decided_at: now })
    .where('status', '=', 'proposed')
    .where('hold_expires_at', '<=', now)
    .returning(['id', 'group_id', 'family_id'])
    .execute();
  for (const row of rows) {
    await writeAudit(trx, { actor: { userId: null, label: 'system' }, action: 'match.expired', subject: `match:${row.id}`, details: { familyId: row.family_id, groupId: row.group_id } });
    await notify(trx, config, { id: row.id, groupId: row.group_id }, 'expired');
  }
  return rows.map((r) => r.id);
}

/**
 * Proposes family × group: scores the pair now (hard rules must pass) and holds both for
 * MATCH_HOLD_DAYS. `sgbvOverrideReason` lifts the one rule staff may lift, an SGBV survivor's
 * family with a group without SGBV-informed support; the reason is kept on the match (not in the
 * audit details: it may name the family's circumstances) and the override is audited.
 */
export async function proposeMatch(
  trx: Transaction<Database>,
  config: MatchingConfig,
  actor: Actor,
  input: { familyId: number; groupId: number; sgbvOverrideReason?: string },
  now: Date = new Date(),
): Promise<Match> {
  if (actor.userId === null) throw new DomainError('forbidden', 'matching:errors.staffOnly');
  await expireHolds(trx, config, now);
  const family = await lockFamily(trx, input.familyId);
  if (family.status !== 'available') throw new DomainError('conflict', 'matching:errors.familyNotAvailable');
  const group = await requireCandidateGroup(trx, config, input.groupId);
  const overrideReason = input.sgbvOverrideReason?.trim() || null;
  const scored = await scorePair(trx, config, family, group, overrideReason);
  const overridden = overrideReason !== null && family.sgbvSurvivor && !group.offers.sgbvInformedSupport;
  const holdExpiresAt = new Date(now.getTime() + config.matchHoldDays * 86_400_000);
  let row: MatchRow;
  try {
    row = await trx
      .insertInto('matches')
      .values({
        family_id: family.id,
        group_id: group.id,
        score: scored.score,
        score_parts: JSON.stringify(scored.parts),
        proposed_by: actor.userId,
        proposed_at: now,
        hold_expires_at: holdExpiresAt,
        sgbv_override_reason: overridden ? overrideReason : null,
      })
      .returning(MATCH_COLUMNS)
      .executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error)) throw new DomainError('conflict', 'matching:errors.alreadyHeld');
    throw error;
  }
  await writeAudit(trx, {
    actor,
    action: 'match.proposed',
    subject: `match:${row.id}`,
    details: { familyId: family.id, groupId: group.id, score: scored.score, holdExpiresAt: holdExpiresAt.toISOString(), ...(overridden ? { sgbvOverride: true } : {}) },
  });
  await notify(trx, config, { id: row.id, groupId: group.id }, 'proposed');
  return toMatch(row);
}

/** Scores family × group under the hard rules (the SGBV one lifted when staff recorded a reason); refuses an ineligible pair. */
async function scorePair(trx: Transaction<Database>, config: MatchingConfig, family: Family, group: GroupCandidate, sgbvOverrideReason: string | null) {
  const need = requirementCents(await currentCostTable(trx), family.size);
  const scored = scoreGroup(needsProfileOf(family), group, need, config.matchWeights, await priorityOrder(trx), { sgbvSupport: sgbvOverrideReason !== null });
  if (!scored.eligible) {
    const key = scored.reasons.length === 1 && scored.reasons[0] === 'no_sgbv_support' ? 'matching:errors.sgbvOverrideNeeded' : 'matching:errors.notEligible';
    throw new DomainError('conflict', key, { reasons: scored.reasons.join(',') });
  }
  return scored;
}

/** A live hold: still proposed and not past its expiry (an expired one is marked so, and refused). */
async function requireLiveProposal(trx: Transaction<Database>, config: MatchingConfig, matchId: number, now: Date): Promise<Match> {
  const match = await lockMatch(trx, matchId);
  if (match.status === 'expired' || (match.status === 'proposed' && match.holdExpiresAt.getTime() <= now.getTime())) {
    throw new DomainError('conflict', 'matching:errors.holdExpired');
  }
  if (match.status !== 'proposed') throw new DomainError('conflict', 'matching:errors.alreadyDecided');
  return match;
}

/**
 * Approves a proposal. Four-eyes: the approver must be a different staff member from the
 * proposer (also a CHECK in the database). The group must still pass the hard rules; the family
 * becomes matched. `sharedFields` are the identity fields the group will see.
 */
export async function approveMatch(
  trx: Transaction<Database>,
  config: MatchingConfig,
  actor: Actor,
  matchId: number,
  sharedFields: readonly ShareableField[] = [],
  now: Date = new Date(),
): Promise<Match> {
  if (actor.userId === null) throw new DomainError('forbidden', 'matching:errors.staffOnly');
  const match = await requireLiveProposal(trx, config, matchId, now);
  if (match.proposedBy === actor.userId) throw new DomainError('forbidden', 'matching:errors.fourEyes');
  const family = await lockFamily(trx, match.familyId);
  if (family.status !== 'available') throw new DomainError('conflict', 'matching:errors.familyNotAvailable');
  const group = await requireCandidateGroup(trx, config, match.groupId, match.id);
  await scorePair(trx, config, family, group, match.sgbvOverrideReason);
  let row: MatchRow;
  try {
    row = await trx
      .updateTable('matches')
      .set({ status: 'approved', decided_by: actor.userId, decided_at: now, shared_fields: [...new Set(sharedFields)] })
      .where('id', '=', match.id)
      .returning(MATCH_COLUMNS)
      .executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error)) throw new DomainError('conflict', 'matching:errors.alreadyMatched');
    throw error;
  }
  await trx.updateTable('families').set({ status: 'matched', updated_at: now }).where('id', '=', family.id).execute();
  await writeAudit(trx, { actor, action: 'match.approved', subject: `match:${match.id}`, details: { familyId: family.id, groupId: match.groupId, sharedFields } });
  await notify(trx, config, match, 'approved');
  return toMatch(row);
}

export async function rejectMatch(trx: Transaction<Database>, config: MatchingConfig, actor: Actor, matchId: number, reason: string, now: Date = new Date()): Promise<Match> {
  if (actor.userId === null) throw new DomainError('forbidden', 'matching:errors.staffOnly');
  if (reason.trim() === '') throw new DomainError('invalid', 'matching:errors.reasonRequired', { reason: 'matching:errors.reasonRequired' });
  const match = await requireLiveProposal(trx, config, matchId, now);
  const row = await trx
    .updateTable('matches')
    .set({ status: 'rejected', decided_by: actor.userId, decided_at: now, reason: reason.trim() })
    .where('id', '=', match.id)
    .returning(MATCH_COLUMNS)
    .executeTakeFirstOrThrow();
  // The reason may name sensitive circumstances: it stays in the match row, not in the audit details.
  await writeAudit(trx, { actor, action: 'match.rejected', subject: `match:${match.id}`, details: { familyId: match.familyId, groupId: match.groupId } });
  await notify(trx, config, match, 'rejected');
  return toMatch(row);
}

/** Withdraws a proposal, or an approved match (the family becomes available again). */
export async function withdrawMatch(trx: Transaction<Database>, config: MatchingConfig, actor: Actor, matchId: number, reason: string, now: Date = new Date()): Promise<Match> {
  if (actor.userId === null) throw new DomainError('forbidden', 'matching:errors.staffOnly');
  const match = await lockMatch(trx, matchId);
  const live = match.status === 'approved' || (match.status === 'proposed' && match.holdExpiresAt.getTime() > now.getTime());
  if (!live) throw new DomainError('conflict', 'matching:errors.notWithdrawable');
  const row = await trx
    .updateTable('matches')
    .set({ status: 'withdrawn', decided_by: actor.userId, decided_at: now, reason: reason.trim() || null })
    .where('id', '=', match.id)
    .returning(MATCH_COLUMNS)
    .executeTakeFirstOrThrow();
  if (match.status === 'approved') {
    await trx.updateTable('families').set({ status: 'available', updated_at: now }).where('id', '=', match.familyId).where('status', '=', 'matched').execute();
  }
  await writeAudit(trx, { actor, action: 'match.withdrawn', subject: `match:${match.id}`, details: { familyId: match.familyId, groupId: match.groupId, was: match.status } });
  await notify(trx, config, match, 'withdrawn');
  return toMatch(row);
}

/** Staff change which identity fields the matched group sees. */
export async function setSharedFields(trx: Transaction<Database>, actor: Actor, matchId: number, sharedFields: readonly ShareableField[]): Promise<Match> {
  const match = await lockMatch(trx, matchId);
  if (match.status !== 'approved') throw new DomainError('conflict', 'matching:errors.notApproved');
  const row = await trx.updateTable('matches').set({ shared_fields: [...new Set(sharedFields)] }).where('id', '=', matchId).returning(MATCH_COLUMNS).executeTakeFirstOrThrow();
  await writeAudit(trx, { actor, action: 'match.sharing_changed', subject: `match:${matchId}`, details: { from: match.sharedFields, to: sharedFields } });
  return toMatch(row);
}

export async function requireMatch(db: Db | Transaction<Database>, matchId: number): Promise<Match> {
  const row = await db.selectFrom('matches').select(MATCH_COLUMNS).where('id', '=', matchId).executeTakeFirst();
  if (!row) throw new DomainError('not_found', 'matching:errors.matchNotFound');
  return toMatch(row);
}

/** Staff list: live proposals first, then the most recent decisions. */
export async function listMatches(db: Db | Transaction<Database>, filter: { familyId?: number; limit?: number } = {}): Promise<Match[]> {
  let query = db
    .selectFrom('matches')
    .select(MATCH_COLUMNS)
    .orderBy(sql`status = 'proposed'`, 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(filter.limit ?? 100, 500));
  if (filter.familyId) query = query.where('family_id', '=', filter.familyId);
  return (await query.execute()).map(toMatch);
}

/** The group's approved match, if any (for its workspace). */
export async function findApprovedMatchOfGroup(db: Db | Transaction<Database>, groupId: number): Promise<Match | undefined> {
  const row = await db.selectFrom('matches').select(MATCH_COLUMNS).where('group_id', '=', groupId).where('status', '=', 'approved').executeTakeFirst();
  return row ? toMatch(row) : undefined;
}

/** Whether a group has an approved match, so its members can see their family's shared details. */
export async function isGroupMatched(db: Db | Transaction<Database>, groupId: number): Promise<boolean> {
  const row = await db.selectFrom('matches').select('id').where('group_id', '=', groupId).where('status', '=', 'approved').executeTakeFirst();
  return row !== undefined;
}

/** "N of 5 families sponsored": approved matches (a partial unique index keeps this a small index scan). */
export async function countApprovedMatches(db: Db): Promise<number> {
  const row = await db.selectNoFrom(approvedMatchCount().as('n')).executeTakeFirstOrThrow();
  return row.n;
}

/** How many matches are approved (families sponsored), as a scalar subquery another statement can carry. */
export function approvedMatchCount() {
  return sql<number>`(select count(*)::bigint from matches where status = 'approved')`;
}
