import fc from 'fast-check';
import type { MatchWeights } from '../../server/config';
import { prioritisedAssignment } from '../../server/matching/assignment';
import { adviseFamily, candidateColumns, type Future, type PlacementContext, type TimedFamily, timedPair } from '../../server/matching/placement';
import type { FamilyNeedsProfile, GroupCandidate } from '../../server/matching/score';
import { COST_TABLE_2018 } from '../support/cost-table-2018';

const weights: MatchWeights = { funds: 35, region: 15, language: 20, capacity: 10, plan: 10, priorityNeeds: 10 };
const context: PlacementContext = { now: 3, maxWaitMonths: 3, costTable: COST_TABLE_2018, weights };

const family = (id: number, over: Partial<FamilyNeedsProfile> = {}): FamilyNeedsProfile => ({
  id, size: 3, languages: ['ko'], preferredRegion: 'ON', sgbvSurvivor: false, medicalNeeds: false, traumaInformedSupport: false, ...over,
});
const group = (id: number, over: Partial<GroupCandidate> = {}): GroupCandidate => ({
  id, ready: true, missing: [], taken: false, fundsCents: 10_000_000, region: 'ON', languages: ['ko'], capacity: 3, planCompleteness: 1,
  offers: { sgbvInformedSupport: false, medicalSupport: false, traumaInformedSupport: false }, ...over,
});

// The group offering SGBV-informed support also scores best for the family deciding now (closer capacity fit is equal; it speaks Korean, the other does not).
const strong = group(1, { offers: { sgbvInformedSupport: true, medicalSupport: false, traumaInformedSupport: false } });
const plain = group(2, { languages: ['en'] });
const now: TimedFamily = { profile: family(10), arrives: 3 };
const survivorNextMonth: Future = { families: [{ profile: family(11, { sgbvSurvivor: true }), arrives: 4 }], groups: [] };
const quiet: Future = { families: [], groups: [] };

test('the advice holds the SGBV-capable group when the likely futures bring a survivor who needs it, and places the family with the other group', () => {
  expect(adviseFamily([now], [strong, plain], [survivorNextMonth, survivorNextMonth, quiet], context)).toEqual({
    kind: 'hold', groupId: 1, need: 'sgbv_survivor', votes: 2, futures: 3, placeWith: 2,
  });
});

test('with no such arrival likely, the family is placed with its first suggestion', () => {
  expect(adviseFamily([now], [strong, plain], [quiet, quiet, survivorNextMonth], context)).toMatchObject({ kind: 'place', groupId: 1, votes: 2 });
});

test('a family whose only group is better kept waits while it may, and is placed on its last month of waiting', () => {
  const laterGroup: Future = { families: [{ profile: family(12, { sgbvSurvivor: true }), arrives: 4 }], groups: [{ group: group(3, { languages: ['en'] }), ready: 5 }] };
  expect(adviseFamily([now], [strong], [laterGroup, laterGroup], context)).toMatchObject({ kind: 'wait', votes: 2 });
  expect(adviseFamily([now], [strong], [laterGroup, laterGroup], { ...context, now: 6 })).toMatchObject({ kind: 'place', groupId: 1 });
});

test('keeping only each family’s best groups (as many as there are families) loses nothing: the full assignment’s placements, priorities and score', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ size: fc.integer({ min: 1, max: 6 }), sgbv: fc.boolean(), medical: fc.boolean(), ko: fc.boolean() }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.record({ capacity: fc.integer({ min: 1, max: 7 }), sgbv: fc.boolean(), medical: fc.boolean(), ko: fc.boolean(), funds: fc.integer({ min: 1_000_000, max: 6_000_000 }), plan: fc.integer({ min: 0, max: 10 }) }), { minLength: 1, maxLength: 14 }),
      (fs, gs) => {
        const families: TimedFamily[] = fs.map((f, i) => ({ profile: family(100 + i, { size: f.size, sgbvSurvivor: f.sgbv, medicalNeeds: f.medical, languages: f.ko ? ['ko'] : ['en'] }), arrives: 3 }));
        const groups = gs.map((g, i) => group(200 + i, { capacity: g.capacity, fundsCents: g.funds, planCompleteness: g.plan / 10, languages: g.ko ? ['ko'] : ['en'], offers: { sgbvInformedSupport: g.sgbv, medicalSupport: g.medical, traumaInformedSupport: false } }));
        const all = groups.map((g) => ({ group: g, ready: 3 }));
        const pairOf = (f: TimedFamily, g: { group: GroupCandidate; ready: number }) => timedPair(f, g, context);
        const kept = candidateColumns(families, groups, [], context, pairOf);
        const full = prioritisedAssignment(families.map((f) => all.map((g) => pairOf(f, g))));
        const restricted = prioritisedAssignment(families.map((f) => kept.map((g) => pairOf(f, g))));
        expect({ placed: restricted.placed, tiers: restricted.tierCounts, total: restricted.total }).toEqual({ placed: full.placed, tiers: full.tierCounts, total: full.total });
      },
    ),
    { numRuns: 300 },
  );
});
