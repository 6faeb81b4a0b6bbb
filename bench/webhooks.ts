/**
 * Webhook throughput on PostgreSQL: signed Stripe deliveries (one-time gifts and partial refunds,
 * shuffled so some refunds arrive before their gift, with duplicates mixed in) posted over HTTP
 * to POST /webhooks/stripe, with the local Stripe stand-in answering the processor's API look-ups
 * (both in a child process, bench/webhooks-stripe-side.ts). The app runs in this process with its
 * Stripe event processor started, as main.ts runs it. It reports two rates:
 *   - acknowledged: deliveries / seconds from the first delivery until the last response;
 *   - applied: unique events / seconds from the first delivery until no event is left unprocessed;
 * then, once the queue is empty, checks zero double counts: one payment per gift, totals equal to
 * the sum, every event stored once, the ledger summing to zero.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/webhooks.ts [gifts=2000] [concurrency=32]
 *
 * BENCH_POOL_SIZE (default 20) sets the app's connection pool; BENCH_COUNT_QUERIES=1 also prints the
 * statements the app sent per event, by time spent (a Kysely log hook). It creates (and drops) its own
 * database next to DATABASE_URL's.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { adminUrl, createServerDatabase } from '../test/support/haven-process';
import { createApp } from '../server/app';
import { createStripeEventProcessor, type StripeEventProcessor } from '../server/giving/stripe-event-queue';
import { webhookContext } from '../server/giving/stripe-webhooks';
import { campaignTotals, requireCurrentCampaign } from '../server/campaign/campaign';
import { loadConfig } from '../server/config';
import { createKysely } from '../server/db/database';
import { migrateToLatest } from '../server/db/migrator';
import { upsertDonor } from '../server/giving/donors';
import { createPledge } from '../server/giving/pledges';
import { createLogger } from '../server/logger';

const gifts = Number(process.argv[2] ?? 2_000);
const concurrency = Number(process.argv[3] ?? 32);

type Done = { unique: number; deliveries: number; startedAt: number; seconds: number; statuses: Record<string, number>; retries: number; expectedCents: number };

async function main() {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('set DATABASE_URL to a PostgreSQL server (the bench makes its own database there)');
  const database = await createServerDatabase('haven_bench_webhooks', adminUrl(serverUrl));
  const statements = new Map<string, number>();
  const durations = new Map<string, number>();
  const db = createKysely(database.url, Number(process.env.BENCH_POOL_SIZE ?? 20), process.env.BENCH_COUNT_QUERIES ? { onQuery: (q, ms) => (statements.set(q, (statements.get(q) ?? 0) + 1), durations.set(q, (durations.get(q) ?? 0) + ms)) } : {});
  // Stripe's side (API stand-in and the load generator) runs in its own process, as Stripe is another machine.
  const stripeSide = fork(path.join(__dirname, 'webhooks-stripe-side.ts'), [], { execArgv: ['--import', 'tsx'] });
  const messages: unknown[] = [];
  let waiting: ((m: unknown) => void) | undefined;
  stripeSide.on('message', (m) => (waiting ? (waiting(m), (waiting = undefined)) : messages.push(m)));
  const nextMessage = () => new Promise<any>((resolve) => (messages.length ? resolve(messages.shift()) : (waiting = resolve)));
  let server: http.Server | undefined;
  let processor: StripeEventProcessor | undefined;
  try {
    const ready = await nextMessage();
    await migrateToLatest(db);
    const config = loadConfig({ ...ready.env, NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), CHARITY_REGISTRATION_NUMBER: '123456789 RR 0001', CHARITY_ADDRESS: '1 Test Street, Toronto ON  M5V 1A1', CONTACT_EMAIL: 'giving@haven.test', FAMILY_DATA_KEY: 'ab'.repeat(32), DATABASE_URL: database.url, LOG_LEVEL: 'silent', PUBLIC_URL: 'http://127.0.0.1' });
    const logger = createLogger(config);
    processor = createStripeEventProcessor(webhookContext({ config, db, logger })!);
    const app = createApp({ config, db, logger, stripeEvents: processor });
    processor.start();
    server = http.createServer({ keepAlive: true }, app);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;

    process.stdout.write(`preparing ${gifts} gifts… `);
    const campaign = await db.selectFrom('campaigns').select('id').executeTakeFirstOrThrow();
    const list: { pledgeId: number; amountCents: number }[] = [];
    for (let i = 0; i < gifts; i++) {
      const amountCents = 500 + ((i * 7919) % 50_000);
      const pledgeId = await db.transaction().execute(async (trx) => {
        const donorId = await upsertDonor(trx, { email: `bench${i}@example.org`, name: `Bench ${i}` });
        return createPledge(trx, { campaignId: campaign.id, donorId, groupId: null, amountCents, frequency: 'once', installments: null, method: 'card' });
      });
      list.push({ pledgeId, amountCents });
    }
    statements.clear();
    stripeSide.send({ gifts: list, url, concurrency, duplicateShare: 0.2, refundEvery: 10 });
    const done = (await nextMessage()) as Done;
    console.log(`${done.unique} unique events (gifts and partial refunds, shuffled), ${done.deliveries} deliveries (${done.deliveries - done.unique} duplicates), concurrency ${concurrency}`);
    console.log(`acknowledged ${done.deliveries} deliveries in ${done.seconds.toFixed(2)} s: ${Math.round(done.deliveries / done.seconds)} events/s (statuses ${JSON.stringify(done.statuses)}, ${done.retries} retried 503s)`);
    // The processor keeps applying after the last answer: wait until nothing is left in the queue.
    const deadline = Date.now() + 600_000;
    for (;;) {
      const left = await db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<number>().as('n')).where('processed_at', 'is', null).executeTakeFirstOrThrow();
      if (Number(left.n) === 0) break;
      if (Date.now() > deadline) throw new Error(`${left.n} events were still unprocessed 10 minutes after the last delivery`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const appliedSeconds = (Date.now() - done.startedAt) / 1000;
    console.log(`applied ${done.unique} unique events in ${appliedSeconds.toFixed(2)} s (first delivery to empty queue): ${Math.round(done.unique / appliedSeconds)} events/s`);

    if (process.env.BENCH_COUNT_QUERIES) {
      const total = [...statements.values()].reduce((a, b) => a + b, 0);
      console.log(`${total} statements for ${done.unique} events: ${(total / done.unique).toFixed(1)} per event`);
      for (const [q, n] of [...statements].sort((a, b) => durations.get(b[0])! - durations.get(a[0])!).slice(0, 40)) console.log(`  ${n}\t${Math.round(durations.get(q)!)} ms\t${q.slice(0, 140)}`);
    }
    const totals = await campaignTotals(db, await requireCurrentCampaign(db));
    const payments = await db.selectFrom('payments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const events = await db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const ledger = await db.selectFrom('ledger_entries').select((eb) => eb.fn.sum<string>('amount_cents').as('s')).executeTakeFirstOrThrow();
    const ok = totals.raisedCents === done.expectedCents && Number(payments.n) === gifts && Number(events.n) === done.unique && Number(ledger.s) === 0;
    console.log(`payments ${payments.n}/${gifts}, events stored ${events.n}/${done.unique}, raised ${totals.raisedCents} vs expected ${done.expectedCents}, ledger sum ${ledger.s}: ${ok ? 'zero double counts' : 'MISMATCH'}`);
    if (!ok) process.exitCode = 1;
  } finally {
    await processor?.stop();
    stripeSide.kill();
    server?.closeAllConnections();
    server?.close();
    await db.destroy();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
