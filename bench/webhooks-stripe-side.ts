/**
 * The Stripe side of bench/webhooks.ts, in its own process (as Stripe is another machine): the
 * stand-in API that Haven's SDK calls, and the load generator that delivers signed events.
 * Talks to its parent over IPC: 'ready' {port} → 'gifts' {pledges, url, concurrency} → 'done' {report: when the
 * first delivery was sent (wall clock), seconds until the last response, statuses}.
 */
import http from 'node:http';
import { createStripe } from '../server/giving/stripe-client';
import { startStripeStandIn } from '../test/support/stripe-stand-in';
import { type Gift, giftEvents } from './stripe-gift-events';

type Job = { gifts: Gift[]; url: string; concurrency: number; duplicateShare: number; refundEvery: number };

async function main() {
  const stand = await startStripeStandIn();
  const stripe = createStripe({ secretKey: stand.env.STRIPE_SECRET_KEY!, webhookSecret: stand.webhookSecret, apiHost: '127.0.0.1', apiPort: stand.port, apiProtocol: 'http' })!;
  process.send!({ kind: 'ready', env: stand.env });
  const job = await new Promise<Job>((resolve) => process.once('message', (m) => resolve(m as Job)));

  const { deliveries: signed, unique, expectedCents } = await giftEvents(stand, stripe, job.gifts, job);

  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const statuses: Record<number, number> = {};
  let retries = 0;
  const post = (body: string, signature: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(job.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'stripe-signature': signature, 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  const startedAt = Date.now(); // wall clock, for the parent's "applied" rate
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < signed.length) {
        const item = signed[next++]!;
        let status = await post(item.payload, item.signature);
        // A 503 (the database briefly unavailable) is retried, as Stripe would.
        while (status === 503) {
          retries += 1;
          await new Promise((r) => setTimeout(r, 20));
          status = await post(item.payload, item.signature);
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.send!({ kind: 'done', unique, deliveries: signed.length, startedAt, seconds, statuses, retries, expectedCents });
  agent.destroy();
  // The stand-in keeps answering: Haven's processor makes its API look-ups after the deliveries
  // were answered. The parent kills this process when its queue is empty.
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
