import type { Express } from 'express';
import type Stripe from 'stripe';
import request from 'supertest';
import { campaignTotals, requireCurrentCampaign } from '../../server/campaign/campaign';
import type { Db } from '../../server/db/database';
import { createStripeEventProcessor, type StripeEventProcessor } from '../../server/giving/stripe-event-queue';
import { type WebhookContext, webhookContext } from '../../server/giving/stripe-webhooks';
import { createTestApp, type TestApp } from './app';
import { serverUrl } from './database';
import { startStripeStandIn, type StripeStandIn } from './stripe-stand-in';

/**
 * `stripeEvents` is the app's Stripe event processor, never started: webhooks only store events,
 * and postEvent/deliverAll drain it after each delivery, as the running processor would a
 * moment later. `webhooks` is the context it applies events with.
 */
export type GivingTest = TestApp & { stand: StripeStandIn; stripeEvents: StripeEventProcessor; webhooks: WebhookContext; destroyAll(): Promise<void> };

/**
 * Events the processor applies at once: one on embedded PGlite, whose socket server mixes up
 * statements sent on several connections while one of them is in a transaction.
 */
export const STRIPE_EVENT_CONCURRENCY = serverUrl() ? 4 : 1;

/** Each giving test app's processor, so postEvent(app, …) can drain the queue its webhook filled. */
const processors = new WeakMap<Express, StripeEventProcessor>();

/** The app on a fresh database with card giving pointed at a fresh Stripe stand-in. */
export async function createGivingTest(env: NodeJS.ProcessEnv = {}): Promise<GivingTest> {
  const stand = await startStripeStandIn();
  let webhooks: WebhookContext | undefined;
  let stripeEvents: StripeEventProcessor | undefined;
  const t = await createTestApp({ ...stand.env, PLEDGE_RATE_LIMIT_PER_IP: '1000', PLEDGE_RATE_LIMIT_PER_EMAIL: '100', ...env }, (deps) => {
    webhooks = webhookContext(deps);
    stripeEvents = webhooks && createStripeEventProcessor(webhooks, { concurrency: STRIPE_EVENT_CONCURRENCY });
    return { ...deps, stripeEvents };
  });
  if (!webhooks || !stripeEvents) throw new Error('card giving is off in this giving test: the stand-in environment was overridden');
  processors.set(t.app, stripeEvents);
  return {
    ...t,
    stand,
    stripeEvents,
    webhooks,
    async destroyAll() {
      await t.destroy();
      await stand.close();
    },
  };
}

let donors = 0;

/** A filled-in giving form; override any field. */
export function giveForm(overrides: Record<string, string> = {}): Record<string, string> {
  donors += 1;
  return {
    amount: '50',
    frequency: 'once',
    method: 'card',
    name: `Donor ${donors}`,
    email: `donor${donors}-${process.pid}@example.org`,
    addressLine1: '1 Main Street',
    city: 'Toronto',
    province: 'ON',
    postalCode: 'M5V 1A1',
    ...overrides,
  };
}

/** A visitor's agent holding the CSRF cookie, and a form post that carries the matching token. */
export async function formVisitor(app: Express, pagePath = '/give') {
  const agent = request.agent(app);
  const page = await agent.get(pagePath);
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
  if (!token) throw new Error(`no _csrf field on ${pagePath} (status ${page.status})`);
  return { agent, post: (path: string, fields: Record<string, string>) => agent.post(path).type('form').send({ ...fields, _csrf: token }) };
}

/** Submits the giving form as a visitor would (with the CSRF token), checking the status when given. */
export async function postGive(app: Express, fields: Record<string, string>, status?: number) {
  const res = await (await formVisitor(app)).post('/give', fields);
  if (status !== undefined && res.status !== status) throw new Error(`POST /give answered ${res.status}, expected ${status}: ${res.text.slice(0, 500)}`);
  return res;
}

