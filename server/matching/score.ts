import type { MatchWeights } from '../config';
import { type CostRow, requirementFromEdition } from '../groups/cost-tables';

/**
 * How well a ready sponsor group suits a family: pure functions, no database. A score is a sum of
 * named integer parts, each worth 0..weight×10 points (weights are configuration, MATCH_WEIGHT_*),
 * so staff see exactly why one group ranks above another. Hard rules exclude a group outright.
 */

/** What matching needs to know about a family (no identifying data). */
export type FamilyNeedsProfile = {
  id: number;
  size: number;
  languages: readonly string[];
  preferredRegion: string | null;
  sgbvSurvivor: boolean;
  medicalNeeds: boolean;
  traumaInformedSupport: boolean;
};

/** What matching needs to know about a sponsor group (filled from the groups module). */
export type GroupCandidate = {
  id: number;
  /** The groups module's readiness: approved, settlement plan and funds in place. */
  ready: boolean;
  /** What the readiness checklist still misses (groups' MissingItem codes), empty when ready. */
  missing: readonly string[];
  /** An approved match or a live hold already takes this group. */
  taken: boolean;
  /** Cash in trust, pledges and counted in-kind gifts, in cents. */
  fundsCents: number;
  /** Province or territory code of the group's community. */
  region: string | null;
  languages: readonly string[];
  /** The largest family the group can take (housing, undertaking). */
  capacity: number;
  /** Share of the settlement-plan areas with a named member, 0..1. */
  planCompleteness: number;
  /** What the group can offer for the priority needs. */
  offers: { sgbvInformedSupport: boolean; medicalSupport: boolean; traumaInformedSupport: boolean };
};

export type { CostRow } from '../groups/cost-tables';

/**
 * The cost-table requirement for a family of `size`: its row, or the largest listed size plus
 * the family_size 0 row ("each additional member") for every member beyond it.
 */
export function requirementCents(costTable: readonly CostRow[], size: number): number {
  return requirementFromEdition({ editionOn: '', rows: [...costTable] }, size).totalCents;
}

/** Funds earn full points at this share of the requirement: a contingency for the One Year Window. */
export const FUNDS_FULL_POINTS_PERCENT = 120;

export type ScorePartName = 'funds' | 'region' | 'language' | 'capacity' | 'plan' | 'priorityNeeds';
export const SCORE_PARTS: readonly ScorePartName[] = ['funds', 'region', 'language', 'capacity', 'plan', 'priorityNeeds'];

export type ScorePart = {
  name: ScorePartName;
  points: number;
  maxPoints: number;
  /** The facts behind the points, for the explanation (numbers and codes only, never identity). */
  detail: Record<string, number | string | boolean | null>;
};

export type ExclusionReason = 'not_ready' | 'taken' | 'too_small' | 'funds_short' | 'no_sgbv_support';

/** The priority needs matching places first, in the order staff set (table matching_priorities). */
export const PRIORITY_NEEDS = ['sgbv_survivor', 'medical_needs', 'trauma_informed_support'] as const;
export type PriorityNeed = (typeof PRIORITY_NEEDS)[number];

const NEED_OF: Record<PriorityNeed, { family: 'sgbvSurvivor' | 'medicalNeeds' | 'traumaInformedSupport'; offer: keyof GroupCandidate['offers'] }> = {
  sgbv_survivor: { family: 'sgbvSurvivor', offer: 'sgbvInformedSupport' },
  medical_needs: { family: 'medicalNeeds', offer: 'medicalSupport' },
  trauma_informed_support: { family: 'traumaInformedSupport', offer: 'traumaInformedSupport' },
};

/**
 * For each priority need in `order`: 1 when the family has it and the group can meet it. Pairs
 * are compared on these, in order, before any score (assignment.ts prioritisedAssignment).
 */
export function priorityTiers(family: FamilyNeedsProfile, group: GroupCandidate, order: readonly PriorityNeed[]): (0 | 1)[] {
  return order.map((need) => (family[NEED_OF[need].family] && group.offers[NEED_OF[need].offer] ? 1 : 0));
}

/** Why a group is excluded, with the facts staff need to see how close it is. */
export type ExclusionDetail = {
  /** The readiness checklist items still missing (groups:missing.<code>). */
  missing: readonly string[];
  /** How far the group's funds fall short of this family's requirement (0 when they do not). */
  shortCents: number;
  capacity: number;
  familySize: number;
};

export type Eligible = { groupId: number; eligible: true; score: number; maxScore: number; parts: ScorePart[]; tiers: (0 | 1)[] };
export type Excluded = { groupId: number; eligible: false; reasons: ExclusionReason[]; detail: ExclusionDetail };
export type Scored = Eligible | Excluded;

/** Exclusions staff may lift with a recorded reason: only the SGBV rule, and only when it is the sole reason. */
export type Overrides = { sgbvSupport?: boolean };

function points(weight: number, fraction: number): number {
  return Math.round(weight * 10 * Math.min(1, Math.max(0, fraction)));
}

function part(name: ScorePartName, weight: number, fraction: number, detail: ScorePart['detail']): ScorePart {
  return { name, points: points(weight, fraction), maxPoints: weight * 10, detail };
}

