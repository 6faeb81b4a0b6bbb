/**
 * The assignment of families to groups that maximises the total score: the Hungarian
 * (Kuhn–Munkres) method in its shortest-augmenting-path form, O(rows² × columns), on a
 * rectangular matrix with forbidden pairs. Hand-written (about 70 lines) rather than a dependency: the npm
 * packages for it are small, mostly unmaintained, and either square-only, float-fragile or
 * without forbidden pairs; this one is checked against brute force by property tests.
 *
 * Reduction. Allowed pairs have a score ≥ 0; a forbidden pair is given weight 0. Every matching
 * of allowed pairs extends to a complete assignment of the smaller side by adding pairs of weight
 * ≥ 0, and any complete assignment minus its forbidden pairs is a matching of the same weight, so
 * a maximum-weight complete assignment, with forbidden pairs dropped, is a maximum-weight matching.
 * Scores are integers, so the arithmetic (in doubles) is exact.
 */

/** scores[r][c]: the score of row r with column c, or null when the pair is forbidden. */
export type ScoreMatrix = readonly (readonly (number | null)[])[];

export type Assignment = { pairs: { row: number; col: number; score: number }[]; total: number };

export function optimalAssignment(scores: ScoreMatrix): Assignment {
  const shape = checkShape(scores);
  if (!shape) return { pairs: [], total: 0 };
  for (const row of scores) for (const s of row) if (s !== null) checkScore(s);
  const colOfRow = solve(scores, shape, () => 0, (s) => s ?? 0);
  const pairs: Assignment['pairs'] = [];
  for (const [row, col] of colOfRow) {
    const s = scores[row]![col]!;
    if (s !== null) pairs.push({ row, col, score: s });
  }
  pairs.sort((a, b) => a.row - b.row);
  return { pairs, total: pairs.reduce((t, p) => t + p.score, 0) };
}

/**
 * A pair in a prioritised assignment: `tiers[k]` is 1 when the pair meets the k-th priority (the
 * family has that need and the group can meet it), else 0; `score` breaks ties after every tier.
 */
export type PrioritisedPair = { tiers: readonly (0 | 1)[]; score: number };
export type PrioritisedMatrix = readonly (readonly (PrioritisedPair | null)[])[];
export type PrioritisedAssignment = {
  pairs: { row: number; col: number; score: number; tiers: readonly (0 | 1)[] }[];
  /** Families placed, then how many placed pairs meet each priority tier, then the total score. */
  placed: number;
  tierCounts: number[];
  total: number;
};

/**
 * The lexicographic assignment: first as many pairs as possible; among those, as many pairs
 * meeting priority tier 0 as possible, then tier 1, …; only then the highest total score.
 *
 * Each allowed pair's weight is the vector (W, score) with W = B^T + Σ tiers[k]·B^(T−1−k),
 * B = n + 1 (n = pairs at most): a matching's summed W is placed·B^T + Σ count_k·B^(T−1−k), and
 * every count is at most n < B, so comparing summed W compares (placed, count_0, …) in order; the
 * score only decides when W ties. Vectors under lexicographic order form an ordered group, which is
 * all the shortest-path Hungarian method needs (it adds, subtracts and compares), so the same
 * solver runs on (W, score) pairs. Both components are integers below 2^53: exact in doubles.
 */
