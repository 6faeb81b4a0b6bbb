import { sql, type Transaction } from 'kysely';
import { type Db, isAnyOf } from '../db/database';
import type { Database } from '../db/schema';

export type Entry = { account: string; amountCents: number };

export type LedgerPosting = {
  kind: string;
  description: string;
  paymentId?: number | null;
  entries: Entry[];
};

/**
 * Posts one balanced transaction. The database checks the balance again at commit (a
 * deferred constraint trigger); this check only turns a programming error into a clear one.
 */
export async function postTransaction(trx: Transaction<Database>, posting: LedgerPosting): Promise<number> {
  const entries = posting.entries.filter((e) => e.amountCents !== 0);
  if (entries.length < 2) throw new Error(`ledger posting "${posting.kind}" needs at least two non-zero entries`);
  for (const e of entries) {
    if (!Number.isSafeInteger(e.amountCents)) throw new Error(`ledger amount ${e.amountCents} is not a whole number of cents`);
  }
  const total = entries.reduce((sum, e) => sum + e.amountCents, 0);
  if (total !== 0) throw new Error(`ledger posting "${posting.kind}" is unbalanced by ${total} cents`);

  // One statement (one round trip) for the transaction and its entries, in the entries' order.
  const rows = sql.join(entries.map((e, i) => sql`(${i}::int, ${e.account}::text, ${e.amountCents}::bigint)`));
  const { rows: posted } = await sql<{ id: number }>`
    with posted as (
      insert into ledger_transactions (kind, description, payment_id)
      values (${posting.kind}, ${posting.description}, ${posting.paymentId ?? null}::bigint)
      returning id
    ), entries as (
      insert into ledger_entries (transaction_id, account, amount_cents)
      select posted.id, e.account, e.amount_cents from posted, (values ${rows}) as e (n, account, amount_cents) order by e.n
    )
    select id from posted`.execute(trx);
  return posted[0]!.id;
}

/**
 * Balances of accounts or account prefixes, read from ledger_balances (at most eight shard
 * rows each): O(1) in the number of entries. Accounts with no entries are 0.
 */
export async function balancesOf(db: Db | Transaction<Database>, names: string[]): Promise<Map<string, number>> {
  const result = new Map(names.map((n) => [n, 0]));
  if (names.length === 0) return result;
  const rows = await db
    .selectFrom('ledger_balances')
    .select(['account', sql<number>`sum(balance_cents)::bigint`.as('balance')])
    .where(isAnyOf('account', names))
    .groupBy('account')
    .execute();
  for (const row of rows) result.set(row.account, row.balance);
  return result;
}

/** An account's (or prefix's) balance as a scalar subquery, for a statement that reads it with other things. */
export function balanceExpression(name: string) {
  return sql<number>`(select coalesce(sum(balance_cents), 0)::bigint from ledger_balances where account = ${name})`;
}

export async function balanceOf(db: Db | Transaction<Database>, name: string): Promise<number> {
  return (await balancesOf(db, [name])).get(name) ?? 0;
}
