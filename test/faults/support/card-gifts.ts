import http from 'node:http';
import type Stripe from 'stripe';
import { loadConfig } from '../../../server/config';
import type { Db } from '../../../server/db/database';
import { upsertDonor } from '../../../server/giving/donors';
import { createPledge } from '../../../server/giving/pledges';
import { createStripe } from '../../../server/giving/stripe-client';
import type { StripeStandIn } from '../../support/stripe-stand-in';

/**
 * Card gifts as the giving page makes them (a pledge, then a Checkout session at the Stripe
 * stand-in) and the webhook events Stripe would send when each is paid, for fault tests that
 * deliver them themselves: in bulk, shuffled, duplicated, tampered with, across a crash.
 */
export type PreparedGift = { pledgeId: number; amountCents: number; events: Stripe.Event[] };

export async function prepareCardGifts(db: Db, stand: StripeStandIn, count: number, options: { groupId?: number | null; concurrency?: number } = {}): Promise<PreparedGift[]> {
  const stripe = createStripe(loadConfig({ ...stand.env, NODE_ENV: 'test' }).stripe)!;
  const campaign = await db.selectFrom('campaigns').select('id').orderBy('id').executeTakeFirstOrThrow();
  const gifts: PreparedGift[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const amountCents = 500 + ((i * 7919) % 50_000);
      const pledgeId = await db.transaction().execute(async (trx) => {
        const donorId = await upsertDonor(trx, { email: `fault-donor-${i}@example.org`, name: `Fault donor ${i}` });
        return createPledge(trx, { campaignId: campaign.id, donorId, groupId: options.groupId ?? null, amountCents, frequency: 'once', installments: null, method: 'card' });
      });
      const metadata = { pledge_id: String(pledgeId) };
      const session = await stripe.checkout.sessions.create(
        {
          mode: 'payment',
          line_items: [{ quantity: 1, price_data: { currency: 'cad', unit_amount: amountCents, product_data: { name: 'Gift' } } }],
          metadata,
          payment_intent_data: { metadata },
          success_url: 'http://127.0.0.1/give/thanks',
          cancel_url: 'http://127.0.0.1/give',
        },
        { idempotencyKey: `pledge-${pledgeId}-checkout` },
      );
      gifts[i] = { pledgeId, amountCents, events: stand.completeCheckout(session.id) };
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  stand.takeEvents();
  return gifts;
}

/** A deterministic shuffle (mulberry32), so a failing order can be replayed from its seed. */
export function shuffle<T>(items: T[], seed: number): T[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export type Delivery = { payload: string; signature: string | undefined; good: boolean; eventId: string };

export type DeliveryReport = { statuses: Map<number, number>; byDelivery: number[]; retried503: number; failed: number };

/**
 * POSTs deliveries to the webhook URL with `concurrency` keep-alive connections, retrying a 503
 * as Stripe would (a bounded number of times). A connection error (the server is gone) is
 * recorded as status 0 and not retried: Stripe would redeliver it later, and so do the tests.
 */
export async function deliver(url: string, deliveries: Delivery[], options: { concurrency?: number; stopAfter?: number; onProgress?: (done: number) => void } = {}): Promise<DeliveryReport> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency ?? 32 });
  const post = (d: Delivery) =>
    new Promise<number>((resolve) => {
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(d.payload) };
      if (d.signature !== undefined) headers['stripe-signature'] = d.signature;
      const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      });
      req.on('error', () => resolve(0));
      req.end(d.payload);
    });
  const report: DeliveryReport = { statuses: new Map(), byDelivery: new Array(deliveries.length).fill(-1), retried503: 0, failed: 0 };
  let next = 0;
  let done = 0;
  const limit = Math.min(deliveries.length, options.stopAfter ?? deliveries.length);
  await Promise.all(
    Array.from({ length: options.concurrency ?? 32 }, async () => {
      while (next < limit) {
        const i = next++;
        let status = await post(deliveries[i]!);
        for (let tries = 0; status === 503 && tries < 50; tries++) {
          report.retried503 += 1;
          await new Promise((r) => setTimeout(r, 20));
          status = await post(deliveries[i]!);
        }
        if (status === 0) report.failed += 1;
        report.byDelivery[i] = status;
        report.statuses.set(status, (report.statuses.get(status) ?? 0) + 1);
        done += 1;
        options.onProgress?.(done);
      }
    }),
  );
  agent.destroy();
  return report;
}

/**
 * A webhook storm: every gift's events once, then `duplicateShare` × total redeliveries (signed
 * again, as Stripe does), and `forgedShare` × total forgeries of four kinds (wrong secret, tampered
 * after signing, an hour-old signature, no signature); shuffled by `seed`.
 */
export function webhookStorm(stand: StripeStandIn, gifts: PreparedGift[], total: number, options: { duplicateShare: number; forgedShare: number; seed: number }): Delivery[] {
  const events = gifts.flatMap((g) => g.events);
  const good: Delivery[] = events.map((e) => {
    const payload = JSON.stringify(e);
    return { payload, signature: stand.sign(payload), good: true, eventId: e.id };
  });
  const duplicates = Math.round(total * options.duplicateShare);
  const bad = Math.round(total * options.forgedShare);
  for (let i = 0; i < duplicates; i++) {
    const original = good[(i * 7919) % events.length]!;
    good.push({ ...original, signature: stand.sign(original.payload) });
  }
  const forged: Delivery[] = [];
  for (let i = 0; i < bad; i++) {
    const event = events[(i * 104_729) % events.length]!;
    const payload = JSON.stringify(event);
    const kind = i % 4;
    if (kind === 0) forged.push({ payload, signature: stand.sign(payload, { secret: 'whsec_not_the_secret' }), good: false, eventId: event.id });
    else if (kind === 1) {
      // Tampered after signing: ten times the amount, under the original signature.
      const tampered = JSON.parse(payload);
      tampered.id = `${event.id}_forged`;
      if (tampered.data?.object?.amount_total) tampered.data.object.amount_total *= 10;
      forged.push({ payload: JSON.stringify(tampered), signature: stand.sign(payload), good: false, eventId: tampered.id });
    } else if (kind === 2) forged.push({ payload, signature: stand.sign(payload, { timestamp: Math.floor(Date.now() / 1000) - 3600 }), good: false, eventId: event.id });
    else forged.push({ payload, signature: undefined, good: false, eventId: event.id });
  }
  return shuffle([...good, ...forged], options.seed);
}
