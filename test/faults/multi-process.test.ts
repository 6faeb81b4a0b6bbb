import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { RESET_LIMITS } from '../../server/accounts/password-resets';
import { createKysely, type Db } from '../../server/db/database';
import { keyringOf } from '../../server/families/data-keys';
import { LEASE_SECONDS } from '../../server/giving/stripe-event-queue';
import { accounts } from '../../server/ledger/accounts';
import { balanceOf } from '../../server/ledger/ledger';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import type { EmailMessage } from '../../server/notifications/outbox';
import { recordArrival } from '../../server/schedules/arrivals';
import { availableFamily, staffA, staffB } from '../families/factories';
import { readyGroup } from '../matching/factories';
import { testConfig } from '../support/app';
import { type Haproxy, startHaproxy } from '../support/haproxy';
import { requestFrom } from '../support/reverse-proxy';
import { adminUrl, createServerDatabase, freePort, type HavenProcess, type ServerDatabase, startHaven, waitForStripeEvents } from '../support/haven-process';
import { startStripeStandIn, type StripeStandIn } from '../support/stripe-stand-in';
import { deliver, type Delivery, type PreparedGift, prepareCardGifts, shuffle, webhookStorm } from './support/card-gifts';
import { ledgerProblems } from './support/ledger-audit';

/**
 * Haven as deployed (docker-compose.yml): several processes behind HAProxy, one PostgreSQL.
 * Three processes here, each polling for periodic jobs every second and each running its own Stripe
 * event processor and e-mail dispatcher on the shared queues. What must hold: each periodic job's
 * effect happens once (one overdue reminder per coordinator per week, one expiry per match hold),
 * each e-mail is sent by one process, 1,000 concurrent gifts to one group are exact, and a
 * 10,000-delivery webhook storm spread across the processes is exact although one of them is killed
 * with SIGKILL in the middle of it (its deliveries answered with an error are redelivered, as Stripe
 * redelivers; the events it had leased are taken by the others once their lease runs out).
 *
 * FAULT_DELIVERIES (default 10000) sets the size of the storm.
 */
const PROCESSES = 3;
const DELIVERIES = Number(process.env.FAULT_DELIVERIES ?? 10_000);
const SEED = Number(process.env.FAULT_SEED ?? 20261202);
const FAMILY_DATA_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'; // the processes' (test/support/haven-process.ts)

let database: ServerDatabase;
let stand: StripeStandIn;
const havens: HavenProcess[] = [];
let proxy: Haproxy;
let db: Db;
let webhookUrl: string;