export function prioritisedAssignment(matrix: PrioritisedMatrix): PrioritisedAssignment {
  const shape = checkShape(matrix);
  const empty = (t: number) => ({ pairs: [], placed: 0, tierCounts: Array<number>(t).fill(0), total: 0 });
  let tierCount = -1;
  for (const row of matrix) {
    for (const p of row) {
      if (p === null) continue;
      checkScore(p.score);
      if (tierCount === -1) tierCount = p.tiers.length;
      if (p.tiers.length !== tierCount || p.tiers.some((t) => t !== 0 && t !== 1)) throw new Error('every pair needs the same number of 0/1 tiers');
    }
  }
  if (!shape || tierCount === -1) return empty(Math.max(0, tierCount));
  const base = Math.min(shape.rows, shape.cols) + 1;
  const top = base ** tierCount;
  // Path lengths in the solver stay within a few times n × the largest weight.
  if (4 * base * top * base > Number.MAX_SAFE_INTEGER) throw new Error(`too many tiers (${tierCount}) for ${base - 1} pairs to stay exact`);
  const weightOf = (p: PrioritisedPair) => p.tiers.reduce((w, t, k) => w + t * base ** (tierCount - 1 - k), top);
  const colOfRow = solve(
    matrix,
    shape,
    (p) => (p === null ? 0 : weightOf(p)),
    (p) => (p === null ? 0 : p.score),
  );
  const pairs: PrioritisedAssignment['pairs'] = [];
  for (const [row, col] of colOfRow) {
    const p = matrix[row]![col]!;
    if (p !== null) pairs.push({ row, col, score: p.score, tiers: p.tiers });
  }
  pairs.sort((a, b) => a.row - b.row);
  return {
    pairs,
    placed: pairs.length,
    tierCounts: Array.from({ length: tierCount }, (_, k) => pairs.filter((p) => p.tiers[k] === 1).length),
    total: pairs.reduce((t, p) => t + p.score, 0),
  };
}

function checkShape(matrix: readonly (readonly unknown[])[]): { rows: number; cols: number } | undefined {
  const rows = matrix.length;
  const cols = rows === 0 ? 0 : matrix[0]!.length;
  for (const row of matrix) if (row.length !== cols) throw new Error('the score matrix is not rectangular');
  return rows === 0 || cols === 0 ? undefined : { rows, cols };
}

function checkScore(s: number): void {
  if (!Number.isSafeInteger(s) || s < 0) throw new Error(`scores must be non-negative integers, got ${s}`);
}

/**
 * Runs the solver on `matrix`, weighing each cell by (major, minor) compared lexicographically
 * (a forbidden cell must weigh (0, 0)); returns each assigned [row, col] of the complete assignment.
 */
function solve<T>(matrix: readonly (readonly T[])[], shape: { rows: number; cols: number }, major: (cell: T) => number, minor: (cell: T) => number): [number, number][] {
  // The algorithm assigns every row of an n × m matrix with n ≤ m: transpose when needed.
  const transposed = shape.rows > shape.cols;
  const n = transposed ? shape.cols : shape.rows;
  const m = transposed ? shape.rows : shape.cols;
  const hi = new Float64Array(n * m);
  const lo = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const cell = transposed ? matrix[j]![i]! : matrix[i]![j]!;
      hi[i * m + j] = -major(cell); // minimise the negated weight
      lo[i * m + j] = -minor(cell);
    }
  }
  const colOfRow = hungarian(hi, lo, n, m);
  return Array.from(colOfRow, (j, i) => (transposed ? [j, i] : [i, j]));
}

/**
 * Minimum-cost assignment of each of n rows to a distinct one of m ≥ n columns. A cost is the
 * pair (hi, lo) compared lexicographically; `hi`, `lo` are row-major n × m. Returns the column of
 * each row. Shortest augmenting paths with potentials (Jonker–Volgenant style, as in Crouse 2016
 * and SciPy's linear_sum_assignment): each row is added by a Dijkstra search over reduced costs,
 * which stops at the first free column; among equal distances a free column is preferred, so the
 * many ties of forbidden pairs end searches early.
 */
