import { sql } from 'kysely';
import pino from 'pino';
import type Stripe from 'stripe';
import { createApp } from '../../server/app';
import { createKysely } from '../../server/db/database';
import {
  createStripeEventInbox,
  createStripeEventProcessor,
  leaseDueStripeEvents,
  processDueStripeEvents,
  processLeasedEvent,
} from '../../server/giving/stripe-event-queue';
import type { WebhookContext } from '../../server/giving/stripe-webhooks';
import { serverUrl } from '../support/database';
import { createGivingTest, deliverAll, type GivingTest, ledgerImbalance, receiptsOfPayment, sendEvent, startCardGift, STRIPE_EVENT_CONCURRENCY, totals } from '../support/giving';
import { signInAs } from '../support/session';
import { dispute } from '../support/stripe-fixtures/disputes';
import { stripeEvent } from '../support/stripe-fixtures/events';

/**
 * The Stripe event queue: POST /webhooks/stripe only stores a verified event; the processor
 * applies it later, retries what fails with backoff, never applies an event twice (two
 * processes at once, or a lease that ran out), and staff can see what is stuck.
 */
let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest();
});
afterAll(() => t.destroyAll());

async function eventRow(id: string) {
  return t.db
    .selectFrom('stripe_events')
    .select(['processed_at', 'attempts', 'last_error', sql<number>`extract(epoch from next_attempt_at - now())::float8`.as('due_in_seconds')])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

/** As if the backoff or the lease had run out: the event is due now. */
async function makeDue(ids: string[]) {
  await t.db.updateTable('stripe_events').set({ next_attempt_at: sql<Date>`now()` }).where('id', 'in', ids).execute();
}

/** One pass of the processor, as the app would run it (one event at a time on embedded PGlite). */
function processDue(ctx: WebhookContext = t.webhooks) {
  return processDueStripeEvents(ctx, { concurrency: STRIPE_EVENT_CONCURRENCY });
}

/**
 * Two processes sharing the queue, and a processor running in the background while the test
 * reads the database, need a PostgreSQL server: embedded PGlite belongs to one process, and its
 * socket server mixes up statements sent on several connections while one is in a transaction.
 */
const testOnServer = serverUrl() ? test : test.skip;

/** The app's context, with a logger whose lines the test can read (levels: 40 warn, 50 error). */
function loggingContext(): { ctx: WebhookContext; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { ctx: { ...t.webhooks, logger }, lines };
}

async function pledgeOf(sessionId: string) {
  return t.db.selectFrom('pledges').selectAll().where('stripe_checkout_session_id', '=', sessionId).executeTakeFirstOrThrow();
}

/** A paid one-time gift whose events are built but not delivered; with its charge id and donor e-mail. */
async function paidGift(dollars: number, options: { address?: 'none' } = {}) {
  const { sessionId } = await startCardGift(t.app, { amount: 'other', customAmount: String(dollars) });
  if (options.address === 'none') {
    // The donor's record loses its address (so the gift waits in the receipts queue instead of being receipted).
    const { donor_id } = await pledgeOf(sessionId);
    await t.db.updateTable('donors').set({ address_line1: null, city: null }).where('id', '=', donor_id).execute();
  }
  const events = t.stand.completeCheckout(sessionId);
  const session = t.stand.objects.get(sessionId)!;
  const intent = t.stand.objects.get(session.payment_intent as string)!;
  return { sessionId, events, intentId: intent.id as string, chargeId: intent.latest_charge as string, email: session.customer_email as string };
}

test('the endpoint stores a verified event and answers before applying it; redeliveries answer duplicate', async () => {
  const gift = await paidGift(70);
  const [completed] = gift.events;
  const before = await totals(t.db);
  const stripeCalls = t.stand.requests.length;

  const first = await sendEvent(t.app, t.stand, completed!).expect(200);
  expect(first.body).toEqual({ received: true, duplicate: false });
  expect(await eventRow(completed!.id)).toMatchObject({ processed_at: null, attempts: 0, last_error: null });
  expect(await totals(t.db)).toEqual(before);
  expect(t.stand.requests.length).toBe(stripeCalls); // no Stripe look-up on the request path
  expect((await sendEvent(t.app, t.stand, completed!).expect(200)).body).toEqual({ received: true, duplicate: true });

  expect(await t.stripeEvents.drain()).toBe(1);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(7_000);
  const row = await eventRow(completed!.id);
  expect(row).toMatchObject({ attempts: 1, last_error: null });
  expect(row.processed_at).toBeInstanceOf(Date);

  // Delivered again after it was applied: acknowledged as a duplicate, nothing queued, nothing counted twice.
  expect((await sendEvent(t.app, t.stand, completed!).expect(200)).body).toEqual({ received: true, duplicate: true });
  expect(await t.stripeEvents.drain()).toBe(0);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(7_000);
});

test('deliveries arriving together share one insert; a redelivery among them is a duplicate, and a bad event fails only its own delivery', async () => {
  let inserts = 0;
  const counted = t.db.withPlugin({
    transformQuery: (args) => {
      if (args.node.kind === 'InsertQueryNode') inserts += 1;
      return args.node;
    },
    transformResult: async (args) => args.result,
  });
  const inbox = createStripeEventInbox(counted);
  const store = (e: Stripe.Event) => inbox.store(e, JSON.stringify(e));
  const [first, second, third] = [await paidGift(11), await paidGift(12), await paidGift(13)].map((g) => g.events[0]!);

  expect(await Promise.all([store(first!), store(second!), store(first!)])).toEqual([true, true, false]);
  expect(inserts).toBe(1);

  // PostgreSQL's jsonb refuses \u0000, which JSON (and so the signature check) allows.
  const bad = { ...third!, id: `evt_nul_${Date.now()}`, data: { object: { id: 'cus_nul', object: 'customer', name: 'A\u0000B' } } } as unknown as Stripe.Event;
  const outcomes = await Promise.allSettled([store(bad), store(third!), store(first!)]);
  expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'failed'))).toEqual(['failed', true, false]);
  const stored = await t.db.selectFrom('stripe_events').select('id').where('id', 'in', [first!.id, second!.id, third!.id, bad.id]).execute();
  expect(stored.map((r) => r.id).sort()).toEqual([first!.id, second!.id, third!.id].sort());
  await t.stripeEvents.drain();
});

