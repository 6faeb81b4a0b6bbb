import { sql } from 'kysely';
import { createGivingTest, deliverAll, type GivingTest, startCardGift, totals, pledgeOfSession } from '../support/giving';
import { signInAs } from '../support/session';
import { addBillingMonths } from '../support/stripe-fixtures/subscriptions';

/**
 * Monthly gifts are Stripe subscriptions. A gift for N months must end at Stripe by itself:
 * Haven sets the subscription's `cancel_at` to the end of the Nth monthly period right after
 * Checkout completes (https://docs.stripe.com/api/subscriptions/update#update_subscription-cancel_at:
 * a timestamp at a period's end cancels there with no proration), and retries that call until
 * Stripe accepts it, so an outage of Haven or Stripe never costs the donor an extra month.
 * Stripe keeps the first answer for an idempotency key, 500s included
 * (https://docs.stripe.com/api/idempotent_requests), so each retry is a new request.
 */
let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest();
});
afterAll(() => t.destroyAll());

/** As if the call's backoff had run out: it is due now. */
async function callsDueNow() {
  await t.db.updateTable('stripe_calls').set({ next_attempt_at: sql<Date>`now()` }).where('done_at', 'is', null).execute();
}

test('a three-month gift ends at Stripe by itself, even when Stripe fails the first attempts to say so', async () => {
  const before = await totals(t.db);
  const { sessionId } = await startCardGift(t.app, { frequency: 'monthly', months: '3', amount: '20' });
  // Stripe is down for a while: the first four updates of the subscription fail with a 500.
  t.stand.failRequests({ method: 'POST', path: /^\/v1\/subscriptions\/sub_/, times: 4 });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOfSession(t.db, sessionId);
  const sub = t.stand.objects.get(pledge.stripe_subscription_id!)!;
  expect(sub.cancel_at).toBeNull();

  const call = await t.db.selectFrom('stripe_calls').selectAll().where('pledge_id', '=', pledge.id).executeTakeFirstOrThrow();
  expect(call).toMatchObject({ kind: 'end_subscription_at_term', subscription_id: sub.id, done_at: null, attempts: 1 });
  expect(call.last_error).toContain('500');

  // Staff see the call that keeps failing.
  const staff = await signInAs(t, 'staff');
  for (let i = 0; i < 2; i++) {
    await callsDueNow();
    await t.stripeEvents.drain();
  }
  const page = await staff.agent.get('/staff/gifts/stripe-events').expect(200);
  const row = page.text.split('<tr>').find((r) => r.includes(sub.id))!;
  expect(row).toContain('end_subscription_at_term');
  expect(row).toContain('StripeAPIError');

  // Retried until Stripe answers; every attempt was a new request (a replayed 500 would never succeed).
  for (let i = 0; i < 2; i++) {
    await callsDueNow();
    await t.stripeEvents.drain();
  }
  const updates = t.stand.requests.filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${sub.id}`);
  expect(updates).toHaveLength(5);
  expect(new Set(updates.map((r) => r.idempotencyKey)).size).toBe(5);
  expect(updates[4]!.params).toMatchObject({ cancel_at: String(addBillingMonths(sub.billing_cycle_anchor, 3)), proration_behavior: 'none' });
  expect(sub.cancel_at).toBe(addBillingMonths(sub.billing_cycle_anchor, 3));
  expect(await t.db.selectFrom('stripe_calls').select(['attempts', 'last_error']).where('id', '=', call.id).executeTakeFirstOrThrow()).toMatchObject({ attempts: 5, last_error: null });

  // Two more months are billed, then Stripe ends the subscription: no fourth charge.
  await deliverAll(t.app, t.stand, [t.stand.renewSubscription(sub.id)]);
  expect((await pledgeOfSession(t.db, sessionId)).status).toBe('active');
  await deliverAll(t.app, t.stand, [t.stand.renewSubscription(sub.id)]);
  expect((await pledgeOfSession(t.db, sessionId)).status).toBe('fulfilled');
  const ended = t.stand.renewSubscription(sub.id);
  expect(ended.type).toBe('customer.subscription.deleted');
  await deliverAll(t.app, t.stand, [ended, ...t.stand.takeEvents()]);
  const done = await pledgeOfSession(t.db, sessionId);
  expect(done.status).toBe('fulfilled');
  expect(done.ended_at).toBeInstanceOf(Date);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(6_000);
  expect(t.stand.requests.some((r) => r.method === 'DELETE')).toBe(false);
  const installments = await t.db.selectFrom('pledge_installments').select(['seq', 'status']).where('pledge_id', '=', pledge.id).orderBy('seq').execute();
  expect(installments).toEqual([{ seq: 1, status: 'paid' }, { seq: 2, status: 'paid' }, { seq: 3, status: 'paid' }]);
});

test('a Stripe outage of hours: the call is retried for as long as it takes, at most a few minutes apart', async () => {
  const { stripeCallRetryDelaySeconds } = await import('../../server/giving/stripe-calls');
  const delays = Array.from({ length: 40 }, (_, i) => stripeCallRetryDelaySeconds(i + 1));
  expect(delays.slice(0, 4)).toEqual([2, 4, 8, 16]);
  expect(Math.max(...delays)).toBeLessThanOrEqual(300);
  // Forty attempts cover more than two hours of outage, and it never stops trying.
  expect(delays.reduce((a, b) => a + b, 0)).toBeGreaterThan(2 * 3600);
  expect(delays[39]).toBe(300);
});

test('an open-ended monthly gift gets no end date at Stripe', async () => {
  const { sessionId } = await startCardGift(t.app, { frequency: 'monthly', amount: '15' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOfSession(t.db, sessionId);
  expect(t.stand.objects.get(pledge.stripe_subscription_id!)!.cancel_at).toBeNull();
  expect(await t.db.selectFrom('stripe_calls').select('id').where('pledge_id', '=', pledge.id).execute()).toEqual([]);
});

/** The cancel link from the donor's confirmation e-mail, as a path on Haven. */
async function cancelLinkOf(pledgeId: number): Promise<string> {
  const mails = await t.db.selectFrom('outbox').select('payload').execute();
  const url = mails
    .map((m) => m.payload as { template: string; data: { cancelUrl?: string | null } })
    .map((p) => p.data.cancelUrl)
    .find((u) => u?.includes(`/give/monthly/${pledgeId}/cancel`));
  if (!url) throw new Error(`no cancel link e-mailed for pledge ${pledgeId}`);
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

/** A paid open-ended monthly gift; its pledge id, subscription id and the e-mailed cancel link. */
async function monthlyGift() {
  t.stand.takeEvents();
  const { sessionId } = await startCardGift(t.app, { frequency: 'monthly', amount: '30' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOfSession(t.db, sessionId);
  return { pledgeId: pledge.id, subscriptionId: pledge.stripe_subscription_id!, link: await cancelLinkOf(pledge.id) };
}

/** The donor opens the link and presses the button, as in a browser. */
async function cancelAsDonor(link: string) {
  const { formVisitor } = await import('../support/giving');
  const visitor = await formVisitor(t.app, link);
  const token = new URL(link, 'http://haven').searchParams.get('t')!;
  const res = await visitor.post(new URL(link, 'http://haven').pathname, { t: token });
  return { res, visitor };
}

test('the cancel link when Stripe answers 500: a clear page, the gift stopped in Haven, and Stripe told as soon as it answers', async () => {
  const gift = await monthlyGift();
  t.stand.failRequests({ method: 'DELETE', path: /^\/v1\/subscriptions\//, times: 2 });
  const { res, visitor } = await cancelAsDonor(gift.link);
  expect(res.status).toBe(303);
  const page = await visitor.agent.get(res.headers.location as string).expect(200);
  expect(page.text).toContain('Your monthly gift is stopped.');
  expect(page.text).toContain('not confirmed it yet');
  expect((await t.db.selectFrom('pledges').select('status').where('id', '=', gift.pledgeId).executeTakeFirstOrThrow()).status).toBe('cancelled');
  expect(t.stand.objects.get(gift.subscriptionId)!.status).toBe('active');

  // The processor keeps asking; Stripe answers on the third try.
  await callsDueNow();
  await t.stripeEvents.drain();
  expect(t.stand.objects.get(gift.subscriptionId)!.status).toBe('active');
  await callsDueNow();
  await t.stripeEvents.drain();
  expect(t.stand.objects.get(gift.subscriptionId)!.status).toBe('canceled');
  const call = await t.db.selectFrom('stripe_calls').select(['kind', 'done_at', 'outcome']).where('pledge_id', '=', gift.pledgeId).executeTakeFirstOrThrow();
  expect(call).toMatchObject({ kind: 'cancel_subscription', outcome: 'cancelled' });
  const after = await visitor.agent.get(gift.link).expect(200);
  expect(after.text).toContain('This monthly gift has ended.');
  // Stripe's customer.subscription.deleted changes nothing more.
  await deliverAll(t.app, t.stand, t.stand.takeEvents());
  expect((await t.db.selectFrom('pledges').select('status').where('id', '=', gift.pledgeId).executeTakeFirstOrThrow()).status).toBe('cancelled');
});

test('the cancel link for a subscription already cancelled at Stripe: the gift ends in Haven too, with a clear page', async () => {
  const gift = await monthlyGift();
  // Cancelled in Stripe's Dashboard; Haven has not heard yet.
  Object.assign(t.stand.objects.get(gift.subscriptionId)!, { status: 'canceled', canceled_at: Math.floor(Date.now() / 1000) });
  const { res, visitor } = await cancelAsDonor(gift.link);
  expect(res.status).toBe(303);
  const page = await visitor.agent.get(res.headers.location as string).expect(200);
  expect(page.text).toContain('This monthly gift has ended.');
  expect((await t.db.selectFrom('pledges').select('status').where('id', '=', gift.pledgeId).executeTakeFirstOrThrow()).status).toBe('cancelled');
  const call = await t.db.selectFrom('stripe_calls').select(['done_at', 'outcome']).where('pledge_id', '=', gift.pledgeId).executeTakeFirstOrThrow();
  expect(call.outcome).toBe('was already cancelled');
  expect(call.done_at).toBeInstanceOf(Date);
});

test('pressing the button twice stops the gift once, with one call to Stripe', async () => {
  const gift = await monthlyGift();
  const first = await cancelAsDonor(gift.link);
  // The same form posted again (a double click, or the back button and a second press).
  const second = await first.visitor.post(new URL(gift.link, 'http://haven').pathname, { t: new URL(gift.link, 'http://haven').searchParams.get('t')! });
  expect([first.res.status, second.status]).toEqual([303, 303]);
  expect(t.stand.requests.filter((r) => r.method === 'DELETE' && r.path === `/v1/subscriptions/${gift.subscriptionId}`)).toHaveLength(1);
  expect(await t.db.selectFrom('stripe_calls').select('id').where('pledge_id', '=', gift.pledgeId).execute()).toHaveLength(1);
});

test("a card instalment is due on the charity's date of its invoice: 23:30 on 31 December in Toronto is that year's", async () => {
  const { sessionId } = await startCardGift(t.app, { frequency: 'monthly', amount: '15' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await pledgeOfSession(t.db, sessionId);
  const renewal = t.stand.renewSubscription(pledge.stripe_subscription_id!, 'paid');
  // 2027-01-01T04:30Z is 23:30 on 31 December 2026 in Toronto (EST, UTC−5): in UTC, and for a database in UTC, it is already 2027.
  const invoice = renewal.data.object as { id: string; created: number };
  invoice.created = Date.UTC(2027, 0, 1, 4, 30) / 1000;
  await deliverAll(t.app, t.stand, [renewal]);
  const row = await t.db.selectFrom('pledge_installments').select('due_on').where('stripe_invoice_id', '=', invoice.id).executeTakeFirstOrThrow();
  expect(row.due_on).toBe('2026-12-31');
});
