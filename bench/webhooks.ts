/**
 * Webhook ingestion throughput on PostgreSQL: signed Stripe deliveries (one-time gifts and
 * partial refunds, shuffled so some refunds arrive before their gift, with duplicates mixed in)
 * posted over HTTP to POST /webhooks/stripe, against the local Stripe stand-in for the API
 * look-ups. Then checks zero double counts: one payment per gift, totals equal to the sum.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/webhooks.ts [gifts=2000] [concurrency=32]
 *   (BENCH_POOL_SIZE=20: the app's connection pool)
 *
 * BENCH_POOL_SIZE (default 20) sets the app's connection pool. It creates (and drops) its own
 * database next to DATABASE_URL's.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import type Stripe from 'stripe';
import { createApp } from '../server/app';
import { campaignTotals, requireCurrentCampaign } from '../server/campaign/campaign';
import { loadConfig } from '../server/config';
import { createKysely } from '../server/db/database';
import { migrateToLatest } from '../server/db/migrator';
import { upsertDonor } from '../server/donations/donors';
import { createPledge } from '../server/donations/pledges';
import { createStripe } from '../server/giving/stripe-client';
import { createLogger } from '../server/logger';
import { startStripeStandIn } from '../test/support/stripe-stand-in';

const gifts = Number(process.argv[2] ?? 2_000);
const concurrency = Number(process.argv[3] ?? 32);
const duplicateShare = 0.2;
const refundShare = 0.1;

async function admin(url: string, text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function main() {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('set DATABASE_URL to a PostgreSQL server (the bench makes its own database there)');
  const name = `haven_bench_${process.pid}`;
  await admin(serverUrl, `create database ${name}`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  const db = createKysely(u.toString(), Number(process.env.BENCH_POOL_SIZE ?? 20));
  const stand = await startStripeStandIn();
  let server: http.Server | undefined;
  try {
    await migrateToLatest(db);
    const config = loadConfig({ ...stand.env, NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), DATABASE_URL: u.toString(), LOG_LEVEL: 'silent', PUBLIC_URL: 'http://127.0.0.1' });
    const app = createApp({ config, db, logger: createLogger(config) });
    server = http.createServer({ keepAlive: true }, app);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
    const stripe = createStripe(config.stripe)!;

    // Gifts: pledges made the way the giving page makes them, with a Checkout session at the stand-in.
    process.stdout.write(`preparing ${gifts} gifts… `);
    const campaign = await db.selectFrom('campaigns').select('id').executeTakeFirstOrThrow();
    const unique: Stripe.Event[] = [];
    let expectedCents = 0;
    for (let i = 0; i < gifts; i++) {
      const amount = 500 + ((i * 7919) % 50_000);
      const pledgeId = await db.transaction().execute(async (trx) => {
        const donorId = await upsertDonor(trx, { email: `bench${i}@example.org`, name: `Bench ${i}` });
        return createPledge(trx, { campaignId: campaign.id, donorId, groupId: null, amountCents: amount, frequency: 'once', installments: null, method: 'card' });
      });
      const metadata = { pledge_id: String(pledgeId) };
      const session = await stripe.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [{ quantity: 1, price_data: { currency: 'cad', unit_amount: amount, product_data: { name: 'Gift' } } }],
          metadata,
          payment_intent_data: { metadata },
          success_url: 'http://127.0.0.1/give/thanks',
          cancel_url: 'http://127.0.0.1/give',
        },
        { idempotencyKey: `pledge-${pledgeId}-checkout` },
      );
      unique.push(...stand.completeCheckout(session.id));
      expectedCents += amount;
      if (i % Math.round(1 / refundShare) === 0) {
        const intent = stand.objects.get(stand.objects.get(session.id)!.payment_intent)!;
        const refund = Math.floor(amount / 4);
        unique.push(stand.refundCharge(intent.latest_charge, refund));
        expectedCents -= refund;
      }
    }
    stand.takeEvents();
    const deliveries = [...unique, ...unique.filter(() => Math.random() < duplicateShare)];
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    const signed = deliveries.map((e) => {
      const payload = JSON.stringify(e);
      return { payload, signature: stand.sign(payload) };
    });
    console.log(`${unique.length} unique events, ${deliveries.length} deliveries (${deliveries.length - unique.length} duplicates), concurrency ${concurrency}`);

    // Deliver. A 503 (a refund before its gift, under a race) is retried, as Stripe would.
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const statuses = new Map<number, number>();
    let retries = 0;
    const post = (body: string, signature: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'stripe-signature': signature, 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < signed.length) {
          const item = signed[next++]!;
          let status = await post(item.payload, item.signature);
          while (status === 503) {
            retries += 1;
            await new Promise((r) => setTimeout(r, 20));
            status = await post(item.payload, item.signature);
          }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;

    const totals = await campaignTotals(db, await requireCurrentCampaign(db));
    const payments = await db.selectFrom('payments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const events = await db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const ledger = await db.selectFrom('ledger_entries').select((eb) => eb.fn.sum<string>('amount_cents').as('s')).executeTakeFirstOrThrow();
    const ok = totals.raisedCents === expectedCents && Number(payments.n) === gifts && Number(events.n) === unique.length && Number(ledger.s) === 0;
    console.log(`delivered ${signed.length} events in ${seconds.toFixed(2)} s: ${Math.round(signed.length / seconds)} events/s (statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${retries} retried 503s)`);
    console.log(`payments ${payments.n}/${gifts}, events stored ${events.n}/${unique.length}, raised ${totals.raisedCents} vs expected ${expectedCents}, ledger sum ${ledger.s}: ${ok ? 'zero double counts' : 'MISMATCH'}`);
    if (!ok) process.exitCode = 1;
  } finally {
    server?.closeAllConnections();
    server?.close();
    await stand.close();
    await db.destroy();
    await admin(serverUrl, `drop database if exists ${name} with (force)`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
