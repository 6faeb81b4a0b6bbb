import type autocannon from 'autocannon';
import pg from 'pg';
import { createKysely } from '../server/db/database';
import { type HavenProcess, type ServerDatabase, waitForStripeEvents } from '../test/support/haven-process';
import { DONOR_POOL } from './seed-payments';
import type { Gift, SignedDelivery } from './stripe-gift-events';

/**
 * What npm run bench measures. Page scenarios run with 1,000 and with 1,000,000 payments (and
 * again with the public cache off); actions run once. New flows add an entry here.
 */
export type StripeSide = {
  env: Record<string, string>;
  prepare(gifts: Gift[]): Promise<{ deliveries: SignedDelivery[]; unique: number; expectedCents: number }>;
};

export type BenchContext = { database: ServerDatabase; haven: HavenProcess; stripeSide: StripeSide; groupSlug: string };

export type Scenario = {
  name: string;
  /** Pages run with 1,000 and with 1,000,000 payments; actions once. */
  kind: 'page' | 'action';
  /** The status a successful answer has (default: any 2xx). */
  okStatus?: number;
  /** The warm-up run (default: the measured options for 3 seconds). */
  warmup?(ctx: BenchContext): Promise<autocannon.Options>;
  options(ctx: BenchContext): Promise<autocannon.Options>;
  /** After the measured run: what else to report (and whether the data came out right). */
  finish?(ctx: BenchContext, measuredSeconds: number): Promise<{ notes: string[]; extra: Record<string, number>; ok: boolean }>;
};

export async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Card pledges waiting for Stripe, as the giving form leaves them (one insert each, as createPledge does for card). */
export async function cardPledges(url: string, count: number): Promise<Gift[]> {
  const rows = await query<{ id: string; amount_cents: string }>(
    url,
    `insert into pledges (campaign_id, donor_id, amount_cents, fee_cover_cents, frequency, method, status, updated_at)
     select (select id from campaigns where status = 'active' order by id limit 1),
            (select id from donors where email = 'donor' || (1 + g % $2) || '@bench.haven.test'),
            500 + (g * 7919) % 50000, 0, 'once', 'card', 'pending', now()
     from generate_series(1, $1) g
     returning id, amount_cents`,
    [count, DONOR_POOL],
  );
  return rows.map((r) => ({ pledgeId: Number(r.id), amountCents: Number(r.amount_cents) }));
}

/** Cycles through signed deliveries, one per request, for autocannon. */
function deliver(url: string, deliveries: SignedDelivery[]): autocannon.Options {
  let next = 0;
  return {
    url: `${url}/webhooks/stripe`,
    amount: deliveries.length,
    requests: [
      {
        method: 'POST',
        setupRequest: (req: autocannon.Request) => {
          const d = deliveries[next++ % deliveries.length]!;
          return { ...req, method: 'POST', body: d.payload, headers: { ...req.headers, 'content-type': 'application/json', 'stripe-signature': d.signature } };
        },
      },
    ],
  } as autocannon.Options;
}

// The webhook scenario's batch: measured deliveries are prepared before the run, checked after.
let webhookBatch: { gifts: Gift[]; unique: number; expectedCents: number; fundBefore: number } | undefined;

export async function fundTotal(url: string): Promise<number> {
  const rows = await query<{ s: string | null }>(url, `select sum(amount_cents) as s from ledger_entries where account like 'fund:%'`);
  return -Number(rows[0]!.s ?? 0);
}

// Donors of the giving scenario, numbered across its warm-up and measured runs (each e-mail and address gives once).
let donorsSoFar = 0;

export const WEBHOOK_GIFTS = Number(process.env.BENCH_WEBHOOK_GIFTS ?? 12_000);

