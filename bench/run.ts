import { fork, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { adminUrl, createServerDatabase, freePort, type HavenProcess, memoryOf, ROOT, startHaven } from '../test/support/haven-process';
import { createKysely } from '../server/db/database';
import { makeApprovedGroup } from '../test/groups/factories';
import { countPageQueries, PUBLIC_PAGES } from './page-queries';
import { seedPayments } from './seed-payments';
import { applyChecks, type ApplyRun, measureStripeApply, printChecks } from './stripe-apply';
import { type BenchContext, type Scenario, scenarios as allScenarios, type StripeSide } from './scenarios';

/**
 * npm run bench: autocannon against the production build (node dist/server/main.js,
 * NODE_ENV=production) on a PostgreSQL database of its own, created and dropped here.
 *
 *   BENCH_DATABASE_URL   the PostgreSQL server to create the database on (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_DURATION       seconds per measurement (default 10), after a 3-second warm-up
 *   BENCH_CONNECTIONS    concurrent connections (default 100)
 *   BENCH_LARGE          payments in the second round (default 1000000)
 *   BENCH_WEBHOOK_GIFTS  card gifts in the webhook scenario's measured stream (default 12000)
 *   BENCH_ONLY           run only the scenarios whose names match this regular expression (e.g. 'GET'; 'apply' for the Stripe apply runs)
 *   BENCH_APPLY_GIFTS    card gifts in each Stripe apply run, one and two processes (default 12000)
 *   BENCH_CPU_PROF=1     run the server with --cpu-prof (profiles in bench/results/profiles/)
 *
 * Haven runs as in production, public cache included (PUBLIC_CACHE_SECONDS=1); each round's pages
 * are measured again on a second Haven with it off, to show what the database costs underneath.
 * Stripe's side (the stand-in API and the signed deliveries) runs in its own process.
 */
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const SMALL = 1_000;
const LARGE = Number(process.env.BENCH_LARGE ?? 1_000_000);
const RESULTS_DIR = path.join(ROOT, 'bench/results');
const scenarios = allScenarios.filter((s) => !process.env.BENCH_ONLY || new RegExp(process.env.BENCH_ONLY).test(s.name));
const APPLY_GIFTS = Number(process.env.BENCH_APPLY_GIFTS ?? 12_000);
const RUN_APPLY = !process.env.BENCH_ONLY || new RegExp(process.env.BENCH_ONLY).test('apply');

export type Measurement = {
  scenario: string;
  payments: number | null;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  ratioToCeiling: number | null;
  peakRssMb: number;
  /** Scenario-specific figures (the webhook scenario: events applied per second). */
  extra?: Record<string, number>;
};

const UNCACHED = ' (no public cache)';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Samples the resident set of a process while a measurement runs; returns the peak in bytes. */
function sampleMemory(pid: number): () => number {
  let peak = 0;
  const take = () => {
    try {
      peak = Math.max(peak, memoryOf(pid).rss);
    } catch {
      // the process is gone
    }
  };
  take();
  const timer = setInterval(take, 50);
  return () => {
    clearInterval(timer);
    take();
    return peak;
  };
}

/** Options are asked for after the warm-up (default: the measured options for 3 seconds) has run. */
async function measure(name: string, payments: number | null, pid: number, optionsFor: () => Promise<autocannon.Options>, warmup?: autocannon.Options, okStatus?: number): Promise<Measurement> {
  await autocannon({ duration: 3, ...(warmup ?? (await optionsFor())), connections: CONNECTIONS }); // warm-up: JIT, pool, caches
  const options = await optionsFor();
  const stop = sampleMemory(pid);
  const result = await autocannon({ duration: DURATION, ...options, connections: CONNECTIONS });
  const peak = stop();
  const ok = okStatus === undefined ? result['2xx'] : (result.statusCodeStats as Record<string, { count: number }>)[String(okStatus)]?.count ?? 0;
  const m: Measurement = {
    scenario: name,
    payments,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.requests.total - ok - result.errors - result.timeouts,
    errors: result.errors + result.timeouts,
    ratioToCeiling: null,
    peakRssMb: Math.round((peak / 1024 / 1024) * 10) / 10,
  };
  if (options.amount) m.requestsPerSecond = Math.round(result.requests.total / result.duration);
  log(`  ${name}${payments === null ? '' : ` (${payments.toLocaleString('en')} payments)`}: ${m.requestsPerSecond} req/s, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, RSS ${m.peakRssMb} MB${m.non2xx || m.errors ? `, ${m.non2xx} unexpected answers, ${m.errors} errors` : ''}`);
  return Object.assign(m, { seconds: result.duration });
}

export async function startCeiling(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/ceiling.ts'), String(port)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`the ceiling server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => new Promise((resolve) => (child.kill('SIGTERM'), child.once('exit', () => resolve()))),
  };
}