/** Submits the giving form; for a card gift returns the Checkout session id the donor was sent to. */
export async function startCardGift(app: Express, overrides: Record<string, string> = {}): Promise<{ sessionId: string; location: string }> {
  const res = await postGive(app, giveForm(overrides), 303);
  const location = res.headers.location as string;
  const match = /\/checkout\/(cs_[\w]+)$/.exec(location);
  if (!match) throw new Error(`expected a redirect to Checkout, got ${location}`);
  return { sessionId: match[1]!, location };
}

type SignOptions = { timestamp?: number; secret?: string; signature?: string };

/** Delivers one event to POST /webhooks/stripe, signed for real; the endpoint only stores it. */
export function sendEvent(app: Express, stand: StripeStandIn, event: Stripe.Event, options: SignOptions = {}) {
  const payload = JSON.stringify(event);
  return request(app)
    .post('/webhooks/stripe')
    .set('content-type', 'application/json')
    .set('stripe-signature', options.signature ?? stand.sign(payload, options))
    .send(payload);
}

/**
 * Delivers one event, checks the status, then applies whatever is due (the app's processor's
 * drain), so the effect can be asserted: `await postEvent(app, stand, event).expect(200)`.
 */
export function postEvent(app: Express, stand: StripeStandIn, event: Stripe.Event, options: SignOptions = {}) {
  return {
    async expect(status: number) {
      const res = await sendEvent(app, stand, event, options).expect(status);
      await processors.get(app)?.drain();
      return res;
    },
  };
}

export async function deliverAll(app: Express, stand: StripeStandIn, events: Stripe.Event[]): Promise<void> {
  for (const e of events) await postEvent(app, stand, e).expect(200);
}

export async function totals(db: Db) {
  return campaignTotals(db, await requireCurrentCampaign(db));
}

/** Every ledger entry ever posted sums to zero, and every transaction does. */
export async function ledgerImbalance(db: Db): Promise<{ total: number; unbalanced: number }> {
  const total = await db.selectFrom('ledger_entries').select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount_cents'), eb.lit(0)).as('s')).executeTakeFirstOrThrow();
  const unbalanced = await db
    .selectFrom('ledger_entries')
    .select('transaction_id')
    .groupBy('transaction_id')
    .having((eb) => eb.fn.sum('amount_cents'), '<>', 0)
    .execute();
  return { total: Number(total.s), unbalanced: unbalanced.length };
}

export async function balance(db: Db, account: string): Promise<number> {
  const row = await db
    .selectFrom('ledger_entries')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount_cents'), eb.lit(0)).as('s'))
    .where('account', '=', account)
    .executeTakeFirstOrThrow();
  return Number(row.s);
}

export async function pledgeOfSession(db: Db, sessionId: string) {
  return db.selectFrom('pledges').selectAll().where('stripe_checkout_session_id', '=', sessionId).executeTakeFirstOrThrow();
}

/** A one-time card gift of `dollars`, paid on the stand-in and its events applied; with its payment and charge. */
export async function paidCardGift(t: GivingTest, dollars: number) {
  t.stand.takeEvents();
  const { sessionId } = await startCardGift(t.app, { amount: 'other', customAmount: String(dollars) });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const payment = await t.db
    .selectFrom('payments')
    .innerJoin('pledges', 'pledges.id', 'payments.pledge_id')
    .select(['payments.id', 'payments.stripe_charge_id', 'payments.pledge_id'])
    .where('pledges.stripe_checkout_session_id', '=', sessionId)
    .executeTakeFirstOrThrow();
  return { sessionId, pledgeId: payment.pledge_id, paymentId: payment.id, chargeId: payment.stripe_charge_id! };
}

/** A payment's receipts, oldest first: status and amount. */
export async function receiptsOfPayment(db: Db, paymentId: number) {
  return db
    .selectFrom('receipts')
    .innerJoin('receipt_payments', 'receipt_payments.receipt_id', 'receipts.id')
    .select(['receipts.status', 'receipts.amount_cents'])
    .where('receipt_payments.payment_id', '=', paymentId)
    .orderBy('receipts.id')
    .execute();
}
