/**
 * The assignment of families to groups that maximises the total score: the Hungarian
 * (Kuhn–Munkres) algorithm with potentials, O(rows² × columns), on a rectangular matrix
 * with forbidden pairs. Hand-written (about 50 lines) rather than a dependency: the npm
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
 * row-major n × m. Returns the column of each row. Potentials u (rows) and v (columns) keep
 * reduced costs non-negative; each row is added by a Dijkstra-like search for the shortest
 * augmenting path (indices are 1-based inside, 0 is the virtual start).
 */
function hungarian(cost: Float64Array, n: number, m: number): Int32Array {
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const rowOfCol = new Int32Array(m + 1); // p: row assigned to column j (0 = none)
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    rowOfCol[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = rowOfCol[j0]!;
      const base = (i0 - 1) * m - 1;
      const ui0 = u[i0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[base + j]! - ui0 - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          const r = rowOfCol[j]!;
          u[r] = u[r]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minv[j] = minv[j]! - delta;
        }
      }
      j0 = j1;
    } while (rowOfCol[j0] !== 0);
    do {
      const j1 = way[j0]!;
      rowOfCol[j0] = rowOfCol[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const colOfRow = new Int32Array(n);
  for (let j = 1; j <= m; j++) if (rowOfCol[j]! > 0) colOfRow[rowOfCol[j]! - 1] = j - 1;
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
