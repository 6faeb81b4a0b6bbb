import fc from 'fast-check';
import { greedyAssignment, optimalAssignment, type PrioritisedMatrix, type PrioritisedPair, prioritisedAssignment, type ScoreMatrix } from '../../server/matching/assignment';

/** Every matching (pairs may be left out), by exhaustive search over (row, used columns): the reference. */
function bruteForceBest(scores: ScoreMatrix): number {
  const rows = scores.length;
  const cols = rows === 0 ? 0 : scores[0]!.length;
  const memo = new Map<number, number>();
  const go = (r: number, used: number): number => {
    if (r === rows) return 0;
    const key = r * (1 << cols) + used;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let best = go(r + 1, used); // row r left unassigned
    for (let c = 0; c < cols; c++) {
      const s = scores[r]![c]!;
      if (s === null || used & (1 << c)) continue;
      best = Math.max(best, s + go(r + 1, used | (1 << c)));
    }
    memo.set(key, best);
    return best;
  };
  return go(0, 0);
}

function checkValid(scores: ScoreMatrix, result: ReturnType<typeof optimalAssignment>) {
  const rows = new Set<number>();
  const cols = new Set<number>();
  let total = 0;
  for (const p of result.pairs) {
    expect(rows.has(p.row) || cols.has(p.col)).toBe(false);
    rows.add(p.row);
    cols.add(p.col);
    expect(scores[p.row]![p.col]).toBe(p.score);
    expect(p.score).not.toBeNull();
    total += p.score;
  }
  expect(result.total).toBe(total);
}

test('beats greedy where the best single pair is not part of the best assignment', () => {
  // Greedy takes (0,0)=10 and is left with (1,1)=1: total 11. Optimal: (0,1)+(1,0) = 9+9 = 18.
  const scores = [
    [10, 9],
    [9, 1],
  ];
  expect(greedyAssignment(scores).total).toBe(11);
  const best = optimalAssignment(scores);
  expect(best.total).toBe(18);
  expect(best.pairs).toEqual([
    { row: 0, col: 1, score: 9 },
    { row: 1, col: 0, score: 9 },
  ]);
});

test('beats greedy with forbidden pairs: greedy strands a family that only one group can take', () => {
  // Family 1 can go only to group 0; greedy gives group 0 to family 0 and family 1 gets nothing.
  const scores = [
    [900, 850, null],
    [800, null, null],
    [null, 700, 100],
  ];
  expect(greedyAssignment(scores).total).toBe(900 + 700);
  const best = optimalAssignment(scores);
  expect(best.total).toBe(850 + 800 + 100);
  checkValid(scores, best);
});

test('rectangular matrices both ways, and forbidden rows are left unassigned', () => {
  const wide = [
    [1, 5, 3, 4],
    [2, 6, 1, 7],
  ];
  expect(optimalAssignment(wide).total).toBe(12); // 5 + 7
  const tall = [
    [1, 2],
    [5, 6],
    [3, 1],
    [4, 7],
  ];
  expect(optimalAssignment(tall).total).toBe(12); // 5 + 7
  const forbiddenRow = [
    [null, null],
    [3, 4],
  ];
  expect(optimalAssignment(forbiddenRow)).toEqual({ pairs: [{ row: 1, col: 1, score: 4 }], total: 4 });
  expect(optimalAssignment([])).toEqual({ pairs: [], total: 0 });
  expect(optimalAssignment([[null]])).toEqual({ pairs: [], total: 0 });
});

test('refuses non-rectangular matrices and negative or fractional scores', () => {
  expect(() => optimalAssignment([[1, 2], [3]])).toThrow(/rectangular/);
  expect(() => optimalAssignment([[-1]])).toThrow(/non-negative integers/);
  expect(() => optimalAssignment([[1.5]])).toThrow(/non-negative integers/);
});

test('matches brute force on random small matrices with forbidden pairs', () => {
  const matrix = fc
    .tuple(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 11 }))
    .chain(([r, c]) =>
      fc.array(fc.array(fc.option(fc.integer({ min: 0, max: 1000 }), { freq: 3, nil: null }), { minLength: c, maxLength: c }), { minLength: r, maxLength: r }),
    );
  fc.assert(
    fc.property(matrix, (scores) => {
      const result = optimalAssignment(scores);
      checkValid(scores, result);
      expect(result.total).toBe(bruteForceBest(scores));
      expect(result.total).toBeGreaterThanOrEqual(greedyAssignment(scores).total);
    }),
    { numRuns: 500 },
  );
});

test('ties and equal scores: still a valid optimum (many equal entries)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.constantFrom<number | null>(0, 1, 2, null), { minLength: 5, maxLength: 5 }), { minLength: 5, maxLength: 5 }),
      (scores) => {
        const result = optimalAssignment(scores);
        checkValid(scores, result);
        expect(result.total).toBe(bruteForceBest(scores));
      },
    ),
    { numRuns: 300 },
  );
});

test('larger matrices: the optimum does not change when rows or columns are shuffled or the matrix is transposed', () => {
  const sized = fc
    .tuple(fc.integer({ min: 5, max: 40 }), fc.integer({ min: 5, max: 40 }), fc.integer())
    .chain(([r, c, seed]) =>
      fc
        .array(fc.array(fc.option(fc.integer({ min: 0, max: 1000 }), { freq: 2, nil: null }), { minLength: c, maxLength: c }), { minLength: r, maxLength: r })
        .map((m) => ({ m, seed })),
    );
  fc.assert(
    fc.property(sized, ({ m, seed }) => {
      const base = optimalAssignment(m);
      checkValid(m, base);
      const transposed = m[0]!.map((_, c) => m.map((row) => row[c]!));
      expect(optimalAssignment(transposed).total).toBe(base.total);
      let state = seed >>> 0 || 1;
      const rand = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
      const shuffledRows = [...m].sort(() => rand() - 0.5);
      const order = m[0]!.map((_, c) => c).sort(() => rand() - 0.5);
      const shuffled = shuffledRows.map((row) => order.map((c) => row[c]!));
      expect(optimalAssignment(shuffled).total).toBe(base.total);
      expect(base.total).toBeGreaterThanOrEqual(greedyAssignment(m).total);
    }),
    { numRuns: 100 },
  );
});

