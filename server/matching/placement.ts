import type { MatchWeights } from '../config';
import { type PrioritisedPair, prioritisedAssignment } from './assignment';
import { type CostRow, type FamilyNeedsProfile, type GroupCandidate, PRIORITY_NEEDS, type PriorityNeed, requirementCents, scoreGroup } from './score';

/**
 * Dynamic placement advice: place a family now with a group, or hold a strong group for a likely
 * arrival that needs it more. The method is the two-stage stochastic one of Ahani, Gölz,
 * Procaccia, Teytelboym and Trapp, "Dynamic Placement in Refugee Resettlement", Operations
 * Research 72(3), 2024 (the Annie MOORE software): draw several likely futures (families who may
 * arrive, groups who may become ready), solve each future's hindsight assignment together with
 * the families waiting now (prioritisedAssignment: placements, then priority needs in staff's
 * order, then score), and see what each future gives the family being decided. The group most
 * futures give it is the advice; when most futures keep the family for a later group, or give
 * the family's best group to a future arrival, holding is the advice. Advice only: staff decide
 * (a hold is never made by Haven itself).
 */

/** A family in a future: its profile and the month it arrives (months are counted from any origin). */
export type TimedFamily = { profile: FamilyNeedsProfile; arrives: number };
/** A group in a future: the month it becomes ready. */
export type TimedGroup = { group: GroupCandidate; ready: number };
export type Future = { families: readonly TimedFamily[]; groups: readonly TimedGroup[] };

export type PlacementContext = {
  now: number;
  /** How many months a family may wait for a group before it is referred elsewhere. */
  maxWaitMonths: number;
  costTable: readonly CostRow[];
  weights: MatchWeights;
  order?: readonly PriorityNeed[];
};

export type PlacementAdvice =
  /** Place the family now with this group (`votes` of the futures agree). */
  | { kind: 'place'; groupId: number; votes: number; futures: number }
  /** Keep the family waiting: most futures place it later. */
  | { kind: 'wait'; votes: number; futures: number }
  /** Hold `groupId` (the family's first suggestion) for a likely arrival: in `votes` futures a later family with `need` gets it. */
  | { kind: 'hold'; groupId: number; need: PriorityNeed | null; votes: number; futures: number; placeWith: number | null };

/** The allowed pair of a family and a group, as the whole-sequence assignment sees it: the group ready by the family's last month of waiting. */
export function timedPair(family: TimedFamily, group: TimedGroup, context: PlacementContext): PrioritisedPair | null {
  if (group.ready > family.arrives + context.maxWaitMonths) return null;
  const scored = scoreGroup(family.profile, group.group, requirementCents(context.costTable, family.profile.size), context.weights, context.order ?? PRIORITY_NEEDS);
  return scored.eligible ? { tiers: scored.tiers, score: scored.score } : null;
}

/**
 * The advice for `family` (waiting now, first of `waiting`), with `available` the groups free
 * now, over the `futures` drawn. Each future's families and groups come after `now`.
 */
export function adviseFamily(
  waiting: readonly TimedFamily[],
  available: readonly GroupCandidate[],
  futures: readonly Future[],
  context: PlacementContext,
): PlacementAdvice {
  const family = waiting[0]!;
  const order = context.order ?? PRIORITY_NEEDS;
  // Futures share their families and groups: each pair is scored once (then only the dates differ).
  const scores = new Map<string, PrioritisedPair | null>();
  const pairOf = (f: TimedFamily, g: TimedGroup): PrioritisedPair | null => {
    if (g.ready > f.arrives + context.maxWaitMonths) return null;
    const key = `${f.profile.id}:${g.group.id}`;
    if (!scores.has(key)) scores.set(key, timedPair({ profile: f.profile, arrives: g.ready }, g, context));
    return scores.get(key)!;
  };
  const now = candidateColumns(waiting, available, futures, context, pairOf);
  const first = bestNow(family, now, context);
  const votes = new Map<number, number>();
  let later = 0;
  const takenBy = new Map<number, { count: number; needs: Map<PriorityNeed | null, number> }>();
  for (const future of futures) {
    const families = [...waiting, ...future.families];
    const groups = [...now, ...future.groups];
    const result = prioritisedAssignment(families.map((f) => groups.map((g) => pairOf(f, g))));
    const own = result.pairs.find((p) => p.row === 0);
    if (own && own.col < now.length) votes.set(own.col, (votes.get(own.col) ?? 0) + 1);
    else later += 1;
    if (first !== null) {
      const other = result.pairs.find((p) => p.col === first && p.row >= waiting.length);
      if (other) {
        const need = order.find((_, k) => other.tiers[k] === 1) ?? null;
        const entry = takenBy.get(first) ?? { count: 0, needs: new Map() };
        entry.count += 1;
        entry.needs.set(need, (entry.needs.get(need) ?? 0) + 1);
        takenBy.set(first, entry);
      }
    }
  }
  const canWait = context.now < family.arrives + context.maxWaitMonths;
  const [bestCol, bestVotes] = [...votes.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] ?? [null, 0];
  if (canWait && later > bestVotes) return { kind: 'wait', votes: later, futures: futures.length };
  if (bestCol === null) return first === null ? { kind: 'wait', votes: later, futures: futures.length } : { kind: 'place', groupId: now[first]!.group.id, votes: 0, futures: futures.length };
  if (first !== null && bestCol !== first) {
    const held = takenBy.get(first);
    const need = held ? [...held.needs.entries()].sort((a, b) => b[1] - a[1])[0]![0] : null;
    return { kind: 'hold', groupId: now[first]!.group.id, need, votes: held?.count ?? 0, futures: futures.length, placeWith: now[bestCol]!.group.id };
  }
  return { kind: 'place', groupId: now[bestCol]!.group.id, votes: bestVotes, futures: futures.length };
}