beforeAll(async () => {
  database = await createServerDatabase('haven_fault_multi', adminUrl());
  stand = await startStripeStandIn();
  const proxyPort = await freePort();
  // PUBLIC_URL is the proxy's (links in e-mails); TRUST_PROXY=1 as in docker-compose.yml: HAProxy is the one hop in front.
  // PGAPPNAME names each process's connections in pg_stat_activity, to see who applies the events.
  const env = (n: number) => ({ ...stand.env, TRUST_PROXY: '1', JOBS_POLL_SECONDS: '1', PUBLIC_URL: `http://127.0.0.1:${proxyPort}`, PGAPPNAME: `haven-${n}` });
  havens.push(await startHaven({ databaseUrl: database.url, mode: 'source', env: env(1), keepLogs: true })); // migrates
  havens.push(...(await Promise.all(Array.from({ length: PROCESSES - 1 }, (_, i) => startHaven({ databaseUrl: database.url, mode: 'source', env: env(i + 2), keepLogs: true })))));
  proxy = await startHaproxy(
    havens.map((h) => h.port),
    { port: proxyPort },
  );
  webhookUrl = `${proxy.url}/webhooks/stripe`;
  db = createKysely(database.url, 8);
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all(havens.map((h) => h.stop()));
  await stand?.close();
  await db?.destroy();
  await database?.drop();
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What the ledger, payments and events hold now, to compare after a stream (the tests share one database). */
async function snapshot() {
  const payments = await db.selectFrom('payments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  const events = await db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return { payments: Number(payments.n), events: Number(events.n), funds: -(await balanceOf(db, accounts.allFunds)) };
}

async function expectExact(before: Awaited<ReturnType<typeof snapshot>>, gifts: PreparedGift[]) {
  const after = await snapshot();
  const expected = gifts.reduce((sum, g) => sum + g.amountCents, 0);
  expect(after.payments - before.payments).toBe(gifts.length);
  const mine = await db.selectFrom('payments').select(['pledge_id', 'amount_cents']).where('pledge_id', 'in', gifts.map((g) => g.pledgeId)).execute();
  expect(mine).toHaveLength(gifts.length);
  expect(new Set(mine.map((p) => p.pledge_id)).size).toBe(gifts.length);
  expect(after.funds - before.funds).toBe(expected);
  expect(after.events - before.events).toBe(gifts.reduce((n, g) => n + g.events.length, 0));
  expect(await db.selectFrom('stripe_events').select('id').where('id', 'like', '%_forged').execute()).toEqual([]);
  expect(await ledgerProblems(db)).toEqual([]);
}

/** Redelivers what did not get its final answer (a connection cut, a 502 from the proxy while a process died), as Stripe would, until every delivery has one. */
async function deliverUntilAnswered(deliveries: Delivery[], first: Awaited<ReturnType<typeof deliver>>) {
  const answers = [...first.byDelivery];
  for (let round = 0; round < 5; round++) {
    const again = answers.map((status, i) => (status === 200 || status === 400 ? -1 : i)).filter((i) => i >= 0);
    if (again.length === 0) break;
    const report = await deliver(webhookUrl, again.map((i) => deliveries[i]!), { concurrency: 32 });
    again.forEach((index, j) => (answers[index] = report.byDelivery[j]!));
  }
  return answers;
}

const config = testConfig();
const keyring = keyringOf(Buffer.from(FAMILY_DATA_KEY, 'hex'));

/** A group whose family arrived 100 days ago, so instalments are overdue today. */
async function overdueGroup() {
  const family = await availableFamily(db, keyring, { adults: 2, children: 1 });
  const group = await readyGroup(db, { familySize: 3 });
  const match = await db.transaction().execute((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  await db.transaction().execute((trx) => approveMatch(trx, config, staffB, match.id));
  const arrivalOn = new Date(Date.now() - 100 * 86_400_000).toISOString().slice(0, 10);
  await db.transaction().execute((trx) => recordArrival(trx, staffA, { familyId: family.id, arrivalOn }));
  return group;
}

test(`each periodic job's effect happens once across ${PROCESSES} processes polling every second: one reminder per coordinator per week, one expiry per hold, each e-mail sent once`, async () => {
  const groups = [];
  for (let i = 0; i < 6; i++) groups.push(await overdueGroup());
  const coordinators = await db.selectFrom('group_members').select('email').where('group_id', 'in', groups.map((g) => g.id)).where('role', '=', 'coordinator').execute();
  expect(coordinators).toHaveLength(6);
  // A proposed match whose hold has run out, for the hold-expiry job.
  const heldFamily = await availableFamily(db, keyring, { adults: 1, children: 0 });
  const heldGroup = await readyGroup(db, { familySize: 1 });
  const held = await db.transaction().execute((trx) => proposeMatch(trx, config, staffA, { familyId: heldFamily.id, groupId: heldGroup.id }));
  await db.updateTable('matches').set({ hold_expires_at: sql<Date>`now() - interval '1 minute'` }).where('id', '=', held.id).execute();

  await until('every process registered the jobs', async () => (await db.selectFrom('scheduled_jobs').select('name').execute()).length === 4);
  const ROUNDS = 4;
  for (let round = 1; round <= ROUNDS; round++) {
    const before = new Map((await db.selectFrom('scheduled_jobs').select(['name', 'runs']).execute()).map((j) => [j.name, Number(j.runs)]));
    // Every instalment looks never reminded: only the week's overdue_reminders rows stand between a coordinator and a second e-mail.
    await db.updateTable('schedule_installments').set({ reminded_at: null }).execute();
    await db.updateTable('scheduled_jobs').set({ next_run_at: sql<Date>`now()` }).execute();
    await until(`round ${round}: every job ran`, async () => {
      const jobs = await db.selectFrom('scheduled_jobs').select(['name', 'runs', 'lease_until']).execute();
      return jobs.every((j) => Number(j.runs) > before.get(j.name)! && j.lease_until === null);
    });
    // Three processes polled every second for at least a second more: still one run each.
    await new Promise((r) => setTimeout(r, 1500));
    const after = await db.selectFrom('scheduled_jobs').select(['name', 'runs', 'failures', 'last_error']).execute();
    for (const job of after) expect({ name: job.name, runs: Number(job.runs), failures: Number(job.failures), error: job.last_error }).toEqual({ name: job.name, runs: before.get(job.name)! + 1, failures: 0, error: null });
  }

  const overdue = (await db.selectFrom('outbox').select(['payload', 'sent_at', 'attempts']).execute()).filter((r) => (r.payload as EmailMessage).template === 'schedules/overdue');
  expect(overdue.map((r) => (r.payload as EmailMessage).to).sort()).toEqual(coordinators.map((c) => c.email).sort());
  expect(await db.selectFrom('audit_log').select('subject').where('action', '=', 'match.expired').execute()).toEqual([{ subject: `match:${held.id}` }]);
  // The dispatchers of three processes share the outbox: every e-mail sent, each taken once.
  await until('every e-mail sent', async () => (await db.selectFrom('outbox').select('id').where('sent_at', 'is', null).execute()).length === 0, 30_000);
  const attempts = await db.selectFrom('outbox').select(['id', 'attempts']).where('attempts', '<>', 1).execute();
  expect(attempts).toEqual([]);
});

test('behind HAProxy each process counts the visitor’s own address, never a forged X-Forwarded-For, and a form shown by one process is accepted by the others', async () => {
  const forged = '203.0.113.77';
  for (let i = 0; i < PROCESSES; i++) {
    // Round robin: the page and its post may each come from any of the processes.
    const page = await requestFrom('127.0.0.1', `${proxy.url}/forgot-password`);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    const cookie = (page.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    expect(token).toBeDefined();
    const posted = await requestFrom('127.0.0.1', `${proxy.url}/forgot-password`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forged },
      body: new URLSearchParams({ _csrf: token!, email: `proxy-check-${i}@example.org` }).toString(),
    });
    expect(posted.status).toBe(200);
  }
  const keyOf = (subject: string) => `${RESET_LIMITS.perIp.name}:${createHash('sha256').update(subject).digest('base64url')}`;
  const counted = await db.selectFrom('rate_limits').select(['key', 'hits']).where('key', 'in', [keyOf('127.0.0.1'), keyOf(forged)]).execute();
  expect(counted).toEqual([{ key: keyOf('127.0.0.1'), hits: PROCESSES }]);
});

test(`1,000 concurrent gifts preferring one group, through HAProxy to ${PROCESSES} processes: the group fund total is exact`, async () => {
  const group = await readyGroup(db, { familySize: 4 });
  const before = await snapshot();
  const fundBefore = await balanceOf(db, accounts.fund({ groupId: group.id }));
  const gifts = await prepareCardGifts(db, stand, 1_000, { groupId: group.id });
  const deliveries = webhookStorm(stand, gifts, 1_000, { duplicateShare: 0, forgedShare: 0, seed: SEED });
  const report = await deliver(webhookUrl, shuffle(deliveries, SEED), { concurrency: 100 });
  expect([...report.statuses.keys()]).toEqual([200]);
  await waitForStripeEvents(db, { timeoutMs: 120_000 });
  const expected = gifts.reduce((sum, g) => sum + g.amountCents, 0);
  expect(-((await balanceOf(db, accounts.fund({ groupId: group.id }))) - fundBefore)).toBe(expected);
  await expectExact(before, gifts);
});

test(`${DELIVERIES} deliveries (30% duplicates, 5% forged, shuffled) spread across ${PROCESSES} processes, one killed with SIGKILL mid-stream: every gift counted once, nothing lost`, async () => {
  const before = await snapshot();
  const uniqueEvents = Math.round(DELIVERIES * 0.65);
  const gifts = await prepareCardGifts(db, stand, uniqueEvents);
  const deliveries = webhookStorm(stand, gifts, DELIVERIES, { duplicateShare: 0.3, forgedShare: 0.05, seed: SEED });
  expect(deliveries.length).toBe(DELIVERIES);

  // Who applies events: sampled from pg_stat_activity while the stream runs and drains.
  const appliers = new Set<string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const rows = await sql<{ application_name: string }>`
        select distinct application_name from pg_stat_activity
        where datname = ${database.name} and application_name like 'haven-%' and state <> 'idle' and query ilike '%stripe_events%'`.execute(db);
      for (const r of rows.rows) appliers.add(r.application_name);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();

  const victim = havens[PROCESSES - 1]!;
  let killed = false;
  const started = Date.now();
  const first = await deliver(webhookUrl, deliveries, {
    concurrency: 32,
    onProgress: (done) => {
      if (!killed && done >= deliveries.length * 0.4) {
        killed = true;
        void victim.kill();
      }
    },
  });
  expect(killed).toBe(true);
  const answers = await deliverUntilAnswered(deliveries, first);
  const seconds = (Date.now() - started) / 1000;
  deliveries.forEach((d, i) => {
    if (d.good && answers[i] !== 200) throw new Error(`good delivery ${d.eventId} answered ${answers[i]}`);
    if (!d.good && answers[i] !== 400) throw new Error(`forged delivery ${d.eventId} answered ${answers[i]}`);
  });
  expect(await ledgerProblems(db)).toEqual([]); // nothing half-written by the dead process
  // Events the killed process had leased are taken by the others once their lease runs out.
  const answered = Date.now();
  await waitForStripeEvents(db, { timeoutMs: (LEASE_SECONDS + 180) * 1000 }).catch((error: unknown) => {
    for (const h of havens) process.stderr.write(`--- haven on ${h.port}:\n${h.output().slice(-3000)}\n`);
    throw error;
  });
  const drained = (Date.now() - answered) / 1000;
  sampling = false;
  await sampler;
  process.stdout.write(
    `multi-process storm: ${deliveries.length} deliveries through HAProxy answered in ${seconds.toFixed(1)} s, queue empty ${drained.toFixed(1)} s later; ` +
      `first pass ${JSON.stringify(Object.fromEntries(first.statuses))}; events applied by ${[...appliers].sort().join(', ')}\n`,
  );
  expect(first.statuses.get(200)! + (first.statuses.get(400) ?? 0)).toBeLessThanOrEqual(DELIVERIES);
  expect(appliers.size).toBeGreaterThanOrEqual(2);
  await expectExact(before, gifts);
}, 480_000);
