import { type Kysely, sql } from 'kysely';

/**
 * Pledges cancelled or lapsed before issue 15 kept what they had not paid in the pledged-but-unpaid
 * memo (receivable:* against deferred:pledges), so the public bar overstated pledges. Each such
 * pledge's remainder, committed less what was received, is released now in one balanced ledger
 * transaction per pledge, as the app does from now on when a pledge ends.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create temporary table ended_pledges as
    select p.id, case when p.group_id is null then 'receivable:general' else 'receivable:group:' || p.group_id end as account,
           greatest(0, p.committed_cents - coalesce((select sum(amount_cents) from payments where pledge_id = p.id), 0))::bigint as open_cents
    from pledges p
    where p.status in ('cancelled', 'lapsed') and p.committed_cents is not null`.execute(db);
  await sql`delete from ended_pledges where open_cents = 0`.execute(db);
  await sql`alter table ended_pledges add column transaction_id bigint`.execute(db);
  await sql`
    with inserted as (
      insert into ledger_transactions (kind, description)
      select 'pledge_released', 'Pledge ' || id || ' ended: unpaid remainder released' from ended_pledges order by id
      returning id, description)
    update ended_pledges e set transaction_id = i.id from inserted i where i.description = 'Pledge ' || e.id || ' ended: unpaid remainder released'`.execute(db);
  await sql`
    insert into ledger_entries (transaction_id, account, amount_cents)
    select transaction_id, account, -open_cents from ended_pledges
    union all
    select transaction_id, 'deferred:pledges', open_cents from ended_pledges`.execute(db);
  await sql`drop table ended_pledges`.execute(db);
}