function hungarian(hi: Float64Array, lo: Float64Array, n: number, m: number): Int32Array {
  const uHi = new Float64Array(n);
  const uLo = new Float64Array(n);
  const vHi = new Float64Array(m);
  const vLo = new Float64Array(m);
  const distHi = new Float64Array(m); // shortest path cost to each column in this search
  const distLo = new Float64Array(m);
  const path = new Int32Array(m); // row preceding each column on its shortest path
  const colOfRow = new Int32Array(n).fill(-1);
  const rowOfCol = new Int32Array(m).fill(-1);
  const scannedRow = new Uint8Array(n);
  const scannedCol = new Uint8Array(m);
  const remaining = new Int32Array(m);
  for (let cur = 0; cur < n; cur++) {
    // Dijkstra from row `cur` until it reaches a free column (the sink).
    let minHi = 0;
    let minLo = 0;
    let remainingCount = m;
    for (let k = 0; k < m; k++) remaining[k] = m - k - 1;
    scannedRow.fill(0);
    scannedCol.fill(0);
    distHi.fill(Infinity);
    distLo.fill(0);
    let i = cur;
    let sink = -1;
    while (sink === -1) {
      scannedRow[i] = 1;
      let lowHi = Infinity;
      let lowLo = 0;
      let index = -1;
      const base = i * m;
      const uiHi = uHi[i]!;
      const uiLo = uLo[i]!;
      for (let k = 0; k < remainingCount; k++) {
        const j = remaining[k]!;
        const rHi = minHi + hi[base + j]! - uiHi - vHi[j]!;
        const rLo = minLo + lo[base + j]! - uiLo - vLo[j]!;
        const dHi0 = distHi[j]!;
        if (rHi < dHi0 || (rHi === dHi0 && rLo < distLo[j]!)) {
          path[j] = i;
          distHi[j] = rHi;
          distLo[j] = rLo;
        }
        const dHi = distHi[j]!;
        const dLo = distLo[j]!;
        if (dHi < lowHi || (dHi === lowHi && (dLo < lowLo || (dLo === lowLo && rowOfCol[j] === -1)))) {
          lowHi = dHi;
          lowLo = dLo;
          index = k;
        }
      }
      minHi = lowHi;
      minLo = lowLo;
      if (index === -1 || minHi === Infinity) throw new Error('no feasible assignment'); // cannot happen: every cost is finite
      const j = remaining[index]!;
      if (rowOfCol[j] === -1) sink = j;
      else i = rowOfCol[j]!;
      scannedCol[j] = 1;
      remainingCount -= 1;
      remaining[index] = remaining[remainingCount]!;
    }
    // Update the potentials so reduced costs stay non-negative.
    uHi[cur] = uHi[cur]! + minHi;
    uLo[cur] = uLo[cur]! + minLo;
    for (let r = 0; r < n; r++) {
      if (scannedRow[r] && r !== cur) {
        const c = colOfRow[r]!;
        uHi[r] = uHi[r]! + minHi - distHi[c]!;
        uLo[r] = uLo[r]! + minLo - distLo[c]!;
      }
    }
    for (let j = 0; j < m; j++) {
      if (scannedCol[j]) {
        vHi[j] = vHi[j]! - (minHi - distHi[j]!);
        vLo[j] = vLo[j]! - (minLo - distLo[j]!);
      }
    }
    // Augment along the path back from the sink.
    let j = sink;
    for (;;) {
      const r = path[j]!;
      rowOfCol[j] = r;
      const previous = colOfRow[r]!;
      colOfRow[r] = j;
      j = previous;
      if (r === cur) break;
    }
  }
  return colOfRow;
}

/** The greedy alternative (best remaining pair first), kept to show and test why it is not used. */
export function greedyAssignment(scores: ScoreMatrix): Assignment {
  const all: { row: number; col: number; score: number }[] = [];
  scores.forEach((r, row) => r.forEach((s, col) => s !== null && all.push({ row, col, score: s })));
  all.sort((a, b) => b.score - a.score || a.row - b.row || a.col - b.col);
  const rowsUsed = new Set<number>();
  const colsUsed = new Set<number>();
  const pairs: Assignment['pairs'] = [];
  for (const p of all) {
    if (rowsUsed.has(p.row) || colsUsed.has(p.col)) continue;
    rowsUsed.add(p.row);
    colsUsed.add(p.col);
    pairs.push(p);
  }
  pairs.sort((a, b) => a.row - b.row);
  return { pairs, total: pairs.reduce((t, p) => t + p.score, 0) };
}
