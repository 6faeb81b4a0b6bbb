import type { MatchWeights } from '../../server/config';
import { adviseFamily, type Future, type PlacementContext, type TimedFamily } from '../../server/matching/placement';
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
