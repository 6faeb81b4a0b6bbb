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

export type ExclusionReason = 'not_ready' | 'taken' | 'too_small' | 'funds_short';

export type Scored =
  | { groupId: number; eligible: true; score: number; maxScore: number; parts: ScorePart[] }
  | { groupId: number; eligible: false; reasons: ExclusionReason[] };

function points(weight: number, fraction: number): number {
  return Math.round(weight * 10 * Math.min(1, Math.max(0, fraction)));
}

function part(name: ScorePartName, weight: number, fraction: number, detail: ScorePart['detail']): ScorePart {
  return { name, points: points(weight, fraction), maxPoints: weight * 10, detail };
}

export function exclusionsFor(family: FamilyNeedsProfile, group: GroupCandidate, needCents: number): ExclusionReason[] {
  const reasons: ExclusionReason[] = [];
  if (!group.ready) reasons.push('not_ready');
  if (group.taken) reasons.push('taken');
  if (group.capacity < family.size) reasons.push('too_small');
  if (group.fundsCents < needCents) reasons.push('funds_short');
  return reasons;
}

/** The score of `group` for `family`, or why it is excluded. `needCents` is requirementCents(table, family.size). */
export function scoreGroup(family: FamilyNeedsProfile, group: GroupCandidate, needCents: number, weights: MatchWeights): Scored {
  const reasons = exclusionsFor(family, group, needCents);
  if (reasons.length > 0) return { groupId: group.id, eligible: false, reasons };

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
  };
}

export type Suggestions = {
  ranked: Extract<Scored, { eligible: true }>[];
  excluded: Extract<Scored, { eligible: false }>[];
};

/** Every group scored for one family: eligible ones best first (ties by group id), the rest with their reasons. */
export function suggestGroups(
  family: FamilyNeedsProfile,
  groups: readonly GroupCandidate[],
  costTable: readonly CostRow[],
  weights: MatchWeights,
): Suggestions {
  const need = requirementCents(costTable, family.size);
  const ranked: Suggestions['ranked'] = [];
  const excluded: Suggestions['excluded'] = [];
  for (const group of groups) {
    const scored = scoreGroup(family, group, need, weights);
    if (scored.eligible) ranked.push(scored);
    else excluded.push(scored);
  }
  ranked.sort((a, b) => b.score - a.score || a.groupId - b.groupId);
  return { ranked, excluded };
}
