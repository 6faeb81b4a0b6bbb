import { createKysely, type Db } from '../../server/db/database';
import { upsertDonor } from '../../server/giving/donors';
import { recordPayment } from '../../server/giving/payments';
import { createPledge } from '../../server/giving/pledges';
import { makePledge, receive } from '../support/gifts';
import { adminUrl, createServerDatabase, type HavenProcess, type ServerDatabase, startHaven } from '../support/haven-process';
import { ledgerProblems } from './support/ledger-audit';
import { countBy, type Outcome, sleep, startLoad } from './support/load';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy';

/**
 * The database connection cut and restored under load: Haven answers 503 (never 500, never a
 * hang) while PostgreSQL is unreachable, serves fully again once it is back, and no gift is
 * half-written. The cut is a TCP proxy between Haven and PostgreSQL that drops every connection.
 *
 * Public pages are shared between visitors for PUBLIC_CACHE_SECONDS (their data for that long, and
 * the rendered page for as long again), so for up to twice that after the cut a visitor may still
 * get the page from before it; the outage proper is measured from then on.
 */
const CACHE_SECONDS = 1;
const CACHED_FOR_MS = 2 * CACHE_SECONDS * 1000;
let database: ServerDatabase;
let proxy: TcpProxy;
let haven: HavenProcess;
let direct: Db;

beforeAll(async () => {
  database = await createServerDatabase('haven_fault_outage', adminUrl());
  const target = new URL(database.url);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  haven = await startHaven({ databaseUrl: proxy.urlFor(database.url), mode: 'source', env: { PUBLIC_CACHE_SECONDS: String(CACHE_SECONDS) } });
  direct = createKysely(database.url, 2);
  await receive(direct, await makePledge(direct, { amountCents: 20_000 }), 20_000, { reference: 'OUTAGE-SEED' });
});

afterAll(async () => {
  await haven?.stop();
  await proxy?.close();
  await direct?.destroy();
  await database?.drop();
});

const READS = ['/', '/api/campaign', '/healthz', '/?lang=fr'];

function describeOutcomes(outcomes: Outcome[]): string {
  return JSON.stringify(countBy(outcomes, (o) => `${o.label} ${o.status}`));
}

test('pages answer 503 while the database is cut, and everything works again once it is back; no gift is half-written', async () => {
  // Gifts written through the same proxy by the giving module, as the giving route will:
  // each is one transaction (pledge, payment, ledger posting, donor counter) cut or not.
  const writer = createKysely(proxy.urlFor(database.url), 4);
  const acknowledged: string[] = [];
  const attempted: string[] = [];
  let writing = true;
  const writers = Array.from({ length: 3 }, async (_, w) => {
    for (let i = 0; writing; i++) {
      const reference = `OUTAGE-${w}-${i}`;
      attempted.push(reference);
      try {
        await writer.transaction().execute(async (trx) => {
          const donorId = await upsertDonor(trx, { email: `outage${w}-${i}@example.org`, name: `Outage donor ${w}-${i}` });
          const campaign = await trx.selectFrom('campaigns').select('id').orderBy('id').executeTakeFirstOrThrow();
          const pledgeId = await createPledge(trx, { campaignId: campaign.id, donorId, groupId: null, amountCents: 5_000, frequency: 'once', installments: null, method: 'cheque' });
          await recordPayment(trx, { pledgeId, amountCents: 5_000, method: 'cheque', reference, receivedAt: new Date() });
        });
        acknowledged.push(reference);
      } catch {
        await sleep(50);
      }
    }
  });

  const load = startLoad({ workers: 16, maxMs: 60_000, next: (n) => ({ label: READS[n % READS.length]!, url: `${haven.url}${READS[n % READS.length]}` }) });
  await sleep(2_000);
  const cutAt = Date.now();
  await proxy.sever();
  await sleep(CACHED_FOR_MS + 4_000);
  const restoredAt = Date.now();
  await proxy.restore();
  await sleep(6_000);
  const outcomes = await load.stop();
  writing = false;
  await Promise.all(writers);
  await writer.destroy();

  const before = outcomes.filter((o) => o.endedAt < cutAt);
  // Requests that began after the cut settled (and public pages' shared copies ran out) and ended before the restore: the outage proper.
  const during = outcomes.filter((o) => o.startedAt > cutAt + CACHED_FOR_MS + 200 && o.endedAt < restoredAt);
  const after = outcomes.filter((o) => o.startedAt > restoredAt + 3_000);

  expect(before.length).toBeGreaterThan(20);
  expect(before.every((o) => o.status === 200)).toBe(true);

  expect(during.length).toBeGreaterThan(20);
  const notUnavailable = during.filter((o) => o.status !== 503);
  if (notUnavailable.length) throw new Error(`during the outage: ${describeOutcomes(during)}\n${haven.output()}`);
  // Neither a stack trace nor a driver message reaches the visitor.
  for (const o of during) expect(o.body).not.toMatch(/ECONNREFUSED|Connection terminated|at \S+\.(ts|js):\d+/);
  expect(Math.max(...during.map((o) => o.endedAt - o.startedAt))).toBeLessThan(5_000);

  expect(after.length).toBeGreaterThan(20);
  if (!after.every((o) => o.status === 200)) throw new Error(`after the restore: ${describeOutcomes(after)}`);
  // Nothing anywhere was a 500, and the process is still the one we started.
  expect(outcomes.filter((o) => o.status >= 500 && o.status !== 503)).toEqual([]);
  expect(haven.child.exitCode).toBeNull();

  // Every acknowledged gift is there whole; every other attempt is there whole or not at all.
  const rows = await direct.selectFrom('payments').select(['reference', 'amount_cents']).where('reference', 'like', 'OUTAGE-%-%').execute();
  const stored = new Set(rows.map((r) => r.reference));
  for (const reference of acknowledged) expect(stored.has(reference)).toBe(true);
  expect(acknowledged.length).toBeGreaterThan(5);
  expect(attempted.length).toBeGreaterThan(acknowledged.length); // some writes really were cut
  expect(await ledgerProblems(direct)).toEqual([]);
  const pledgesWithoutPayment = await direct
    .selectFrom('pledges')
    .leftJoin('payments', 'payments.pledge_id', 'pledges.id')
    .select('pledges.id')
    .where('payments.id', 'is', null)
    .execute();
  expect(pledgesWithoutPayment).toEqual([]);
});