export const scenarios: Scenario[] = [
  {
    name: 'GET /',
    kind: 'page',
    options: async (ctx) => ({ url: `${ctx.haven.url}/` }),
  },
  {
    name: 'GET /groups/:slug',
    kind: 'page',
    options: async (ctx) => ({ url: `${ctx.haven.url}/groups/${ctx.groupSlug}` }),
  },
  {
    name: 'GET /api/campaign',
    kind: 'page',
    options: async (ctx) => ({ url: `${ctx.haven.url}/api/campaign` }),
  },
  {
    name: 'POST /give (pay-later pledge)',
    kind: 'action',
    okStatus: 303, // the pledge is made and the donor is sent to its instructions
    async options(ctx) {
      // A visitor's CSRF cookie and token, read from the form, as a browser would have them.
      const page = await fetch(`${ctx.haven.url}/give`);
      const html = await page.text();
      const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
      const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const body = (i: number) =>
        new URLSearchParams({
          _csrf: token, amount: 'other', customAmount: '50', frequency: 'once', method: 'cheque', name: `Bench donor ${i}`, email: `bench-give-${i}@example.org`,
          addressLine1: '1 Bench St', city: 'Toronto', province: 'ON', postalCode: 'M5H 2N2',
        }).toString();
      return {
        url: `${ctx.haven.url}/give`,
        requests: [
          {
            method: 'POST',
            // Each donor from their own address (trust proxy is loopback), so the per-address limit applies per donor, as in real traffic.
            setupRequest: (req: autocannon.Request) => {
              const n = ++donorsSoFar;
              return { ...req, method: 'POST', body: body(n), headers: { ...req.headers, 'content-type': 'application/x-www-form-urlencoded', cookie, 'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` } };
            },
          },
        ],
      } as autocannon.Options;
    },
  },
  {
    name: 'POST /webhooks/stripe',
    kind: 'action',
    async warmup(ctx) {
      const prepared = await ctx.stripeSide.prepare(await cardPledges(ctx.database.url, Math.ceil(WEBHOOK_GIFTS / 8)));
      return deliver(ctx.haven.url, prepared.deliveries);
    },
    async options(ctx) {
      await waitForQueue(ctx.database.url, 300_000); // the warm-up's events applied first
      const gifts = await cardPledges(ctx.database.url, WEBHOOK_GIFTS);
      const prepared = await ctx.stripeSide.prepare(gifts);
      webhookBatch = { gifts, unique: prepared.unique, expectedCents: prepared.expectedCents, fundBefore: await fundTotal(ctx.database.url) };
      return deliver(ctx.haven.url, prepared.deliveries);
    },
    async finish(ctx, measuredSeconds) {
      const batch = webhookBatch!;
      const start = Date.now();
      await waitForQueue(ctx.database.url, 600_000);
      const appliedSeconds = measuredSeconds + (Date.now() - start) / 1000;
      const [payments] = await query<{ n: string; distinct_pledges: string }>(
        ctx.database.url,
        'select count(*) as n, count(distinct pledge_id) as distinct_pledges from payments where pledge_id = any($1::bigint[])',
        [batch.gifts.map((g) => g.pledgeId)],
      );
      const [ledger] = await query<{ s: string | null }>(ctx.database.url, 'select sum(amount_cents) as s from ledger_entries');
      const raised = (await fundTotal(ctx.database.url)) - batch.fundBefore;
      const ok = Number(payments!.n) === batch.gifts.length && Number(payments!.distinct_pledges) === batch.gifts.length && raised === batch.expectedCents && Number(ledger!.s ?? 0) === 0;
      return {
        ok,
        extra: { uniqueEvents: batch.unique, appliedPerSecond: Math.round(batch.unique / appliedSeconds) },
        notes: [
          `${batch.unique} unique events applied in ${appliedSeconds.toFixed(1)} s after the first delivery: ${Math.round(batch.unique / appliedSeconds)} events/s applied`,
          `payments ${payments!.n} for ${batch.gifts.length} gifts, raised ${raised} of ${batch.expectedCents} expected, ledger sum ${ledger!.s ?? 0}: ${ok ? 'zero double counts' : 'MISMATCH'}`,
        ],
      };
    },
  },
];

/** Until every stored Stripe event has been applied (the processor works after the 200). */
async function waitForQueue(url: string, timeoutMs: number): Promise<void> {
  const db = createKysely(url, 1);
  try {
    await waitForStripeEvents(db, { timeoutMs });
  } finally {
    await db.destroy();
  }
}
