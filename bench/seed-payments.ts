import pg from 'pg';

/**
 * Adds card gifts to a migrated Haven database, fast but honestly: set-based SQL in chunks,
 * each chunk one transaction that writes donors, pledges, payments and one balanced ledger
 * transaction per payment (Stripe net + fee expense against the general fund, or for every
 * tenth gift the fund of the group it prefers when one is given), the rows recordPayment writes.
 * A third of the donors agree to the donor wall. The database's own triggers run as for any gift: the deferred
 * zero-sum check on every transaction and entry, the sharded balance upserts for each account
 * and prefix, and the campaign donor counter.
 */
export const DONOR_POOL = 20_000;
const VACUUM_EVERY = 10_000;
const ANALYZE_EVERY = 50_000;

export async function seedPayments(
  url: string,
  count: number,
  options: { chunk?: number; workers?: number; log?: (line: string) => void; /** Every tenth gift prefers this group. */ groupId?: number } = {},
): Promise<void> {
  // Small chunks: each gift updates the same few balance rows, and within one transaction every
  // update adds a row version the next one must step over, so a chunk costs O(chunk²). One
  // connection by default: a second one's open snapshot keeps those old versions from being
  // pruned between chunks, and seeding slows down as it goes (seen: 130 payments/s, not 1,700).
  const chunk = options.chunk ?? 500;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let campaignId: number;
  let before: number;
  try {
    const { rows } = await client.query<{ id: string }>(`select id from campaigns where status = 'active' order by id limit 1`);
    campaignId = Number(rows[0]!.id);
    // A pool of donors (people give more than once): created once, reused by later calls.
    await client.query(
      `insert into donors (email, name, city, province)
       select 'donor' || g || '@bench.haven.test', 'Bench donor ' || g, 'Toronto', 'ON' from generate_series(1, $1) g
       on conflict (lower(email)) do nothing`,
      [DONOR_POOL],
    );
    before = Number((await client.query<{ n: string }>('select count(*) as n from payments')).rows[0]!.n);
  } finally {
    await client.end();
  }
  let next = 0;
  let seeded = 0;
  let lastLog = Date.now();
  const worker = async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      for (;;) {
        const done = next;
        if (done >= count) return;
        const n = Math.min(chunk, count - done);
        next += n;
        await seedChunk(c, campaignId, before + done, n, options.groupId ?? null);
        seeded += n;
        // Each gift rewrites the same few balance rows; without vacuum their dead versions pile up
        // (49 MB of them for 12 live rows after 160,000 gifts here, where autovacuum is off).
        // This stands in for autovacuum, which a production server runs.
        if (seeded % VACUUM_EVERY < n) await c.query('vacuum ledger_balances, campaign_counters');
        // And analyze the growing tables, as autovacuum would: the ledger's zero-sum trigger runs a
        // cached plan per connection, and one made when the tables were small scans them whole.
        if (seeded % ANALYZE_EVERY < n) await c.query('analyze ledger_entries, ledger_transactions, payments, pledges');
        if (Date.now() - lastLog > 10_000 || seeded === count) {
          lastLog = Date.now();
          options.log?.(`  seeded ${seeded.toLocaleString('en')} of ${count.toLocaleString('en')} payments`);
        }
      }
    } finally {
      await c.end();
    }
  };
  await Promise.all(Array.from({ length: options.workers ?? 1 }, worker));
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('vacuum analyze').finally(() => c.end());
}

async function seedChunk(client: pg.Client, campaignId: number, from: number, n: number, groupId: number | null): Promise<void> {
  await client.query('begin');
  try {
    await client.query(
        `with donor_pool as (
           select id, row_number() over (order by id) - 1 as k from donors where email like '%@bench.haven.test'
         ), gifts as (
           select g, (1000 + (g * 7919) % 49000) * 100 as amount,
                  case when $5::bigint is not null and g % 10 = 0 then $5::bigint end as group_id
           from generate_series($2::bigint, $3::bigint) g
         ), new_pledges as (
           insert into pledges (campaign_id, donor_id, group_id, amount_cents, frequency, method, status, wall_consent, display_name)
           select $1, d.id, gifts.group_id, gifts.amount, 'once', 'card', 'fulfilled', gifts.g % 3 = 0, 'Bench donor ' || gifts.g
           from gifts join donor_pool d on d.k = gifts.g % $4
           returning id, donor_id, group_id, amount_cents
         ), new_payments as (
           insert into payments (pledge_id, amount_cents, fee_cents, method, stripe_charge_id, received_at)
           select id, amount_cents, round(amount_cents * 0.029) + 30, 'card', 'ch_bench_' || id, now()
           from new_pledges
           returning id, pledge_id, amount_cents, fee_cents
         ), new_transactions as (
           insert into ledger_transactions (kind, description, payment_id)
           select 'gift_received', 'card gift for pledge ' || pledge_id, id from new_payments
           returning id, payment_id
         ), new_entries as (
           insert into ledger_entries (transaction_id, account, amount_cents)
           select t.id, e.account, e.amount
           from new_transactions t
           join new_payments p on p.id = t.payment_id
           join new_pledges pl on pl.id = p.pledge_id
           cross join lateral (select coalesce('group:' || pl.group_id, 'general') as fund) f
           cross join lateral (values ('stripe', p.amount_cents - p.fee_cents), ('expense:' || f.fund || ':fees', p.fee_cents), ('fund:' || f.fund, -p.amount_cents)) e(account, amount)
         )
         insert into campaign_donors (campaign_id, donor_id, first_gift_at)
         select distinct $1::bigint, donor_id, now() from new_pledges
         on conflict do nothing`,
        [campaignId, from, from + n - 1, DONOR_POOL, groupId],
      );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}