test('an invoice Stripe has no paid payment for yet is rescheduled with the reason, and applied on a later pass', async () => {
  const { sessionId } = await startCardGift(t.app, { frequency: 'monthly', amount: '30' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOf(sessionId);
  const before = await totals(t.db);
  const renewal = t.stand.renewSubscription(pledge.stripe_subscription_id!);
  const invoiceId = (renewal.data.object as Stripe.Invoice).id!;
  // Stripe's API has not caught up with its event: the invoice has no paid payment yet.
  const invoicePayment = [...t.stand.objects.values()].find((o) => o.object === 'invoice_payment' && o.invoice === invoiceId)!;
  t.stand.objects.delete(invoicePayment.id as string);

  await sendEvent(t.app, t.stand, renewal).expect(200);
  const { ctx, lines } = loggingContext();
  await processDue(ctx);
  const deferred = await eventRow(renewal.id);
  expect(deferred).toMatchObject({ processed_at: null, attempts: 1, last_error: `RetryLater: invoice ${invoiceId} has no paid payment yet` });
  expect(deferred.due_in_seconds).toBeGreaterThan(1);
  expect(deferred.due_in_seconds).toBeLessThanOrEqual(2);
  expect(lines.filter((l) => l.eventId === renewal.id)).toEqual([expect.objectContaining({ level: 40, eventType: 'invoice.paid', attempts: 1, retryInSeconds: 2 })]);
  expect(await totals(t.db)).toEqual(before);

  // Not due yet: a pass now leaves it alone.
  await processDue(ctx);
  expect((await eventRow(renewal.id)).attempts).toBe(1);

  // Stripe has caught up by the time the retry is due.
  t.stand.objects.set(invoicePayment.id as string, invoicePayment);
  await makeDue([renewal.id]);
  await processDue(ctx);
  const applied = await eventRow(renewal.id);
  expect(applied).toMatchObject({ attempts: 2, last_error: null });
  expect(applied.processed_at).toBeInstanceOf(Date);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(3_000);
  const installments = await t.db.selectFrom('pledge_installments').select(['seq', 'status']).where('pledge_id', '=', pledge.id).orderBy('seq').execute();
  expect(installments).toEqual([{ seq: 1, status: 'paid' }, { seq: 2, status: 'paid' }]);
});

test('events leased together are applied in one transaction; one whose look-up fails is rescheduled alone and the others are applied in the same pass, once', async () => {
  const gifts = [await paidGift(21), await paidGift(22), await paidGift(23)];
  const { sessionId } = await startCardGift(t.app, { frequency: 'monthly', amount: '30' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOf(sessionId);
  const renewal = t.stand.renewSubscription(pledge.stripe_subscription_id!);
  const invoiceId = (renewal.data.object as Stripe.Invoice).id!;
  // This one fails (Stripe has no paid payment for the invoice yet), among good ones.
  const invoicePayment = [...t.stand.objects.values()].find((o) => o.object === 'invoice_payment' && o.invoice === invoiceId)!;
  t.stand.objects.delete(invoicePayment.id as string);
  const good = gifts.flatMap((g) => g.events);
  for (const e of [good[0]!, renewal, ...good.slice(1)]) await sendEvent(t.app, t.stand, e).expect(200);
  const before = await totals(t.db);

  // All four in one worker's share. now() is a transaction's start, so events applied in one
  // transaction share processed_at exactly, and events applied alone each have their own.
  const transactionsOf = async (ids: string[]) => {
    const rows = await t.db.selectFrom('stripe_events').select('processed_at').where('id', 'in', ids).execute();
    return new Set(rows.map((r) => r.processed_at?.getTime())).size;
  };
  const lookups = () => t.stand.requests.filter((r) => r.method === 'GET').length;
  const lookupsBefore = lookups();
  expect(await processDueStripeEvents(t.webhooks, { concurrency: 1, applyBatch: 16 })).toBe(good.length + 1);
  // The renewal's look-up failed: it alone was left out, and the good ones were applied together, each looked up once.
  expect(await transactionsOf(good.map((e) => e.id))).toBe(1);
  expect(lookups() - lookupsBefore).toBe(good.length + 1);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(2_100 + 2_200 + 2_300);
  for (const e of good) expect(await eventRow(e.id)).toMatchObject({ attempts: 1, last_error: null });
  expect(await eventRow(renewal.id)).toMatchObject({ processed_at: null, attempts: 1, last_error: `RetryLater: invoice ${invoiceId} has no paid payment yet` });

  // Once Stripe has caught up, more gifts and the renewal are applied together, in one transaction.
  t.stand.objects.set(invoicePayment.id as string, invoicePayment);
  await makeDue([renewal.id]);
  const more = [await paidGift(24), await paidGift(25)].flatMap((g) => g.events);
  for (const e of more) await sendEvent(t.app, t.stand, e).expect(200);
  expect(await processDueStripeEvents(t.webhooks, { concurrency: 1, applyBatch: 16 })).toBe(more.length + 1);
  expect(await transactionsOf([renewal.id, ...more.map((e) => e.id)])).toBe(1);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(2_100 + 2_200 + 2_300 + 2_400 + 2_500 + 3_000);
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test("Stripe's rate limit (429) on one gift's look-up defers that gift only, as a warning; the share's other gifts are applied together", async () => {
  const gifts = [await paidGift(41), await paidGift(42), await paidGift(43), await paidGift(44), await paidGift(45)];
  for (const e of gifts.flatMap((g) => g.events)) await sendEvent(t.app, t.stand, e).expect(200);
  // A 429 for the fourth gift's payment intent. The Node SDK does not retry a 429 without
  // stripe-should-retry: true (RequestSender._shouldRetry), so the queue's backoff is the retry.
  t.stand.failRequests({ method: 'GET', path: new RegExp(`^/v1/payment_intents/${gifts[3]!.intentId}$`), times: 1, status: 429 });
  const { ctx, lines } = loggingContext();
  const before = await totals(t.db);
  expect(await processDueStripeEvents(ctx, { concurrency: 1, applyBatch: 16 })).toBe(gifts.flatMap((g) => g.events).length);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(4_100 + 4_200 + 4_300 + 4_500);
  const limited = gifts[3]!.events.find((e) => e.type === 'checkout.session.completed')!;
  expect(await eventRow(limited.id)).toMatchObject({ processed_at: null, attempts: 1 });
  expect((await eventRow(limited.id)).last_error).toMatch(/^StripeRateLimitError/);
  const deferred = lines.filter((l) => l.eventId === limited.id);
  expect(deferred.map((l) => [l.level, l.msg])).toEqual([[40, "Stripe event deferred: Stripe is limiting Haven's requests (429)"]]);
  expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
  // Once Stripe answers again, the gift is applied on the next pass, once.
  await makeDue([limited.id]);
  await processDueStripeEvents(ctx, { concurrency: 1 });
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(4_100 + 4_200 + 4_300 + 4_400 + 4_500);
  expect(await eventRow(limited.id)).toMatchObject({ attempts: 2, last_error: null });
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('a share of paid one-time gifts is applied in a few statements for the lot, each gift exactly as when it is applied alone', async () => {
  // A donor with no address waits in the receipts queue; one with an address gets a receipt per gift.
  const withAddress = await paidGift(31);
  const withoutAddress = await paidGift(32, { address: 'none' });
  for (const e of [...withAddress.events, ...withoutAddress.events]) await sendEvent(t.app, t.stand, e).expect(200);
  expect(await processDueStripeEvents(t.webhooks, { concurrency: 1, applyBatch: 1 })).toBe(withAddress.events.length + withoutAddress.events.length);

  const statements: string[] = [];
  const counting = t.db.withPlugin({ transformQuery: (args) => (statements.push(args.node.kind), args.node), transformResult: async (args) => args.result });
  const drainCounting = () => processDueStripeEvents({ ...t.webhooks, db: counting }, { concurrency: 1, applyBatch: 16, batchSize: 16 });
  const unreceipted = [await paidGift(33, { address: 'none' }), await paidGift(34, { address: 'none' }), await paidGift(35, { address: 'none' })];
  for (const e of unreceipted.flatMap((g) => g.events)) await sendEvent(t.app, t.stand, e).expect(200);
  expect(await drainCounting()).toBe(unreceipted.flatMap((g) => g.events).length);
  // Lease, claim, then ten statements for the lot, however many gifts (one at a time, each took ten of its own).
  expect(statements.length).toBeLessThanOrEqual(13);
  const receipted = [await paidGift(36), await paidGift(37), await paidGift(38)];
  for (const e of receipted.flatMap((g) => g.events)) await sendEvent(t.app, t.stand, e).expect(200);
  expect(await drainCounting()).toBe(receipted.flatMap((g) => g.events).length);

  // What each gift left behind, in the gift's own terms: the same for those applied alone and those applied together.
  const footprint = async (sessionId: string, dollars: number) => {
    const pledge = await pledgeOf(sessionId);
    const payments = await t.db.selectFrom('payments').select(['id', 'amount_cents', 'fee_cents', 'status']).where('pledge_id', '=', pledge.id).execute();
    const ids = payments.map((p) => p.id);
    const entries = await t.db
      .selectFrom('ledger_entries as e')
      .innerJoin('ledger_transactions as lt', 'lt.id', 'e.transaction_id')
      .select(['lt.kind', 'e.account', 'e.amount_cents'])
      .where('lt.payment_id', 'in', ids)
      .orderBy('e.id')
      .execute();
    const emails = await t.db
      .selectFrom('outbox')
      .select(sql<string>`payload::jsonb ->> 'template'`.as('template'))
      .where(sql<boolean>`payload::jsonb ->> 'to' = ${(await t.db.selectFrom('pledge_donors').select('email').where('pledge_id', '=', pledge.id).executeTakeFirstOrThrow()).email}`)
      .orderBy('id')
      .execute();
    const receipts = await t.db.selectFrom('receipt_payments').select(['amount_cents']).where('payment_id', 'in', ids).where('in_force', '=', true).execute();
    const fee = payments[0]!.fee_cents;
    const cents = dollars * 100;
    return {
      pledge: { status: pledge.status, customer: pledge.stripe_customer_id !== null },
      payments: payments.map((p) => ({ amount: p.amount_cents / cents, status: p.status })),
      entries: entries.map((e) => ({ kind: e.kind, account: e.account, share: e.amount_cents === fee ? 'fee' : e.amount_cents === cents - fee ? 'net' : e.amount_cents / cents })),
      emails: emails.map((e) => e.template),
      receipts: receipts.map((r) => r.amount_cents / cents),
    };
  };
  const receiptedAlone = await footprint(withAddress.sessionId, 31);
  expect(receiptedAlone).toMatchObject({ pledge: { status: 'fulfilled', customer: true }, payments: [{ amount: 1, status: 'succeeded' }], emails: ['giving/gift-confirmed', 'receipts/issued'], receipts: [1] });
  const unreceiptedAlone = await footprint(withoutAddress.sessionId, 32);
  expect(unreceiptedAlone).toMatchObject({ emails: ['giving/gift-confirmed'], receipts: [] });
  for (const [i, g] of unreceipted.entries()) expect(await footprint(g.sessionId, 33 + i)).toEqual(unreceiptedAlone);
  for (const [i, g] of receipted.entries()) expect(await footprint(g.sessionId, 36 + i)).toEqual(receiptedAlone);
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('a share of refund events is applied in a few statements for the lot, each charge exactly as when its events are applied one by one', async () => {
  // Per gift, in Stripe's own terms (the stand-in's refund and refund-failure events, Stripe's
  // refund object: https://docs.stripe.com/api/refunds/object): a partial refund, a full refund,
  // a refund that then fails, and a refund reported before its gift. Each case runs twice, its
  // events applied one by one (applyBatch 1) and in one share with the other cases' (applyBatch 64).
  type Case = { dollars: number; address?: 'none'; events: (g: Awaited<ReturnType<typeof paidGift>>) => { first: Stripe.Event[]; then: Stripe.Event[] } };
  const lastRefund = (chargeId: string) => [...t.stand.objects.values()].filter((o) => o.object === 'refund' && o.charge === chargeId).pop()!.id as string;
  const cases: Case[] = [
    { dollars: 60, events: (g) => ({ first: g.events, then: [t.stand.refundCharge(g.chargeId, 1_500)] }) },
    { dollars: 40, events: (g) => ({ first: g.events, then: [t.stand.refundCharge(g.chargeId)] }) },
    { dollars: 70, events: (g) => ({ first: g.events, then: [t.stand.refundCharge(g.chargeId, 2_000), ...t.stand.failRefund(lastRefund(g.chargeId))] }) },
    { dollars: 55, address: 'none', events: (g) => ({ first: [t.stand.refundCharge(g.chargeId, 500)], then: g.events }) },
  ];
  const run = async (applyBatch: number) => {
    const gifts: { gift: Awaited<ReturnType<typeof paidGift>>; c: Case; then: Stripe.Event[] }[] = [];
    for (const c of cases) {
      const gift = await paidGift(c.dollars, { address: c.address });
      const { first, then } = c.events(gift);
      gifts.push({ gift, c, then });
      for (const e of first) await sendEvent(t.app, t.stand, e).expect(200);
    }
    t.stand.takeEvents();
    await processDueStripeEvents(t.webhooks, { concurrency: 1, applyBatch: 1 });
    // The second events of every case are due together.
    for (const { then } of gifts) for (const e of then) await sendEvent(t.app, t.stand, e).expect(200);
    expect(await processDueStripeEvents(t.webhooks, { concurrency: 1, applyBatch, batchSize: 64 })).toBe(gifts.flatMap((g) => g.then).length);
    return gifts;
  };
  const footprint = async (chargeId: string, cents: number) => {
    const payment = await t.db.selectFrom('payments').select(['id', 'status', 'refunded_cents']).where('stripe_charge_id', '=', chargeId).executeTakeFirstOrThrow();
    const entries = await t.db
      .selectFrom('ledger_entries as e')
      .innerJoin('ledger_transactions as lt', 'lt.id', 'e.transaction_id')
      .select(['lt.kind', 'e.account', 'e.amount_cents'])
      .where('lt.payment_id', '=', payment.id)
      .orderBy('e.id')
      .execute();
    const refunds = await t.db.selectFrom('stripe_refunds').select(['amount_cents', 'status', 'counted']).where('payment_id', '=', payment.id).orderBy('amount_cents').orderBy('status').execute();
    return {
      payment: { status: payment.status, refunded: payment.refunded_cents / cents },
      entries: entries.map((e) => `${e.kind} ${e.account.replace(/\d+/g, 'N')} ${e.amount_cents / cents}`).sort(),
      refunds: refunds.map((r) => ({ share: r.amount_cents / cents, status: r.status, counted: r.counted })),
      receipts: (await receiptsOfPayment(t.db, payment.id)).map((r) => ({ status: r.status, share: r.amount_cents / cents })),
    };
  };
  const alone = await run(1);
  const together = await run(64);
  for (const [i, c] of cases.entries()) {
    const cents = c.dollars * 100;
    expect(await footprint(together[i]!.gift.chargeId, cents)).toEqual(await footprint(alone[i]!.gift.chargeId, cents));
  }
  // What the cases should leave, worked out by hand: 60 less 15; 40 refunded; 70 back to whole; 55 less 5, no receipt (no address).
  expect((await footprint(together[0]!.gift.chargeId, 6_000)).payment).toEqual({ status: 'partially_refunded', refunded: 0.25 });
  expect((await footprint(together[0]!.gift.chargeId, 6_000)).receipts).toEqual([{ status: 'cancelled', share: 1 }, { status: 'issued', share: 0.75 }]);
  expect((await footprint(together[1]!.gift.chargeId, 4_000)).payment).toEqual({ status: 'refunded', refunded: 1 });
  expect((await footprint(together[2]!.gift.chargeId, 7_000)).payment).toEqual({ status: 'succeeded', refunded: 0 });
  expect((await footprint(together[3]!.gift.chargeId, 5_500)).payment).toEqual({ status: 'partially_refunded', refunded: 500 / 5_500 });

  // Statements: a look-up per event before the transaction (is the charge's payment known?),
  // then lease, claim and nine for the lot, however many refunds (one at a time, each took about fifteen).
  const statements: string[] = [];
  const counting = t.db.withPlugin({ transformQuery: (args) => (statements.push(args.node.kind), args.node), transformResult: async (args) => args.result });
  const unreceipted = [await paidGift(21, { address: 'none' }), await paidGift(22, { address: 'none' }), await paidGift(23, { address: 'none' }), await paidGift(24, { address: 'none' })];
  for (const e of unreceipted.flatMap((g) => g.events)) await sendEvent(t.app, t.stand, e).expect(200);
  await processDueStripeEvents(t.webhooks, { concurrency: 1 });
  const refunds = unreceipted.map((g) => t.stand.refundCharge(g.chargeId, 100));
  for (const e of refunds) await sendEvent(t.app, t.stand, e).expect(200);
  expect(await processDueStripeEvents({ ...t.webhooks, db: counting }, { concurrency: 1, applyBatch: 16, batchSize: 16 })).toBe(refunds.length);
  expect(statements.length).toBeLessThanOrEqual(refunds.length + 11);
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

testOnServer('two processors draining at once (two app processes) apply each event exactly once', async () => {
  const before = await totals(t.db);
  const events: Stripe.Event[] = [];
  const sessions: string[] = [];
  let expected = 0;
  for (let i = 0; i < 8; i++) {
    const gift = await paidGift(20 + i);
    sessions.push(gift.sessionId);
    expected += (20 + i) * 100;
    if (i % 2 === 0) {
      // A partial refund delivered before its gift: both record the payment, racing on one pledge.
      events.push(t.stand.refundCharge(gift.chargeId, 500), ...gift.events);
      expected -= 500;
    } else events.push(...gift.events);
  }
  t.stand.takeEvents();
  for (const e of events) await sendEvent(t.app, t.stand, e).expect(200);

  const otherPool = createKysely(t.url, 4);
  try {
    // Small batches, so both processes get some of the events.
    const options = { concurrency: 4, batchSize: 2 };
    const [mine, theirs] = await Promise.all([processDueStripeEvents(t.webhooks, options), processDueStripeEvents({ ...t.webhooks, db: otherPool }, options)]);
    expect(mine).toBeGreaterThan(0);
    expect(theirs).toBeGreaterThan(0);
    expect(mine + theirs).toBe(events.length);
  } finally {
    await otherPool.destroy();
  }

  const rows = await t.db.selectFrom('stripe_events').select(['attempts', 'processed_at']).where('id', 'in', events.map((e) => e.id)).execute();
  expect(rows).toHaveLength(events.length);
  expect(rows.every((r) => r.processed_at !== null && r.attempts === 1)).toBe(true);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(expected);
  const payments = await t.db
    .selectFrom('payments')
    .innerJoin('pledges', 'pledges.id', 'payments.pledge_id')
    .select('payments.pledge_id')
    .where('pledges.stripe_checkout_session_id', 'in', sessions)
    .execute();
  expect(payments).toHaveLength(sessions.length);
  expect(new Set(payments.map((p) => p.pledge_id)).size).toBe(sessions.length);
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('an event leased by a process that died is applied once, after the lease runs out', async () => {
  const gift = await paidGift(45);
  const ids = gift.events.map((e) => e.id);
  for (const e of gift.events) await sendEvent(t.app, t.stand, e).expect(200);
  const before = await totals(t.db);

  // Another process leases the events and dies before applying them.
  const leased = await leaseDueStripeEvents(t.db, 10);
  expect(leased.map((e) => e.id)).toEqual(ids);
  await t.stripeEvents.drain();
  expect(await totals(t.db)).toEqual(before); // leased: not due, so not taken
  expect(await eventRow(ids[0]!)).toMatchObject({ processed_at: null, attempts: 1 });

  // The lease runs out: the next pass applies them.
  await makeDue(ids);
  await t.stripeEvents.drain();
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(4_500);
  expect(await eventRow(ids[0]!)).toMatchObject({ attempts: 2, last_error: null });

  // Had it only been slow, carrying on with its stale lease changes nothing: the event is already applied.
  expect(await processLeasedEvent(t.webhooks, leased[0]!)).toBe('already_processed');
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(4_500);
  const pledge = await pledgeOf(gift.sessionId);
  expect(await t.db.selectFrom('payments').select('id').where('pledge_id', '=', pledge.id).execute()).toHaveLength(1);
});

testOnServer('the running processor applies an event soon after the endpoint nudges it, and stop() lets it finish', async () => {
  const processor = createStripeEventProcessor(t.webhooks, { intervalMs: 60_000 }); // only the nudge can wake it in time
  const app = createApp({ config: t.config, db: t.db, logger: t.webhooks.logger, stripeEvents: processor });
  processor.start();
  try {
    const gift = await paidGift(15);
    const before = await totals(t.db);
    await sendEvent(app, t.stand, gift.events[0]!).expect(200);
    const deadline = Date.now() + 10_000;
    while ((await eventRow(gift.events[0]!.id)).processed_at === null) {
      if (Date.now() > deadline) throw new Error('the nudged processor did not apply the event within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(1_500);
  } finally {
    await processor.stop();
  }
});

test('an event whose effect throws is retried with growing delays and logged as an error; the events after it are applied', async () => {
  // A signed event the effect code cannot handle (a dispute without a charge), and a gift whose
  // payment intent Stripe's API cannot find (it answers 404).
  const poison = stripeEvent('charge.dispute.created', { ...dispute({ amount: 1_000, charge: 'ch_poison', status: 'needs_response' }), charge: null as unknown as string });
  const missing = await paidGift(25);
  const missingIntent = t.stand.objects.get(missing.intentId)!;
  t.stand.objects.delete(missing.intentId);
  const fine = await paidGift(35);
  const before = await totals(t.db);
  for (const e of [poison, ...missing.events, ...fine.events]) await sendEvent(t.app, t.stand, e).expect(200);

  const { ctx, lines } = loggingContext();
  await processDue(ctx);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(3_500);
  const poisoned = await eventRow(poison.id);
  expect(poisoned).toMatchObject({ processed_at: null, attempts: 1 });
  expect(poisoned.last_error).toMatch(/^TypeError: Cannot read properties of null/);
  const notFound = await eventRow(missing.events[0]!.id);
  expect(notFound.last_error).toBe(`StripeInvalidRequestError resource_missing: No such payment_intent: '${missing.intentId}'`);
  expect(lines.filter((l) => l.eventId === poison.id || l.eventId === missing.events[0]!.id).map((l) => l.level)).toEqual([50, 50]);
  // Ids and messages only: not the donor's e-mail from the payload.
  expect(JSON.stringify(lines)).not.toContain(missing.email);

  // Each failure doubles the wait: 2 s, then 4 s, then 8 s.
  expect(poisoned.due_in_seconds).toBeLessThanOrEqual(2);
  await makeDue([poison.id]);
  await processDue(ctx);
  const again = await eventRow(poison.id);
  expect(again.attempts).toBe(2);
  expect(again.due_in_seconds).toBeGreaterThan(3);
  expect(again.due_in_seconds).toBeLessThanOrEqual(4);
  // The gift still applies once Stripe can answer.
  t.stand.objects.set(missing.intentId, missingIntent);
  await makeDue([missing.events[0]!.id]);
  await processDue(ctx);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(6_000);
});

test('staff see how many events wait and which keep failing, with type and error but no payload', async () => {
  const gift = await paidGift(65);
  t.stand.objects.delete(gift.intentId);
  const [completed] = gift.events;
  await sendEvent(t.app, t.stand, completed!).expect(200);
  for (let i = 0; i < 3; i++) {
    await makeDue([completed!.id]);
    await processDue();
  }
  expect(await eventRow(completed!.id)).toMatchObject({ processed_at: null, attempts: 3 });
  const waiting = await t.db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<string>().as('n')).where('processed_at', 'is', null).executeTakeFirstOrThrow();
  const failing = await t.db.selectFrom('stripe_events').select('id').where('processed_at', 'is', null).where('attempts', '>=', 3).execute();
  expect(failing.map((f) => f.id)).toContain(completed!.id);

  const staff = await signInAs(t, 'staff');
  const page = await staff.agent.get('/staff/gifts/stripe-events').expect(200);
  expect(page.text).toContain(`${waiting.n} waiting to be applied; ${failing.length} tried 3 times or more.`);
  const row = page.text.split('<tr>').find((r) => r.includes(completed!.id))!;
  expect(row).toContain('checkout.session.completed');
  expect(row).toContain(`StripeInvalidRequestError resource_missing: No such payment_intent: &#x27;${gift.intentId}&#x27;`);
  expect(page.text).not.toContain(gift.email);
  const french = await staff.agent.get('/staff/gifts/stripe-events?lang=fr').expect(200);
  expect(french.text).toContain(`${waiting.n} en attente de traitement`);

  const sponsor = await signInAs(t, 'sponsor');
  await sponsor.agent.get('/staff/gifts/stripe-events').expect(403);
});
