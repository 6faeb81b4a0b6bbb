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

/** The posting's non-zero entries, once they are whole cents, at least two and balanced (else a programming error). */
function checkedEntries(posting: LedgerPosting): Entry[] {
  const entries = posting.entries.filter((e) => e.amountCents !== 0);
  if (entries.length < 2) throw new Error(`ledger posting "${posting.kind}" needs at least two non-zero entries`);
  for (const e of entries) {
    if (!Number.isSafeInteger(e.amountCents)) throw new Error(`ledger amount ${e.amountCents} is not a whole number of cents`);
  }
  const total = entries.reduce((sum, e) => sum + e.amountCents, 0);
  if (total !== 0) throw new Error(`ledger posting "${posting.kind}" is unbalanced by ${total} cents`);
  return entries;
}

/**
 * Posts one balanced transaction. The database checks the balance again at commit (a
 * deferred constraint trigger); this check only turns a programming error into a clear one.
 */
export async function postTransaction(trx: Transaction<Database>, posting: LedgerPosting): Promise<number> {
  return (await postTransactions(trx, [posting]))[0]!;
}

/**
 * Posts several balanced transactions, each checked as postTransaction checks one, in ONE
 * statement (one round trip however many): their ids are drawn first, in the postings' order, so
 * each entry joins its own transaction; entries keep their order. Returns the ids in that order.
 */
export async function postTransactions(trx: Transaction<Database>, postings: LedgerPosting[]): Promise<number[]> {
  if (postings.length === 0) return [];
  const entries = postings.map(checkedEntries);
  const transactions = sql.join(postings.map((p, n) => sql`(${n}::int, ${p.kind}::text, ${p.description}::text, ${p.paymentId ?? null}::bigint)`));
  const lines = sql.join(entries.flatMap((list, n) => list.map((e, i) => sql`(${n}::int, ${i}::int, ${e.account}::text, ${e.amountCents}::bigint)`)));
  const { rows: posted } = await sql<{ id: number }>`
    with drawn as materialized (
      select t.n, nextval(pg_get_serial_sequence('ledger_transactions', 'id')) as id, t.kind, t.description, t.payment_id
      from (values ${transactions}) as t (n, kind, description, payment_id)
    ), posted as (
      insert into ledger_transactions (id, kind, description, payment_id) overriding system value
      select id, kind, description, payment_id from drawn order by n
    ), entries as (
      insert into ledger_entries (transaction_id, account, amount_cents)
      select drawn.id, e.account, e.amount_cents from drawn join (values ${lines}) as e (n, i, account, amount_cents) on e.n = drawn.n order by e.n, e.i
    )
    select id from drawn order by n`.execute(trx);
  return posted.map((r) => r.id);
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
