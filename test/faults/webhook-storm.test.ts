import { createKysely, type Db } from '../../server/db/database';
import { accounts } from '../../server/ledger/accounts';
import { balanceOf } from '../../server/ledger/ledger';
import { LEASE_SECONDS } from '../../server/giving/stripe-event-queue';
import { adminUrl, createServerDatabase, type HavenProcess, type ServerDatabase, startHaven, waitForStripeEvents } from '../support/haven-process';
import { startStripeStandIn, type StripeStandIn } from '../support/stripe-stand-in';
import { deliver, type Delivery, type PreparedGift, prepareCardGifts, shuffle, webhookStorm } from './support/card-gifts';
import { ledgerProblems } from './support/ledger-audit';

/**
 * Stripe's webhooks as they really arrive, against a real Haven process on PostgreSQL: in any
 * order, some more than once, some forged, and across a crash. What must hold: each gift is
 * counted exactly once, forged deliveries are refused and change nothing, and the ledger balances.
 * The endpoint answers once the event is stored; its processor applies it a moment later, so
 * totals are checked once no event is left unprocessed.
 *
 * FAULT_DELIVERIES (default 10000) sets the size of the stream.
 */
const DELIVERIES = Number(process.env.FAULT_DELIVERIES ?? 10_000);
const DUPLICATE_SHARE = 0.3;
const BAD_SIGNATURE_SHARE = 0.05;
const SEED = Number(process.env.FAULT_SEED ?? 20261121);

type Env = { database: ServerDatabase; stand: StripeStandIn; haven: HavenProcess; db: Db; webhookUrl: string };
const envs: Env[] = [];

async function startEnv(name: string): Promise<Env> {
  const database = await createServerDatabase(`haven_fault_${name}`, adminUrl());
  const stand = await startStripeStandIn();
  const haven = await startHaven({ databaseUrl: database.url, mode: 'source', env: stand.env });
  const env = { database, stand, haven, db: createKysely(database.url, 8), webhookUrl: `${haven.url}/webhooks/stripe` };
  envs.push(env);
  return env;
}

afterAll(async () => {
  for (const env of envs) {
    await env.haven.stop();
    await env.stand.close();
    await env.db.destroy();
    await env.database.drop();
  }
});

function stream(stand: StripeStandIn, gifts: PreparedGift[], total: number): Delivery[] {
  return webhookStorm(stand, gifts, total, { duplicateShare: DUPLICATE_SHARE, forgedShare: BAD_SIGNATURE_SHARE, seed: SEED });
}

async function expectExact(env: Env, gifts: PreparedGift[]) {
  await waitForStripeEvents(env.db, { timeoutMs: 120_000 });
  const expected = gifts.reduce((sum, g) => sum + g.amountCents, 0);
  const payments = await env.db.selectFrom('payments').select(['pledge_id', 'amount_cents']).execute();
  expect(payments.length).toBe(gifts.length);
  expect(new Set(payments.map((p) => p.pledge_id)).size).toBe(gifts.length);
  expect(-(await balanceOf(env.db, accounts.allFunds))).toBe(expected);
  const stored = await env.db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  expect(Number(stored.n)).toBe(gifts.reduce((n, g) => n + g.events.length, 0));
  expect(await env.db.selectFrom('stripe_events').select('id').where('id', 'like', '%_forged').execute()).toEqual([]);
  expect(await ledgerProblems(env.db)).toEqual([]);
}

test(`${DELIVERIES} deliveries, ${DUPLICATE_SHARE * 100}% duplicates, shuffled, ${BAD_SIGNATURE_SHARE * 100}% forged: every gift counted once, forgeries refused`, async () => {
  const env = await startEnv('storm');
  const uniqueEvents = Math.round(DELIVERIES * (1 - DUPLICATE_SHARE - BAD_SIGNATURE_SHARE));
  const gifts = await prepareCardGifts(env.db, env.stand, uniqueEvents);
  const deliveries = stream(env.stand, gifts, DELIVERIES);
  expect(deliveries.length).toBe(DELIVERIES);

  const started = Date.now();
  const report = await deliver(env.webhookUrl, deliveries, { concurrency: 32 });
  const seconds = (Date.now() - started) / 1000;
  await waitForStripeEvents(env.db, { timeoutMs: 120_000 });
  const applied = (Date.now() - started) / 1000;
  process.stdout.write(
    `storm: ${deliveries.length} deliveries answered in ${seconds.toFixed(1)} s (${Math.round(deliveries.length / seconds)}/s), all applied after ${applied.toFixed(1)} s, statuses ${JSON.stringify(Object.fromEntries(report.statuses))}, ${report.retried503} 503s retried\n`,
  );

  deliveries.forEach((d, i) => {
    if (d.good && report.byDelivery[i] !== 200) throw new Error(`good delivery ${d.eventId} answered ${report.byDelivery[i]}`);
    if (!d.good && report.byDelivery[i] !== 400) throw new Error(`forged delivery ${d.eventId} answered ${report.byDelivery[i]}`);
  });
  await expectExact(env, gifts);
});

test('the server killed with SIGKILL mid-stream, restarted, the stream redelivered: totals exact, ledger balanced', async () => {
  const env = await startEnv('sigkill');
  const gifts = await prepareCardGifts(env.db, env.stand, Math.round(DELIVERIES / 5));
  const deliveries = stream(env.stand, gifts, Math.round(DELIVERIES / 4)).filter((d) => d.good);

  let killed = false;
  const first = await deliver(env.webhookUrl, deliveries, {
    concurrency: 32,
    onProgress: (done) => {
      if (!killed && done >= deliveries.length * 0.4) {
        killed = true;
        void env.haven.kill();
      }
    },
  });
  expect(killed).toBe(true);
  expect(first.failed).toBeGreaterThan(0); // the kill really cut deliveries short
  expect(await ledgerProblems(env.db)).toEqual([]); // nothing half-written by the dead process

  const port = env.haven.port;
  env.haven = await startHaven({ databaseUrl: env.database.url, mode: 'source', env: env.stand.env, port });
  const again = await deliver(env.webhookUrl, deliveries, { concurrency: 32 });
  expect([...again.statuses.keys()]).toEqual([200]);
  // Events the killed process had leased are taken again once their lease runs out.
  await waitForStripeEvents(env.db, { timeoutMs: (LEASE_SECONDS + 90) * 1000 });
  await expectExact(env, gifts);
});

test('1,000 concurrent gifts preferring one group: the group fund total is exact', async () => {
  const env = await startEnv('group');
  const groupId = 4242;
  const gifts = await prepareCardGifts(env.db, env.stand, 1_000, { groupId });
  const deliveries = stream(env.stand, gifts, 1_000).filter((d) => d.good);
  const report = await deliver(env.webhookUrl, shuffle(deliveries, SEED), { concurrency: 100 });
  expect([...report.statuses.keys()]).toEqual([200]);
  await waitForStripeEvents(env.db, { timeoutMs: 120_000 });
  const expected = gifts.reduce((sum, g) => sum + g.amountCents, 0);
  expect(-(await balanceOf(env.db, accounts.fund({ groupId })))).toBe(expected);
  expect(await balanceOf(env.db, accounts.fund({ groupId: null }))).toBe(0);
  await expectExact(env, gifts);
});
