/**
 * The floor under issue 21's apply target on this machine: what the two things every card gift
 * needs cost with none of Haven's apply around them, each with the whole machine to itself
 * (`npx tsx bench/apply-floor.ts [gifts=12000]`, with BENCH_DATABASE_URL or DATABASE_URL naming
 * the PostgreSQL server). The stream is bench/stripe-apply.ts's: the same gifts, refunds,
 * duplicates and shuffle, from the same Stripe side in its own process.
 *
 *   0. the ceiling: the same deliveries posted to two bare Express processes (bench/ceiling.ts),
 *      which read each body and answer, nothing verified or stored;
 *   1. acknowledgement: each delivery received, its signature verified and the event stored by
 *      two Haven processes, then claimed by their processors; the events are re-typed (and signed
 *      again) as `customer.updated`, which Haven stores and marks processed without acting on it.
 *   2. look-ups: each gift's one `GET /v1/payment_intents/:id` (expanded to the charge's balance
 *      transaction, as chargeFactsOfPaymentIntent asks) from two processes with Haven's Stripe
 *      client, STRIPE_LOOKUPS_AT_ONCE in flight in each.
 *
 * Applying a gift needs 1 and 2, on the same two cores, so events/s can be no more than
 * 1 / (1/stored + look-ups per event/looked-up) before a single ledger row is written.
 */
import { fork, spawnSync } from 'node:child_process';
import Stripe from 'stripe';
import { createStripe } from '../server/giving/stripe-client';
import { STRIPE_LOOKUPS_AT_ONCE } from '../server/giving/stripe-webhooks';
import { adminUrl, createServerDatabase, type HavenProcess, ROOT, startHaven } from '../test/support/haven-process';
import { STAND_IN_WEBHOOK_SECRET } from '../test/support/stripe-stand-in';
import { cardPledges, query } from './scenarios';
import { DONOR_POOL } from './seed-payments';
import { deliverAll, queueEmptyAt } from './stripe-apply';
import type { SignedDelivery } from './stripe-gift-events';

const PROCESSES = 2;
const signer = new Stripe('sk_test_floor');

/** The same deliveries as an event type Haven stores and marks processed without acting on it (ids kept, so duplicates stay duplicates). */
function untyped(deliveries: SignedDelivery[]): SignedDelivery[] {
  return deliveries.map((d) => {
    const payload = JSON.stringify({ ...(JSON.parse(d.payload) as Stripe.Event), type: 'customer.updated' });
    return { payload, signature: signer.webhooks.generateTestHeaderString({ payload, secret: STAND_IN_WEBHOOK_SECRET }) };
  });
}

/** The payment intents of the stream's paid Checkout sessions, once each. */
function paymentIntentsOf(deliveries: SignedDelivery[]): string[] {
  const ids = new Set<string>();
  for (const d of deliveries) {
    const event = JSON.parse(d.payload) as Stripe.Event;
    if (event.type === 'checkout.session.completed' && typeof event.data.object.payment_intent === 'string') ids.add(event.data.object.payment_intent);
  }
  return [...ids];
}

/** A child process: looks up its payment intents, STRIPE_LOOKUPS_AT_ONCE at a time, and reports the count. */
async function lookUpChild(): Promise<void> {
  const { env, ids } = await new Promise<{ env: Record<string, string>; ids: string[] }>((resolve) => process.once('message', (m) => resolve(m as never)));
  const stripe = createStripe({ secretKey: env.STRIPE_SECRET_KEY!, webhookSecret: env.STRIPE_WEBHOOK_SECRET!, apiHost: env.STRIPE_API_HOST, apiPort: Number(env.STRIPE_API_PORT), apiProtocol: 'http' })!;
  process.send!({ kind: 'ready' });
  await new Promise((resolve) => process.once('message', resolve));
  let next = 0;
  let charges = 0;
  await Promise.all(
    Array.from({ length: STRIPE_LOOKUPS_AT_ONCE }, async () => {
      while (next < ids.length) {
        const intent = await stripe.paymentIntents.retrieve(ids[next++]!, { expand: ['latest_charge.balance_transaction'] });
        if (intent.latest_charge && typeof intent.latest_charge !== 'string') charges += 1;
      }
    }),
  );
  process.send!({ kind: 'done', charges });
}