/**
 * The groups free now that any assignment needs: each family's R best (R = every family that can
 * appear in a future). An assignment using a family's lower choice can swap it for one of its R
 * best that nobody else uses (at most R − 1 are), losing nothing: the same optimum, on a few
 * hundred columns instead of thousands.
 */
export function candidateColumns(
  waiting: readonly TimedFamily[],
  available: readonly GroupCandidate[],
  futures: readonly Future[],
  context: PlacementContext,
  pairOf: (f: TimedFamily, g: TimedGroup) => PrioritisedPair | null,
): TimedGroup[] {
  const all: TimedGroup[] = available.map((group) => ({ group, ready: context.now }));
  const families = new Map<number, TimedFamily>();
  for (const f of [...waiting, ...futures.flatMap((future) => future.families)]) if (!families.has(f.profile.id)) families.set(f.profile.id, f);
  const keep = families.size;
  if (all.length <= keep) return all;
  const kept = new Set<number>();
  for (const f of families.values()) {
    const ranked = all
      .map((g, i) => ({ i, pair: pairOf({ profile: f.profile, arrives: context.now }, g) }))
      .filter((x): x is { i: number; pair: PrioritisedPair } => x.pair !== null)
      .sort((a, b) => (better(a.pair, b.pair) ? -1 : better(b.pair, a.pair) ? 1 : a.i - b.i));
    for (const x of ranked.slice(0, keep)) kept.add(x.i);
  }
  return [...kept].sort((a, b) => a - b).map((i) => all[i]!);
}

/** The column of the family's first suggestion among the groups free now (priorities, then score), or null. */
function bestNow(family: TimedFamily, now: readonly TimedGroup[], context: PlacementContext): number | null {
  let best: { col: number; pair: PrioritisedPair } | null = null;
  for (const [col, group] of now.entries()) {
    const pair = timedPair(family, group, context);
    if (pair === null) continue;
    if (best === null || better(pair, best.pair)) best = { col, pair };
  }
  return best?.col ?? null;
}

function better(a: PrioritisedPair, b: PrioritisedPair): boolean {
  for (let k = 0; k < a.tiers.length; k++) if (a.tiers[k] !== b.tiers[k]) return a.tiers[k]! > b.tiers[k]!;
  return a.score > b.score;
}

/** How long the suggestions page expects a family now in vetting to take to become available, and how likely it clears. */
export const PIPELINE_MONTHS = 3;
export const PIPELINE_CLEARS = 0.8;

/**
 * Likely futures from the families staff have registered and not yet cleared (the pipeline): each
 * becomes available in one of the next PIPELINE_MONTHS months, or (1 − PIPELINE_CLEARS) of the
 * time not at all; no new group is assumed. Seeded, so a page shows the same advice on a reload.
 */
export function pipelineFutures(pipeline: readonly FamilyNeedsProfile[], count: number, seed: number): Future[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  const random = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
  return Array.from({ length: count }, () => ({
    families: pipeline.filter(() => random() < PIPELINE_CLEARS).map((profile) => ({ profile, arrives: 1 + Math.floor(random() * PIPELINE_MONTHS) })),
    groups: [],
  }));
}
