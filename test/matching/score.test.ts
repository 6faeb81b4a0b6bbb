import type { MatchWeights } from '../../server/config';
import fc from 'fast-check';
import { prioritisedAssignment } from '../../server/matching/assignment';
import { type FamilyNeedsProfile, type GroupCandidate, PRIORITY_NEEDS, requirementCents, scoreGroup, suggestGroups } from '../../server/matching/score';
import { testConfig } from '../support/app';
import { COST_TABLE_2018 } from '../support/cost-table-2018';

const costTable = COST_TABLE_2018;

const weights: MatchWeights = { funds: 35, region: 15, language: 20, capacity: 10, plan: 10, priorityNeeds: 10 };

const family: FamilyNeedsProfile = { id: 1, size: 3, languages: ['ko', 'en'], preferredRegion: 'ON', sgbvSurvivor: true, medicalNeeds: true, traumaInformedSupport: false };

function group(overrides: Partial<GroupCandidate> = {}): GroupCandidate {
  return {
    id: 10,
    ready: true,
    missing: [],
    taken: false,
    fundsCents: 3_204_000, // 120% of 26,700
    region: 'ON',
    languages: ['ko', 'en'],
    capacity: 3,
    planCompleteness: 1,
    offers: { sgbvInformedSupport: true, medicalSupport: true, traumaInformedSupport: false },
    ...overrides,
  };
}

test('requirement: the cost table row for the size, and each additional member beyond six', () => {
  expect(requirementCents(costTable, 1)).toBe(1_650_000);
  expect(requirementCents(costTable, 3)).toBe(2_670_000);
  expect(requirementCents(costTable, 6)).toBe(3_550_000);
  expect(requirementCents(costTable, 8)).toBe(3_550_000 + 2 * 270_000);
});

test('a perfect group scores every part in full, and the parts are named and sum to the score', () => {
  const scored = scoreGroup(family, group(), 2_670_000, weights);
  if (!scored.eligible) throw new Error('expected eligible');
  expect(scored.parts.map((p) => p.name)).toEqual(['funds', 'region', 'language', 'capacity', 'plan', 'priorityNeeds']);
  expect(scored.parts.map((p) => p.points)).toEqual([350, 150, 200, 100, 100, 100]);
  expect(scored.score).toBe(1000);
  expect(scored.maxScore).toBe(1000);
  expect(scored.score).toBe(scored.parts.reduce((s, p) => s + p.points, 0));
});

test('each part scores its own facts', () => {
  const scored = scoreGroup(
    family,
    group({
      fundsCents: 2_670_000, // exactly the requirement: 100/120 of the funds points
      region: 'QC',
      languages: ['ko'],
      capacity: 6,
      planCompleteness: 0.5,
      offers: { sgbvInformedSupport: true, medicalSupport: false, traumaInformedSupport: true },
    }),
    2_670_000,
    weights,
  );
  if (!scored.eligible) throw new Error('expected eligible');
  const byName = Object.fromEntries(scored.parts.map((p) => [p.name, p]));
  expect(byName.funds!.points).toBe(292); // 350 × 100/120 = 291.67
  expect(byName.funds!.detail).toMatchObject({ fundsCents: 2_670_000, requirementCents: 2_670_000, percentOfRequirement: 100 });
  expect(byName.region!.points).toBe(0);
  expect(byName.region!.detail).toEqual({ preferredRegion: 'ON', groupRegion: 'QC' });
  expect(byName.language!.points).toBe(100); // one of two languages
  expect(byName.capacity!.points).toBe(50); // family of 3 in a group for 6
  expect(byName.plan!.points).toBe(50);
  expect(byName.priorityNeeds!.points).toBe(50); // SGBV met, medical not
  expect(byName.priorityNeeds!.detail).toEqual({ needs: 2, met: 1 });
  expect(scored.score).toBe(292 + 0 + 100 + 50 + 50 + 50);
});

