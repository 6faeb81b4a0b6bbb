/**
 * How fast Stripe events are applied, with one and with two Haven processes sharing the queue
 * (npm run bench runs it; alone: `npx tsx bench/stripe-apply.ts [gifts=12000]`, with
 * BENCH_DATABASE_URL or DATABASE_URL naming the PostgreSQL server). A stream of signed deliveries
 * for `gifts` card gifts (a partial refund every tenth, a fifth sent twice, shuffled so some
 * refunds come before their gift) is posted over HTTP, spread evenly over the processes as a
 * proxy would, 32 at a time. Each process acknowledges, stores, and applies from the shared
 * queue. It reports:
 *   - applied per second: unique events / seconds from the first delivery until the queue is empty;
 *   - backlog cleared: seconds from the last delivery's answer until the queue is empty;
 *   - double counts: one payment per gift, the funds moved by exactly the gifts less the refunds,
 *     the ledger summing to zero.
 * BENCH_PROCESSES (default "1,2") chooses the runs; BENCH_NODE_ARGS passes flags to each Haven
 * process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" for a CPU profile of the apply).
 */
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { createKysely } from '../server/db/database';
import { adminUrl, createServerDatabase, type HavenProcess, ROOT, startHaven } from '../test/support/haven-process';
import { cardPledges, fundTotal, query, type StripeSide } from './scenarios';
import { DONOR_POOL } from './seed-payments';
import type { SignedDelivery } from './stripe-gift-events';

export type ApplyRun = { processes: number; unique: number; deliveries: number; appliedPerSecond: number; acknowledgedPerSecond: number; backlogSeconds: number; exact: boolean; notes: string[] };

const CONCURRENCY = 32;

/** Posts every delivery, spread evenly over the processes as a proxy would, CONCURRENCY at a time; a 503 or a dropped connection is retried as Stripe would. */
export async function deliverAll(urls: string[], deliveries: SignedDelivery[]): Promise<{ startedAt: number; lastAnswerAt: number; failures: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const post = (url: string, d: SignedDelivery) =>
    new Promise<number>((resolve) => {
      const req = http.request(`${url}/webhooks/stripe`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'stripe-signature': d.signature, 'content-length': Buffer.byteLength(d.payload) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      // A kept-alive socket the server closed just then (ECONNRESET): a failed delivery, retried below as Stripe would.
      req.on('error', () => resolve(0));
      req.end(d.payload);
    });
  let next = 0;
  let failures = 0;
  const startedAt = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < deliveries.length) {
        const i = next++;
        let status = await post(urls[i % urls.length]!, deliveries[i]!);
        for (let tries = 0; (status === 503 || status === 0) && tries < 50; tries++) {
          await new Promise((r) => setTimeout(r, 20)); // as Stripe retries
          status = await post(urls[i % urls.length]!, deliveries[i]!);
        }
        if (status !== 200) failures += 1;
      }
    }),
  );
  agent.destroy();
  return { startedAt, lastAnswerAt: Date.now(), failures };
}

/** When the queue was first seen empty (every stored event processed). */
export async function queueEmptyAt(url: string, timeoutMs: number): Promise<number> {
  const db = createKysely(url, 1);
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = await db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<number>().as('n')).where('processed_at', 'is', null).executeTakeFirstOrThrow();
      if (Number(left.n) === 0) return Date.now();
      if (Date.now() > deadline) throw new Error(`${left.n} Stripe events were still unprocessed ${timeoutMs / 1000} s after the deliveries`);
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    await db.destroy();
  }
}