/**
 * The hard rules. A family flagged SGBV is never offered a group without SGBV-informed support
 * (the program's priority, shared/DOMAIN.md), unless staff override it with a recorded reason.
 */
export function exclusionsFor(family: FamilyNeedsProfile, group: GroupCandidate, needCents: number, overrides: Overrides = {}): ExclusionReason[] {
  const reasons: ExclusionReason[] = [];
  if (!group.ready) reasons.push('not_ready');
  if (group.taken) reasons.push('taken');
  if (group.capacity < family.size) reasons.push('too_small');
  if (group.fundsCents < needCents) reasons.push('funds_short');
  if (family.sgbvSurvivor && !group.offers.sgbvInformedSupport && !(overrides.sgbvSupport && reasons.length === 0)) reasons.push('no_sgbv_support');
  return reasons;
}

/**
 * The score of `group` for `family`, or why it is excluded. `needCents` is
 * requirementCents(table, family.size); `order` the priority needs in staff's order.
 */
export function scoreGroup(
  family: FamilyNeedsProfile,
  group: GroupCandidate,
  needCents: number,
  weights: MatchWeights,
  order: readonly PriorityNeed[] = PRIORITY_NEEDS,
  overrides: Overrides = {},
): Scored {
  const reasons = exclusionsFor(family, group, needCents, overrides);
  if (reasons.length > 0) {
    return {
      groupId: group.id,
      eligible: false,
      reasons,
      detail: { missing: group.missing, shortCents: Math.max(0, needCents - group.fundsCents), capacity: group.capacity, familySize: family.size },
    };
  }

  const fundsPercent = needCents === 0 ? 100 : Math.floor((group.fundsCents * 100) / needCents);
  const regionMatch = family.preferredRegion === null ? null : group.region === family.preferredRegion;
  const spoken = new Set(group.languages.map((l) => l.toLowerCase()));
  const shared = family.languages.filter((l) => spoken.has(l.toLowerCase())).length;
  const needed = [
    [family.sgbvSurvivor, group.offers.sgbvInformedSupport],
    [family.medicalNeeds, group.offers.medicalSupport],
    [family.traumaInformedSupport, group.offers.traumaInformedSupport],
  ].filter(([need]) => need);
  const met = needed.filter(([, offered]) => offered).length;

  const parts: ScorePart[] = [
    part('funds', weights.funds, needCents === 0 ? 1 : group.fundsCents / ((needCents * FUNDS_FULL_POINTS_PERCENT) / 100), {
      fundsCents: group.fundsCents,
      requirementCents: needCents,
      percentOfRequirement: fundsPercent,
      fullPointsAtPercent: FUNDS_FULL_POINTS_PERCENT,
    }),
    part('region', weights.region, regionMatch === false ? 0 : 1, { preferredRegion: family.preferredRegion, groupRegion: group.region }),
    part('language', weights.language, family.languages.length === 0 ? 1 : shared / family.languages.length, {
      familyLanguages: family.languages.length,
      sharedLanguages: shared,
    }),
    // A group whose capacity fits the family closely is preferred: larger groups stay free for larger families.
    part('capacity', weights.capacity, family.size / group.capacity, { familySize: family.size, groupCapacity: group.capacity }),
    part('plan', weights.plan, group.planCompleteness, { percentComplete: Math.floor(group.planCompleteness * 100) }),
    part('priorityNeeds', weights.priorityNeeds, needed.length === 0 ? 1 : met / needed.length, { needs: needed.length, met }),
  ];
  return {
    groupId: group.id,
    eligible: true,
    score: parts.reduce((sum, p) => sum + p.points, 0),
    maxScore: parts.reduce((sum, p) => sum + p.maxPoints, 0),
    parts,
    tiers: priorityTiers(family, group, order),
  };
}

/** Priorities before points: a pair meeting an earlier priority ranks first, then the score, then the group id. */
export function compareEligible(a: Eligible, b: Eligible): number {
  for (let k = 0; k < a.tiers.length; k++) if (a.tiers[k] !== b.tiers[k]) return b.tiers[k]! - a.tiers[k]!;
  return b.score - a.score || a.groupId - b.groupId;
}

export type Suggestions = { ranked: Eligible[]; excluded: Excluded[] };

/**
 * Every group for one family: eligible ones first by priorities, then score (compareEligible); the
 * rest with their reasons, closest first (fewest reasons, then the smallest funds shortfall).
 */
export function suggestGroups(
  family: FamilyNeedsProfile,
  groups: readonly GroupCandidate[],
  costTable: readonly CostRow[],
  weights: MatchWeights,
  order: readonly PriorityNeed[] = PRIORITY_NEEDS,
): Suggestions {
  const need = requirementCents(costTable, family.size);
  const ranked: Eligible[] = [];
  const excluded: Excluded[] = [];
  for (const group of groups) {
    const scored = scoreGroup(family, group, need, weights, order);
    if (scored.eligible) ranked.push(scored);
    else excluded.push(scored);
  }
  ranked.sort(compareEligible);
  excluded.sort((a, b) => a.reasons.length - b.reasons.length || a.detail.shortCents - b.detail.shortCents || a.groupId - b.groupId);
  return { ranked, excluded };
}
