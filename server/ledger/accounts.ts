/**
 * Ledger account names: the one place they are spelled. Balances are debits positive.
 *
 * - Assets: `stripe` (held at Stripe), `bank`.
 * - Funds, credit-normal (negative = money raised for that purpose): `fund:general`,
 *   `fund:group:<id>`. The prefix `fund` totals everything raised for the campaign.
 * - Expenses charged to a fund, debit-normal: `expense:general:fees`, `expense:group:<id>:fees`,
 *   `expense:group:<id>:support`. What a fund can still spend is -(fund + its expenses).
 * - Pledges not yet paid (memo pair): `receivable:general` / `receivable:group:<id>` against
 *   `deferred:pledges`. The prefix `receivable` is the campaign's pledged-but-unpaid total.
 */
export type FundRef = { groupId: number | null };

function fundKey({ groupId }: FundRef): string {
  return groupId === null ? 'general' : `group:${groupId}`;
}

export const accounts = {
  stripe: 'stripe',
  bank: 'bank',
  deferredPledges: 'deferred:pledges',
  fund: (ref: FundRef) => `fund:${fundKey(ref)}`,
  fees: (ref: FundRef) => `expense:${fundKey(ref)}:fees`,
  support: (ref: FundRef) => `expense:${fundKey(ref)}:support`,
  expenses: (ref: FundRef) => `expense:${fundKey(ref)}`,
  receivable: (ref: FundRef) => `receivable:${fundKey(ref)}`,
  /** Prefix totals. */
  allFunds: 'fund',
  allReceivables: 'receivable',
} as const;