test('no preference (region, languages, priority needs) scores in full', () => {
  const open: FamilyNeedsProfile = { ...family, preferredRegion: null, languages: [], sgbvSurvivor: false, medicalNeeds: false };
  const scored = scoreGroup(open, group({ region: 'BC', languages: [], offers: { sgbvInformedSupport: false, medicalSupport: false, traumaInformedSupport: false } }), 2_670_000, weights);
  if (!scored.eligible) throw new Error('expected eligible');
  expect(scored.parts.filter((p) => ['region', 'language', 'priorityNeeds'].includes(p.name)).map((p) => p.points)).toEqual([150, 200, 100]);
});

test('hard rules exclude a group with every reason named', () => {
  const scored = scoreGroup(
    family,
    group({ ready: false, missing: ['training'], taken: true, capacity: 2, fundsCents: 2_669_999, offers: { sgbvInformedSupport: false, medicalSupport: true, traumaInformedSupport: false } }),
    2_670_000,
    weights,
  );
  expect(scored).toEqual({
    groupId: 10,
    eligible: false,
    reasons: ['not_ready', 'taken', 'too_small', 'funds_short', 'no_sgbv_support'],
    detail: { missing: ['training'], shortCents: 1, capacity: 2, familySize: 3 },
  });
});

test('weights are configuration: a zero weight removes a part from the score', () => {
  const noFunds = { ...weights, funds: 0 };
  const scored = scoreGroup(family, group(), 2_670_000, noFunds);
  if (!scored.eligible) throw new Error('expected eligible');
  expect(scored.maxScore).toBe(650);
  const fromEnv = testConfig({ MATCH_WEIGHT_REGION: '40' }).matchWeights;
  expect(fromEnv.region).toBe(40);
  expect(() => testConfig({ MATCH_WEIGHT_REGION: '-1' })).toThrow(/MATCH_WEIGHT_REGION/);
});

test('suggestions rank eligible groups best first (ties by id) and list the excluded', () => {
  const groups = [
    group({ id: 1, region: 'QC' }),
    group({ id: 2 }),
    group({ id: 3, ready: false }),
    group({ id: 4, region: 'QC' }),
    group({ id: 5, capacity: 1 }),
  ];
  const s = suggestGroups(family, groups, costTable, weights);
  expect(s.ranked.map((r) => r.groupId)).toEqual([2, 1, 4]);
  expect(s.excluded.map((e) => [e.groupId, e.reasons])).toEqual([
    [3, ['not_ready']],
    [5, ['too_small']],
  ]);
});

// ---- Priorities before points (issue 19) ---------------------------------------------------------

const noSupport = { sgbvInformedSupport: false, medicalSupport: false, traumaInformedSupport: false };
const survivor: FamilyNeedsProfile = { id: 7, size: 4, languages: ['ko'], preferredRegion: 'ON', sgbvSurvivor: true, medicalNeeds: false, traumaInformedSupport: false };

test('the issue counter-example: 842 points for province and language never outrank the 592-point group that offers SGBV support', () => {
  const need = requirementCents(costTable, 4);
  const full = Math.ceil((need * 120) / 100);
  const near = group({ id: 1, fundsCents: full, region: 'ON', languages: ['ko'], capacity: 4, planCompleteness: 0.42, offers: noSupport });
  const supportive = group({ id: 2, fundsCents: full, region: 'QC', languages: ['en'], capacity: 4, planCompleteness: 0.42, offers: { ...noSupport, sgbvInformedSupport: true } });
  // On points alone (the SGBV rule lifted), the near group wins: the old ranking.
  const asPoints = (g: GroupCandidate) => scoreGroup(survivor, g, need, weights, PRIORITY_NEEDS, { sgbvSupport: true });
  expect([asPoints(near), asPoints(supportive)].map((s) => (s.eligible ? s.score : null))).toEqual([842, 592]);
  const s = suggestGroups(survivor, [near, supportive], costTable, weights);
  expect(s.ranked.map((r) => [r.groupId, r.score])).toEqual([[2, 592]]);
  expect(s.excluded.map((e) => [e.groupId, e.reasons])).toEqual([[1, ['no_sgbv_support']]]);
  // Staff may override the SGBV rule alone (with a reason, recorded by the workflow): the pair is then scored as usual.
  const overridden = scoreGroup(survivor, near, need, weights, PRIORITY_NEEDS, { sgbvSupport: true });
  expect(overridden.eligible && overridden.score).toBe(842);
  expect(overridden.eligible && overridden.tiers).toEqual([0, 0, 0]);
  // …but not any other reason.
  expect(scoreGroup(survivor, { ...near, taken: true }, need, weights, PRIORITY_NEEDS, { sgbvSupport: true })).toMatchObject({ reasons: ['taken', 'no_sgbv_support'] });
});

