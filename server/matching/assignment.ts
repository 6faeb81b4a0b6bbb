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
  const rows = scores.length;
  const cols = rows === 0 ? 0 : scores[0]!.length;
  if (rows === 0 || cols === 0) return { pairs: [], total: 0 };
  for (const row of scores) {
    if (row.length !== cols) throw new Error('the score matrix is not rectangular');
    for (const s of row) if (s !== null && (!Number.isSafeInteger(s) || s < 0)) throw new Error(`scores must be non-negative integers, got ${s}`);
  }
  // The algorithm assigns every row of an n × m matrix with n ≤ m: transpose when needed.
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const m = transposed ? rows : cols;
  const cost = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const s = transposed ? scores[j]![i]! : scores[i]![j]!;
      cost[i * m + j] = s === null ? 0 : -s; // minimise the negated weight
    }
  }
  const colOfRow = hungarian(cost, n, m);
  const pairs: Assignment['pairs'] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const j = colOfRow[i]!;
    const row = transposed ? j : i;
    const col = transposed ? i : j;
    const s = scores[row]![col]!;
    if (s === null) continue;
    pairs.push({ row, col, score: s });
    total += s;
  }
  pairs.sort((a, b) => a.row - b.row);
  return { pairs, total };
}

/**
 * Minimum-cost assignment of each of n rows to a distinct one of m ≥ n columns. `cost` is
 * row-major n × m. Returns the column of each row. Shortest augmenting paths with potentials
 * (Jonker–Volgenant style, as in Crouse 2016 and SciPy's linear_sum_assignment): each row is
 * added by a Dijkstra search over reduced costs, which stops at the first free column; among
 * equal distances a free column is preferred, so the many ties of forbidden pairs end searches early.
 */
function hungarian(cost: Float64Array, n: number, m: number): Int32Array {
  const u = new Float64Array(n);
  const v = new Float64Array(m);
  const dist = new Float64Array(m); // shortest path cost to each column in this search
  const path = new Int32Array(m); // row preceding each column on its shortest path
  const colOfRow = new Int32Array(n).fill(-1);
  const rowOfCol = new Int32Array(m).fill(-1);
  const scannedRow = new Uint8Array(n);
  const scannedCol = new Uint8Array(m);
  const remaining = new Int32Array(m);
  for (let cur = 0; cur < n; cur++) {
    // Dijkstra from row `cur` until it reaches a free column (the sink).
    let minVal = 0;
    let remainingCount = m;
    for (let k = 0; k < m; k++) remaining[k] = m - k - 1;
    scannedRow.fill(0);
    scannedCol.fill(0);
    dist.fill(Infinity);
    let i = cur;
    let sink = -1;
    while (sink === -1) {
      scannedRow[i] = 1;
      let lowest = Infinity;
      let index = -1;
      const base = i * m;
      const ui = u[i]!;
      for (let k = 0; k < remainingCount; k++) {
        const j = remaining[k]!;
        const r = minVal + cost[base + j]! - ui - v[j]!;
        if (r < dist[j]!) {
          path[j] = i;
          dist[j] = r;
        }
        const d = dist[j]!;
        if (d < lowest || (d === lowest && rowOfCol[j] === -1)) {
          lowest = d;
          index = k;
        }
      }
      minVal = lowest;
      if (index === -1 || minVal === Infinity) throw new Error('no feasible assignment'); // cannot happen: every cost is finite
      const j = remaining[index]!;
      if (rowOfCol[j] === -1) sink = j;
      else i = rowOfCol[j]!;
      scannedCol[j] = 1;
      remainingCount -= 1;
      remaining[index] = remaining[remainingCount]!;
    }
    // Update the potentials so reduced costs stay non-negative.
    u[cur] = u[cur]! + minVal;
    for (let r = 0; r < n; r++) {
      if (scannedRow[r] && r !== cur) u[r] = u[r]! + minVal - dist[colOfRow[r]!]!;
    }
    for (let j = 0; j < m; j++) {
      if (scannedCol[j]) v[j] = v[j]! - (minVal - dist[j]!);
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