// ---- Priorities before points -------------------------------------------------------------------

const pair = (score: number, ...tiers: (0 | 1)[]): PrioritisedPair => ({ tiers, score });

test('the issue counter-example: the most score places one family where two can be placed; the prioritised assignment places two', () => {
  // [[–,–,–],[–,550,–],[150,950,–]]: maximising the sum gives family 2 group 1 (950) and leaves family 1 out.
  const scores = [
    [null, null, null],
    [null, 550, null],
    [150, 950, null],
  ];
  expect(optimalAssignment(scores)).toEqual({ pairs: [{ row: 2, col: 1, score: 950 }], total: 950 });
  const prioritised = prioritisedAssignment(scores.map((row) => row.map((s) => (s === null ? null : pair(s)))));
  expect(prioritised.placed).toBe(2);
  expect(prioritised.pairs.map(({ row, col }) => [row, col])).toEqual([
    [1, 1],
    [2, 0],
  ]);
  expect(prioritised.total).toBe(700);
});

test('a priority tier outranks any amount of score, and an earlier tier outranks a later one', () => {
  // Family 0 has the first priority need; only group 1 meets it. Score alone would give it group 0.
  const matrix: PrioritisedMatrix = [
    [pair(1000, 0, 0), pair(1, 1, 0)],
    [pair(999, 0, 1), pair(0, 0, 0)],
  ];
  const result = prioritisedAssignment(matrix);
  expect(result.pairs.map(({ row, col }) => [row, col])).toEqual([
    [0, 1],
    [1, 0],
  ]);
  expect(result.tierCounts).toEqual([1, 1]);
  // Tier 0 against tier 1: one pair can meet either, never both.
  const order: PrioritisedMatrix = [[pair(0, 1, 0)], [pair(1000, 0, 1)]];
  expect(prioritisedAssignment(order).pairs).toEqual([{ row: 0, col: 0, score: 0, tiers: [1, 0] }]);
});

/** The best (placed, tier counts…, total) over every matching, by exhaustive search: the reference. */
function bruteForceLexicographic(matrix: PrioritisedMatrix, tiers: number): number[] {
  const rows = matrix.length;
  const cols = rows === 0 ? 0 : matrix[0]!.length;
  const better = (a: number[], b: number[]) => {
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! > b[k]!;
    return false;
  };
  const memo = new Map<number, number[]>();
  const go = (r: number, used: number): number[] => {
    if (r === rows) return Array<number>(tiers + 2).fill(0);
    const key = r * (1 << cols) + used;
    const known = memo.get(key);
    if (known) return known;
    let best = go(r + 1, used);
    for (let c = 0; c < cols; c++) {
      const p = matrix[r]![c]!;
      if (p === null || used & (1 << c)) continue;
      const rest = go(r + 1, used | (1 << c));
      const candidate = [rest[0]! + 1, ...p.tiers.map((t, k) => rest[k + 1]! + t), rest[tiers + 1]! + p.score];
      if (better(candidate, best)) best = candidate;
    }
    memo.set(key, best);
    return best;
  };
  return go(0, 0);
}

test('matches brute force on random small instances: placed, then each tier in order, then score', () => {
  const instance = fc
    .tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 3 }))
    .chain(([r, c, t]) =>
      fc
        .array(
          fc.array(
            fc.option(
              fc.record({ tiers: fc.array(fc.constantFrom<0 | 1>(0, 1), { minLength: t, maxLength: t }), score: fc.integer({ min: 0, max: 1000 }) }),
              { freq: 3, nil: null },
            ),
            { minLength: c, maxLength: c },
          ),
          { minLength: r, maxLength: r },
        )
        .map((m) => ({ m, t })),
    );
  fc.assert(
    fc.property(instance, ({ m, t }) => {
      const result = prioritisedAssignment(m);
      const rows = new Set<number>();
      const cols = new Set<number>();
      for (const p of result.pairs) {
        expect(rows.has(p.row) || cols.has(p.col)).toBe(false);
        rows.add(p.row);
        cols.add(p.col);
        expect(m[p.row]![p.col]).toEqual({ tiers: p.tiers, score: p.score });
      }
      const hasPair = m.some((row) => row.some((p) => p !== null));
      const got = hasPair ? [result.placed, ...result.tierCounts, result.total] : [0, ...Array<number>(t).fill(0), 0];
      expect(got).toEqual(bruteForceLexicographic(m, t));
    }),
    { numRuns: 600 },
  );
});

test('refuses tiers of different lengths, and more tiers than stay exact', () => {
  expect(() => prioritisedAssignment([[pair(1, 1), pair(1, 1, 0)]])).toThrow(/same number/);
  const wide = Array.from({ length: 3000 }, () => pair(1, 0, 0, 0, 0, 0));
  expect(() => prioritisedAssignment([wide, wide])).not.toThrow();
  const many = Array.from({ length: 2 }, () => Array.from({ length: 2 }, () => pair(1, ...Array<0 | 1>(60).fill(0))));
  expect(() => prioritisedAssignment(many)).toThrow(/exact/);
});