/** One measured stream with `processes` Haven processes (production build) on the database at `url`. */
export async function measureStripeApply(url: string, stripeSide: StripeSide, processes: number, gifts: number): Promise<ApplyRun> {
  const pledges = await cardPledges(url, gifts);
  const prepared = await stripeSide.prepare(pledges);
  const havens: HavenProcess[] = [];
  try {
    for (let i = 0; i < processes; i++) havens.push(await startHaven({ databaseUrl: url, mode: 'built', nodeArgs: process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean), env: { LOG_LEVEL: 'warn', PUBLIC_CACHE_SECONDS: '1', ...stripeSide.env } }));
    const fundBefore = await fundTotal(url);
    const sent = await deliverAll(havens.map((h) => h.url), prepared.deliveries);
    const emptyAt = await queueEmptyAt(url, 600_000);
    const [payments] = await query<{ n: string; distinct_pledges: string }>(url, 'select count(*) as n, count(distinct pledge_id) as distinct_pledges from payments where pledge_id = any($1::bigint[])', [pledges.map((g) => g.pledgeId)]);
    const [ledger] = await query<{ s: string | null }>(url, 'select sum(amount_cents) as s from ledger_entries');
    const raised = (await fundTotal(url)) - fundBefore;
    const exact = sent.failures === 0 && Number(payments!.n) === gifts && Number(payments!.distinct_pledges) === gifts && raised === prepared.expectedCents && Number(ledger!.s ?? 0) === 0;
    const run: ApplyRun = {
      processes,
      unique: prepared.unique,
      deliveries: prepared.deliveries.length,
      appliedPerSecond: Math.round(prepared.unique / ((emptyAt - sent.startedAt) / 1000)),
      acknowledgedPerSecond: Math.round(prepared.deliveries.length / ((sent.lastAnswerAt - sent.startedAt) / 1000)),
      backlogSeconds: Math.round((emptyAt - sent.lastAnswerAt) / 100) / 10,
      exact,
      notes: [],
    };
    run.notes.push(
      `${processes} process${processes > 1 ? 'es' : ''}: ${run.deliveries} deliveries (${run.unique} unique events) acknowledged at ${run.acknowledgedPerSecond}/s; applied ${run.appliedPerSecond} events/s; backlog cleared ${run.backlogSeconds} s after the last delivery`,
      `${processes} process${processes > 1 ? 'es' : ''}: payments ${payments!.n} for ${gifts} gifts, raised ${raised} of ${prepared.expectedCents} expected, ledger sum ${ledger!.s ?? 0}, ${sent.failures} failed deliveries: ${exact ? 'zero double counts' : 'MISMATCH'}`,
    );
    return run;
  } finally {
    for (const h of havens) await h.stop();
  }
}

export type ApplyCheck = { target: string; measured: string; met: boolean };

/** Issue 21's targets for applying Stripe events, each with what was measured (npm run bench and this script print them as MET or MISSED). */
export function applyChecks(runs: ApplyRun[]): ApplyCheck[] {
  const checks: ApplyCheck[] = [];
  const one = runs.find((r) => r.processes === 1);
  const two = runs.find((r) => r.processes === 2);
  if (two) {
    checks.push({ target: 'Stripe events applied ≥ 2,000/s with two processes', measured: `${two.appliedPerSecond} events/s with two, ${one?.appliedPerSecond ?? '?'} events/s with one (${two.unique} unique events)`, met: two.appliedPerSecond >= 2000 });
    checks.push({ target: `backlog of a ${two.unique.toLocaleString('en')}-event stream cleared within 10 s of the last delivery (two processes)`, measured: `${two.backlogSeconds} s (one process: ${one?.backlogSeconds ?? '?'} s)`, met: two.backlogSeconds <= 10 });
  }
  for (const r of runs) checks.push({ target: `zero double counts applying Stripe events (${r.processes} process${r.processes > 1 ? 'es' : ''})`, measured: r.exact ? 'every gift once, totals and ledger exact' : 'MISMATCH', met: r.exact });
  return checks;
}

export function printChecks(checks: ApplyCheck[], log: (line: string) => void = console.log): void {
  for (const c of checks) log(`  ${c.met ? 'MET   ' : 'MISSED'} ${c.target}: ${c.measured}`);
}

async function main() {
  const gifts = Number(process.argv[2] ?? 12_000);
  const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const { startStripeSide } = await import('./run');
  const stripeSide = await startStripeSide();
  const runs: ApplyRun[] = [];
  try {
    for (const processes of (process.env.BENCH_PROCESSES ?? '1,2').split(',').map(Number)) {
      const database = await createServerDatabase('haven_bench_apply', adminUrl(process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL));
      try {
        await startHaven({ databaseUrl: database.url, mode: 'built' }).then((h) => h.stop()); // migrates
        await query(database.url, `insert into donors (email, name, city, province) select 'donor' || g || '@bench.haven.test', 'Bench donor ' || g, 'Toronto', 'ON' from generate_series(1, $1) g on conflict (lower(email)) do nothing`, [DONOR_POOL]);
        const run = await measureStripeApply(database.url, stripeSide, processes, gifts);
        for (const note of run.notes) console.log(note);
        runs.push(run);
      } finally {
        await database.drop();
      }
    }
  } finally {
    stripeSide.stop();
  }
  console.log('Targets (issue 21):');
  printChecks(applyChecks(runs));
  if (runs.some((r) => !r.exact)) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