test('suggestions follow the priority order staff set, before points', () => {
  const both: FamilyNeedsProfile = { ...family, sgbvSurvivor: false, medicalNeeds: true, traumaInformedSupport: true };
  const medical = group({ id: 1, offers: { ...noSupport, medicalSupport: true } });
  const trauma = group({ id: 2, region: 'QC', offers: { ...noSupport, traumaInformedSupport: true } });
  expect(suggestGroups(both, [medical, trauma], costTable, weights).ranked.map((r) => r.groupId)).toEqual([1, 2]);
  const traumaFirst = ['trauma_informed_support', 'sgbv_survivor', 'medical_needs'] as const;
  expect(suggestGroups(both, [medical, trauma], costTable, weights, traumaFirst).ranked.map((r) => r.groupId)).toEqual([2, 1]);
});

test('random instances: a survivor family is never given a group without SGBV support, nor left out while one with it is free and eligible', () => {
  const arbGroup = (id: number) =>
    fc.record({
      id: fc.constant(id),
      ready: fc.boolean(),
      missing: fc.constant([]),
      taken: fc.boolean(),
      fundsCents: fc.integer({ min: 1_000_000, max: 5_000_000 }),
      region: fc.constantFrom('ON', 'QC', 'BC'),
      languages: fc.subarray(['ko', 'en', 'fr']),
      capacity: fc.integer({ min: 1, max: 7 }),
      planCompleteness: fc.integer({ min: 0, max: 14 }).map((n) => n / 14),
      offers: fc.record({ sgbvInformedSupport: fc.boolean(), medicalSupport: fc.boolean(), traumaInformedSupport: fc.boolean() }),
    });
  const arbFamily = (id: number) =>
    fc.record({
      id: fc.constant(id),
      size: fc.integer({ min: 1, max: 6 }),
      languages: fc.subarray(['ko', 'en', 'fr']),
      preferredRegion: fc.constantFrom('ON', 'QC', 'BC', null),
      sgbvSurvivor: fc.boolean(),
      medicalNeeds: fc.boolean(),
      traumaInformedSupport: fc.boolean(),
    });
  const instance = fc
    .tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }))
    .chain(([f, g]) => fc.tuple(fc.tuple(...Array.from({ length: f }, (_, i) => arbFamily(i))), fc.tuple(...Array.from({ length: g }, (_, i) => arbGroup(i)))));
  fc.assert(
    fc.property(instance, ([families, groups]) => {
      const scored = families.map((f) => groups.map((g) => scoreGroup(f, g, requirementCents(costTable, f.size), weights)));
      const result = prioritisedAssignment(scored.map((row) => row.map((s) => (s.eligible ? { tiers: s.tiers, score: s.score } : null))));
      const usedGroups = new Set(result.pairs.map((p) => p.col));
      const placedFamilies = new Set(result.pairs.map((p) => p.row));
      for (const p of result.pairs) {
        if (families[p.row]!.sgbvSurvivor) expect(groups[p.col]!.offers.sgbvInformedSupport).toBe(true);
      }
      families.forEach((f, row) => {
        if (!f.sgbvSurvivor || placedFamilies.has(row)) return;
        const freeAndEligible = groups.filter((g, col) => !usedGroups.has(col) && g.offers.sgbvInformedSupport && scored[row]![col]!.eligible);
        expect(freeAndEligible).toEqual([]);
      });
    }),
    { numRuns: 400 },
  );
});