async function paymentCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>('select count(*) as n from payments')).rows[0]!.n);
  } finally {
    await client.end();
  }
}

async function runRound(ctx: BenchContext, list: Scenario[], payments: number, out: { measured: Measurement[]; notes: string[]; problems: string[] }, haven: HavenProcess, suffix = '') {
  for (const s of list) {
    const name = `${s.name}${suffix}`;
    const warmup = s.warmup ? await s.warmup(ctx) : undefined;
    const m = await measure(name, s.kind === 'page' ? payments : null, haven.pid, () => s.options(ctx), warmup, s.okStatus);
    if (s.finish) {
      const finished = await s.finish(ctx, (m as Measurement & { seconds: number }).seconds);
      m.extra = finished.extra;
      for (const note of finished.notes) log(`    ${note}`);
      out.notes.push(...finished.notes.map((n) => `${name}: ${n}`));
      if (!finished.ok) out.problems.push(`${name}: ${finished.notes.join('; ')}`);
    }
    delete (m as Partial<Measurement & { seconds: number }>).seconds;
    out.measured.push(m);
  }
}

/** Stripe's side in its own process: the stand-in API Haven calls, and signed deliveries for the webhook scenario. */
export async function startStripeSide(): Promise<StripeSide & { stop(): void }> {
  const child = fork(path.join(ROOT, 'bench/stripe-side.ts'), [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: any[] = [];
  let waiting: ((m: any) => void) | undefined;
  child.on('message', (m) => (waiting ? (waiting(m), (waiting = undefined)) : messages.push(m)));
  child.once('exit', (code) => waiting?.({ kind: 'exit', code }));
  const next = () => new Promise<any>((resolve) => (messages.length ? resolve(messages.shift()) : (waiting = resolve)));
  const ready = await next();
  if (ready.kind !== 'ready') throw new Error('the Stripe side did not start');
  return {
    env: ready.env,
    async prepare(gifts) {
      child.send({ kind: 'prepare', gifts, refundEvery: 10, duplicateShare: 0.2 });
      const prepared = await next();
      if (prepared.kind !== 'prepared') throw new Error('the Stripe side stopped while preparing deliveries');
      return prepared;
    },
    stop: () => void child.kill(),
  };
}

function table(rows: Measurement[]): string {
  const header = ['scenario', 'payments', 'req/s', 'p50 ms', 'p99 ms', 'vs ceiling', 'peak RSS MB', 'non-2xx'];
  const lines = rows.map((r) => [
    r.scenario,
    r.payments === null ? '' : r.payments.toLocaleString('en'),
    String(r.requestsPerSecond),
    String(r.p50Ms),
    String(r.p99Ms),
    r.ratioToCeiling === null ? '' : `${Math.round(r.ratioToCeiling * 100)}%`,
    String(r.peakRssMb),
    String(r.non2xx + r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [fmt(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}

async function main() {
  log('== Building the production bundle (npm run build)');
  const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');

  log('== Statements per uncached public page (Kysely log hook, a visitor not signed in)');
  const queriesDb = await createServerDatabase('haven_bench_queries', adminUrl(process.env.BENCH_DATABASE_URL));
  const pageQueries = await countPageQueries(queriesDb.url, PUBLIC_PAGES).finally(() => queriesDb.drop());
  for (const p of pageQueries) log(`  ${p.page}: ${p.statements.length} statements`);

  const database = await createServerDatabase('haven_bench', adminUrl(process.env.BENCH_DATABASE_URL));
  log(`== Database ${database.name} (dropped at the end)`);
  const settings = new pg.Client({ connectionString: database.url });
  await settings.connect();
  const autovacuum = (await settings.query<{ autovacuum: string }>('show autovacuum')).rows[0]!.autovacuum;
  await settings.end();
  if (autovacuum !== 'on') log(`   note: autovacuum is ${autovacuum} on this server; the seeder vacuums the balance rows itself`);
  const out = { measured: [] as Measurement[], notes: [] as string[], problems: [] as string[] };
  const started = new Date();
  let haven: HavenProcess | undefined;
  const stripeSide = await startStripeSide();
  const profileDir = path.join(RESULTS_DIR, 'profiles');
  const startServer = (publicCacheSeconds = '1') =>
    startHaven({
      databaseUrl: database.url,
      mode: 'built',
      // The request log stays on, as in production; it goes to /dev/null rather than a terminal.
      env: { LOG_LEVEL: 'info', PUBLIC_CACHE_SECONDS: publicCacheSeconds, ...stripeSide.env },
      nodeArgs: process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    });
  const peaks: number[] = [];
  const stopServer = async () => {
    if (!haven) return;
    peaks.push(memoryOf(haven.pid).peak);
    await haven.stop();
    haven = undefined;
  };
  try {
    // The ceiling is measured at the start of each round and each result is compared with the
    // ceiling of its own round, so a machine shared with other work skews both alike.
    const ceilings = new Map<number, Measurement>();
    const measureCeiling = async (payments: number) => {
      const ceiling = await startCeiling();
      const result = await measure('bare express (ceiling)', payments, ceiling.pid, async () => ({ url: `${ceiling.url}/` }));
      await ceiling.stop();
      ceilings.set(payments, result);
      out.measured.push(result);
    };
    const pages = scenarios.filter((s) => s.kind === 'page');
    const uncachedPages = async (ctx: BenchContext, payments: number) => {
      haven = await startServer('0');
      ctx.haven = haven;
      await runRound(ctx, pages, payments, out, haven, UNCACHED);
      await stopServer();
    };

    haven = await startServer(); // migrates the new database
    const db = createKysely(database.url, 2);
    const group = await makeApprovedGroup(db, { name: 'Bench Neighbours', city: 'Toronto' }).finally(() => db.destroy());
    await seedPayments(database.url, SMALL - (await paymentCount(database.url)), { log, groupId: group.id });
    const ctx: BenchContext = { database, haven, stripeSide, groupSlug: group.slug };
    log(`== Round 1: ${SMALL.toLocaleString('en')} payments (${CONNECTIONS} connections, ${DURATION} s each after a 3 s warm-up)`);
    await measureCeiling(SMALL);
    await runRound(ctx, pages, SMALL, out, haven);
    await stopServer();
    await uncachedPages(ctx, SMALL);
    // Actions last: the webhook scenario leaves thousands of gifts, receipts and e-mails behind.
    haven = await startServer();
    ctx.haven = haven;
    await runRound(ctx, scenarios.filter((s) => s.kind === 'action'), SMALL, out, haven);
    await stopServer();
    // Stripe events applied by one, then two, processes sharing the queue (each its own Haven on this database).
    const applyRuns: ApplyRun[] = [];
    if (RUN_APPLY) {
      log(`== Stripe events applied: ${APPLY_GIFTS.toLocaleString('en')} card gifts, one and two processes`);
      for (const processes of [1, 2]) {
        const run = await measureStripeApply(database.url, stripeSide, processes, APPLY_GIFTS);
        for (const note of run.notes) log(`  ${note}`);
        out.notes.push(...run.notes);
        if (!run.exact) out.problems.push(run.notes.join('; '));
        applyRuns.push(run);
      }
    }

    log(`== Seeding to ${LARGE.toLocaleString('en')} payments (set-based SQL, balanced ledger transactions, triggers on)`);
    const seedStart = Date.now();
    await seedPayments(database.url, LARGE - (await paymentCount(database.url)), { log, groupId: group.id });
    log(`  seeded in ${Math.round((Date.now() - seedStart) / 1000)} s`);
    haven = await startServer();
    ctx.haven = haven;
    log(`== Round 2: ${LARGE.toLocaleString('en')} payments (pages only)`);
    await measureCeiling(LARGE);
    await runRound(ctx, pages, LARGE, out, haven);
    await stopServer();
    await uncachedPages(ctx, LARGE);

    for (const m of out.measured) {
      if (m.scenario === 'bare express (ceiling)') continue;
      const ceiling = ceilings.get(m.payments ?? SMALL)!;
      m.ratioToCeiling = Math.round((m.requestsPerSecond / ceiling.requestsPerSecond) * 1000) / 1000;
    }
    const scaling = [...pages.map((s) => s.name), ...pages.map((s) => `${s.name}${UNCACHED}`)].flatMap((name) => {
      const small = out.measured.find((m) => m.scenario === name && m.payments === SMALL);
      const large = out.measured.find((m) => m.scenario === name && m.payments === LARGE);
      if (!small || !large) return [];
      return [{ scenario: name, p50Ratio: round2(large.p50Ms / small.p50Ms), p99Ratio: round2(large.p99Ms / small.p99Ms), throughputRatio: round2(small.requestsPerSecond / large.requestsPerSecond) }];
    });
    const serverPeakMb = Math.round((Math.max(...peaks) / 1024 / 1024) * 10) / 10;
    const checks = targetChecks(out.measured, scaling, ceilings.get(SMALL)!, serverPeakMb, LARGE, out.problems, applyRuns);

    log('\n== Results');
    log(table(out.measured));
    for (const note of out.notes) log(`  ${note}`);
    log(`\n== ${LARGE.toLocaleString('en')} vs ${SMALL.toLocaleString('en')} payments (latency ratio; target ≤ 1.2)`);
    for (const s of scaling) log(`  ${s.scenario}: p50 ×${s.p50Ratio}, p99 ×${s.p99Ratio}, throughput ×${s.throughputRatio} slower`);
    log(`\n== Server peak RSS (VmHWM, highest of the ${peaks.length} server runs): ${serverPeakMb} MB`);
    log('\n== Targets (Haven as deployed, public cache on; the no-cache rows are for information)');
    printChecks(checks, log);

    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
    const machine = { node: process.version, cpus: os.cpus().length, loadAverageAtEnd: os.loadavg() };
    fs.writeFileSync(file, `${JSON.stringify({ startedAt: started.toISOString(), connections: CONNECTIONS, durationSeconds: DURATION, machine, measured: out.measured, notes: out.notes, pageQueries: pageQueries.map((p) => ({ page: p.page, statements: p.statements.length })), applyRuns, scaling, serverPeakMb, targets: checks }, null, 2)}\n`);
    log(`\nWrote ${path.relative(ROOT, file)}`);
  } finally {
    await stopServer();
    stripeSide.stop();
    await database.drop();
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

type Check = { target: string; measured: string; met: boolean };

function targetChecks(
  measured: Measurement[],
  scaling: { scenario: string; p50Ratio: number; p99Ratio: number }[],
  ceiling: Measurement,
  serverPeakMb: number,
  large: number,
  problems: string[],
  applyRuns: ApplyRun[],
): Check[] {
  const checks: Check[] = [];
  const campaign = measured.find((m) => m.scenario === 'GET /' && m.payments === SMALL);
  if (campaign) {
    const ratio = campaign.requestsPerSecond / ceiling.requestsPerSecond;
    checks.push({ target: 'campaign page ≥ 50% of the ceiling', measured: `${Math.round(ratio * 100)}% (${campaign.requestsPerSecond} of ${ceiling.requestsPerSecond} req/s)`, met: ratio >= 0.5 });
  }
  const uncached = measured.find((m) => m.scenario === `GET /${UNCACHED}` && m.payments === SMALL);
  if (uncached) {
    const ratio = uncached.requestsPerSecond / ceiling.requestsPerSecond;
    checks.push({ target: 'uncached campaign page ≥ 25% of the ceiling (same run)', measured: `${Math.round(ratio * 100)}% (${uncached.requestsPerSecond} of ${ceiling.requestsPerSecond} req/s, p50 ${uncached.p50Ms} ms)`, met: ratio >= 0.25 });
  }
  checks.push(...applyChecks(applyRuns));
  const pageNames = new Set(scenarios.filter((s) => s.kind === 'page').map((s) => s.name));
  for (const m of measured.filter((x) => pageNames.has(x.scenario))) {
    checks.push({ target: `p99 < 50 ms: ${m.scenario}${m.payments === null ? '' : ` (${m.payments.toLocaleString('en')} payments)`}`, measured: `${m.p99Ms} ms`, met: m.p99Ms < 50 });
  }
  for (const s of scaling.filter((x) => pageNames.has(x.scenario))) {
    checks.push({ target: `${s.scenario}: latency with ${large.toLocaleString('en')} within 1.2× of 1,000`, measured: `p50 ×${s.p50Ratio}, p99 ×${s.p99Ratio}`, met: s.p50Ratio <= 1.2 && s.p99Ratio <= 1.2 });
  }
  const webhook = measured.find((m) => m.scenario === 'POST /webhooks/stripe');
  if (webhook) {
    checks.push({ target: 'webhook ingestion ≥ 1,000 events/s', measured: `${webhook.requestsPerSecond} events/s acknowledged (stored, signature checked); ${webhook.extra?.appliedPerSecond ?? '?'} events/s applied`, met: webhook.requestsPerSecond >= 1000 });
  }
  checks.push({ target: 'server memory < 200 MB', measured: `${serverPeakMb} MB peak RSS`, met: serverPeakMb < 200 });
  for (const m of measured) {
    if (m.non2xx || m.errors) checks.push({ target: `${m.scenario}: every answer as expected`, measured: `${m.non2xx} unexpected answers, ${m.errors} errors`, met: false });
  }
  for (const problem of problems) checks.push({ target: 'the data came out right', measured: problem, met: false });
  return checks;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
