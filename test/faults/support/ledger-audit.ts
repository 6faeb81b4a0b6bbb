import { sql } from 'kysely';
import type { Db } from '../../../server/db/database';

/**
 * What must hold in the database after any fault: every ledger transaction balances and has
 * two or more entries, every maintained balance (account and prefix) equals the sum of its
 * entries, every payment has exactly one ledger posting, and the donor counter matches.
 * Returns a list of problems (empty when consistent), for a readable failure.
 */
export async function ledgerProblems(db: Db): Promise<string[]> {
  const problems: string[] = [];
  const unbalanced = await sql<{ transaction_id: number; total: string; legs: string }>`
    select t.id as transaction_id, coalesce(sum(e.amount_cents), 0)::text as total, count(e.id)::text as legs
    from ledger_transactions t left join ledger_entries e on e.transaction_id = t.id
    group by t.id having coalesce(sum(e.amount_cents), 0) <> 0 or count(e.id) < 2 limit 5`.execute(db);
  for (const r of unbalanced.rows) problems.push(`ledger transaction ${r.transaction_id}: ${r.legs} entries summing to ${r.total}`);

  const drift = await sql<{ account: string; maintained: string; actual: string }>`
    with maintained as (select account, sum(balance_cents) as balance from ledger_balances group by account),
    actual as (
      select m.account, coalesce((select sum(e.amount_cents) from ledger_entries e
        where e.account = m.account or e.account like m.account || ':%'), 0) as balance
      from maintained m
    )
    select m.account, m.balance::text as maintained, a.balance::text as actual
    from maintained m join actual a using (account) where m.balance <> a.balance limit 5`.execute(db);
  for (const r of drift.rows) problems.push(`balance of ${r.account} is ${r.maintained}, its entries sum to ${r.actual}`);

  const postings = await sql<{ id: number; postings: string }>`
    select p.id, count(t.id)::text as postings from payments p
    left join ledger_transactions t on t.payment_id = p.id and t.kind = 'gift_received'
    group by p.id having count(t.id) <> 1 limit 5`.execute(db);
  for (const r of postings.rows) problems.push(`payment ${r.id} has ${r.postings} gift postings`);

  const donors = await sql<{ counted: string; actual: string }>`
    select (select coalesce(sum(donor_count), 0) from campaign_counters)::text as counted,
           (select count(*) from campaign_donors)::text as actual`.execute(db);
  const d = donors.rows[0]!;
  if (d.counted !== d.actual) problems.push(`donor counter says ${d.counted}, campaign_donors has ${d.actual}`);
  return problems;
}
