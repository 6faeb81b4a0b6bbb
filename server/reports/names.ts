import type { TFunction } from 'i18next';
import type { Db } from '../db/database';
import { groupNamesOf } from '../groups/public-pages';

/** Words for what the ledger spells as codes: funds, accounts and transaction kinds, with groups named. */

const GROUP_ID = /(?:^|:)group:(\d+)(?::|$)/;

/** The group ids a set of fund keys or account names mention (`group:7`, `fund:group:7`, `expense:group:7:fees`). */
export function groupIdsIn(keys: readonly string[]): number[] {
  return keys.map((k) => GROUP_ID.exec(k)?.[1]).filter((id) => id !== undefined).map(Number);
}

export async function groupNamesIn(db: Db, keys: readonly string[]): Promise<Map<number, string>> {
  return groupNamesOf(db, groupIdsIn(keys));
}

function groupName(t: TFunction, id: string, names: Map<number, string>): string {
  return names.get(Number(id)) ?? t('reports:fund.group', { id });
}

/** A fund key: 'general' → the general fund; 'group:7' → the group's name. */
export function fundLabel(t: TFunction, key: string, names: Map<number, string>): string {
  if (key === 'general') return t('reports:fund.general');
  const id = /^group:(\d+)$/.exec(key)?.[1];
  return id ? groupName(t, id, names) : key;
}

/** A ledger account (server/ledger/accounts.ts) in words: "Fund: Maple Street", "Pledged, not yet received: general fund". */
export function accountLabel(t: TFunction, account: string, names: Map<number, string>): string {
  if (account === 'stripe' || account === 'bank' || account === 'deferred:pledges') return t(`reports:accounts.${account === 'deferred:pledges' ? 'deferredPledges' : account}`);
  const match = /^(fund|receivable|expense):(general|group:(\d+))(?::(fees|support))?$/.exec(account);
  if (!match) return account;
  const [, kind, fundKey, , expense] = match;
  const fund = fundLabel(t, fundKey!, names);
  if (kind === 'expense') return t(`reports:accounts.${expense === 'support' ? 'support' : expense === 'fees' ? 'fees' : 'expense'}`, { fund });
  return t(`reports:accounts.${kind}`, { fund });
}

/** Every kind of ledger transaction Haven posts; another kind (a test's) shows as written. */
export const TRANSACTION_KINDS = [
  'gift_received',
  'pledge_opened',
  'pledge_released',
  'payment_voided',
  'gift_refunded',
  'gift_refund_failed',
  'dispute_funds_withdrawn',
  'dispute_funds_reinstated',
  'payout_paid',
  'payout_failed',
  'disbursement',
  'fund_transfer',
] as const;

export function kindLabel(t: TFunction, kind: string): string {
  return (TRANSACTION_KINDS as readonly string[]).includes(kind) ? t(`reports:kinds.${kind}`) : kind;
}