async function lookUpsPerSecond(env: Record<string, string>, ids: string[]): Promise<{ perSecond: number; charges: number }> {
  const children = Array.from({ length: PROCESSES }, () => fork(__filename, ['--look-ups'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const message = (child: (typeof children)[number]) => new Promise<{ kind: string; charges?: number }>((resolve) => child.once('message', resolve as never));
  const ready = children.map(message);
  children.forEach((child, i) => child.send({ env, ids: ids.filter((_, j) => j % PROCESSES === i) }));
  await Promise.all(ready);
  const done = children.map(message);
  const started = Date.now();
  for (const child of children) child.send({ kind: 'go' });
  const results = await Promise.all(done);
  const seconds = (Date.now() - started) / 1000;
  for (const child of children) child.kill();
  return { perSecond: Math.round(ids.length / seconds), charges: results.reduce((n, r) => n + (r.charges ?? 0), 0) };
}

async function main() {
  const gifts = Number(process.argv[2] ?? 12_000);
  const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  const { startCeiling, startStripeSide } = await import('./run');
  const stripeSide = await startStripeSide();
  const database = await createServerDatabase('haven_bench_floor', adminUrl(process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL));
  const havens: HavenProcess[] = [];
  try {
    await startHaven({ databaseUrl: database.url, mode: 'built' }).then((h) => h.stop()); // migrates
    await query(database.url, `insert into donors (email, name, city, province) select 'donor' || g || '@bench.haven.test', 'Bench donor ' || g, 'Toronto', 'ON' from generate_series(1, $1) g on conflict (lower(email)) do nothing`, [DONOR_POOL]);
    const prepared = await stripeSide.prepare(await cardPledges(database.url, gifts));

    const ceilings = await Promise.all(Array.from({ length: PROCESSES }, () => startCeiling()));
    const bare = await deliverAll(
      ceilings.map((c) => c.url),
      prepared.deliveries,
    ).finally(() => Promise.all(ceilings.map((c) => c.stop())));
    const ceiling = Math.round(prepared.deliveries.length / ((bare.lastAnswerAt - bare.startedAt) / 1000));

    for (let i = 0; i < PROCESSES; i++) havens.push(await startHaven({ databaseUrl: database.url, mode: 'built', nodeArgs: process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean), env: { LOG_LEVEL: 'warn', ...stripeSide.env } }));
    const sent = await deliverAll(
      havens.map((h) => h.url),
      untyped(prepared.deliveries),
    );
    const emptyAt = await queueEmptyAt(database.url, 600_000);
    const acknowledged = Math.round(prepared.deliveries.length / ((sent.lastAnswerAt - sent.startedAt) / 1000));
    const stored = Math.round(prepared.unique / ((emptyAt - sent.startedAt) / 1000));
    for (const h of havens.splice(0)) await h.stop();

    const ids = paymentIntentsOf(prepared.deliveries);
    const lookUps = await lookUpsPerSecond(stripeSide.env, ids);
    // Look-ups per event, counting only each gift's Checkout: its refund events read the charge's
    // refunds too (stripe-refund-events.ts), so the true floor is lower still than the one printed.
    const perEvent = ids.length / prepared.unique;
    const floor = Math.round(1 / (1 / stored + perEvent / lookUps.perSecond));
    // With no Haven code at all: the bare answer and the look-up, each event's share.
    const bareFloor = Math.round(1 / (1 / ceiling + perEvent / lookUps.perSecond));
    console.log(`ceiling, two bare Express processes: ${prepared.deliveries.length} deliveries answered at ${ceiling}/s`);
    console.log(`acknowledged and stored, two processes: ${prepared.deliveries.length} deliveries at ${acknowledged}/s; ${prepared.unique} unique events stored and marked processed at ${stored}/s (${sent.failures} failed deliveries)`);
    console.log(`looked up, two processes, ${STRIPE_LOOKUPS_AT_ONCE} at once each: ${ids.length} payment intents at ${lookUps.perSecond}/s (${lookUps.charges} with their charge)`);
    console.log(`floor with Haven storing: at most ${floor} events/s with nothing applied (${perEvent.toFixed(2)} look-ups per event, the Checkouts' only)`);
    console.log(`floor with no Haven code (the bare answer and the look-up): at most ${bareFloor} events/s`);
    console.log(`against the target of 2,000 events/s: ${floor >= 2000 ? 'within reach' : 'out of reach on this machine'}${bareFloor < 2000 ? ', whatever Haven does' : ''}`);
    if (bare.failures > 0 || sent.failures > 0 || lookUps.charges !== ids.length) process.exitCode = 1;
  } finally {
    for (const h of havens) await h.stop();
    await database.drop();
    stripeSide.stop();
  }
}

if (require.main === module) {
  (process.argv.includes('--look-ups') ? lookUpChild() : main()).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
