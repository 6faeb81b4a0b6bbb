import type { CostRow } from '../../server/groups/cost-tables';

/**
 * IRCC's 2018-05-01 Sponsorship Cost Table (shared/DOMAIN.md) as rows, for pure tests and
 * benchmarks that need it without a database. The migration that seeds it is frozen in time
 * and never imported by code, so the figures are written out once more here.
 */
export const COST_TABLE_2018: CostRow[] = [
  [1, 1_320_000, 330_000],
  [2, 1_970_000, 510_000],
  [3, 2_040_000, 630_000],
  [4, 2_120_000, 750_000],
  [5, 2_370_000, 860_000],
  [6, 2_570_000, 980_000],
  [0, 160_000, 110_000],
].map(([familySize, incomeSupportCents, startupCents]) => ({ familySize: familySize!, incomeSupportCents: incomeSupportCents!, startupCents: startupCents! }));
