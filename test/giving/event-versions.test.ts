import request from 'supertest';
import { sql } from 'kysely';
import type Stripe from 'stripe';
import { balance, createGivingTest, deliverAll, type GivingTest, sendEvent, startCardGift, totals } from '../support/giving';
import { signInAs } from '../support/session';
import { CURRENT_API_VERSION, PRE_BASIL_API_VERSION, stripeEvent } from '../support/stripe-fixtures/events';
import { paidPayout, payoutEvent } from '../support/stripe-fixtures/payouts';
import { webhookEndpoint } from '../support/stripe-fixtures/webhook-endpoints';

/**
 * Events rendered in another API version. A webhook endpoint sends its events in the API version
 * it is configured on; before 2025-03-31.basil an invoice has no `parent` (it had `subscription`
 * and `subscription_details` at the top level instead:
 * https://docs.stripe.com/changelog/basil/2025-03-31/adds-new-parent-field-to-invoicing-objects).
 * Haven reads events in the SDK's pinned version (2026-10-28.endive) and must hold anything else,
 * visibly, instead of marking it done with nothing recorded.
 */
let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest();
});
afterAll(() => t.destroyAll());

async function eventRow(id: string) {
  return t.db.selectFrom('stripe_events').select(['processed_at', 'attempts', 'held_reason']).where('id', '=', id).executeTakeFirstOrThrow();
}

test('an invoice.paid in an API version before basil is held with its reason on the staff page, never marked done; read again from Stripe, it records the gift', async () => {
  const { sessionId } = await startCardGift(t.app, { frequency: 'monthly', months: '6', amount: '25' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const pledge = await t.db.selectFrom('pledges').select(['id', 'stripe_subscription_id']).where('stripe_checkout_session_id', '=', sessionId).executeTakeFirstOrThrow();
  const before = await totals(t.db);

  t.stand.setEndpointApiVersion(PRE_BASIL_API_VERSION);
  const renewal = t.stand.renewSubscription(pledge.stripe_subscription_id!);
  t.stand.setEndpointApiVersion(CURRENT_API_VERSION);
  expect(renewal.api_version).toBe(PRE_BASIL_API_VERSION);
  expect((renewal.data.object as { parent?: unknown }).parent).toBeUndefined();
  expect((renewal.data.object as unknown as { subscription: string }).subscription).toBe(pledge.stripe_subscription_id);

  await deliverAll(t.app, t.stand, [renewal]);
  const held = await eventRow(renewal.id);
  expect(held.processed_at).toBeNull();
  expect(held.held_reason).toContain(PRE_BASIL_API_VERSION);
  expect(held.held_reason).toContain(CURRENT_API_VERSION);
  expect(await totals(t.db)).toEqual(before);

  // Held, not retried: later passes leave it alone.
  await t.db.updateTable('stripe_events').set({ next_attempt_at: sql<Date>`now()` }).where('id', '=', renewal.id).execute();
  await t.stripeEvents.drain();
  expect(await eventRow(renewal.id)).toMatchObject({ processed_at: null, attempts: 1 });

  const staff = await signInAs(t, 'staff');
  const page = await staff.agent.get('/staff/gifts/stripe-events').expect(200);
  const row = page.text.split('<tr>').find((r) => r.includes(renewal.id))!;
  expect(row).toContain('invoice.paid');
  expect(row).toContain(PRE_BASIL_API_VERSION);
  expect(page.text).toContain('1 held');

  // Once the endpoint is fixed, staff have Haven read the invoice again from Stripe's API (in the pinned version).
  const reread = await staff.postForm(`/staff/gifts/stripe-events/${renewal.id}/reread`);
  expect(reread.status).toBe(303);
  await t.stripeEvents.drain();
  expect((await eventRow(renewal.id)).processed_at).toBeInstanceOf(Date);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(2_500);
  const installments = await t.db.selectFrom('pledge_installments').select(['seq', 'status']).where('pledge_id', '=', pledge.id).orderBy('seq').execute();
  expect(installments).toEqual([{ seq: 1, status: 'paid' }, { seq: 2, status: 'paid' }]);
  const audit = await t.db.selectFrom('audit_log').select(['action', 'actor_user_id']).where('subject', '=', `stripe_event:${renewal.id}`).execute();
  expect(audit).toEqual([{ action: 'stripe_event.reread', actor_user_id: staff.user.id }]);
  expect((await staff.agent.get('/staff/gifts/stripe-events').expect(200)).text).toContain('0 held');
});

test('an event type Haven does not act on is stored and marked done whatever its API version', async () => {
  const customer = { id: 'cus_test_versions', object: 'customer' } as unknown as Stripe.Customer;
  const event = stripeEvent('customer.created', customer, { apiVersion: '2020-08-27' });
  await sendEvent(t.app, t.stand, event).expect(200);
  await t.stripeEvents.drain();
  expect((await eventRow(event.id)).processed_at).toBeInstanceOf(Date);
});

test('a correctly signed body that is not an event (a JSON array, no data.object) is answered 400 and nothing is stored', async () => {
  const count = async () => Number((await t.db.selectFrom('stripe_events').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
  const before = await count();
  for (const payload of ['[]', '[{"id":"evt_in_array","type":"invoice.paid"}]', '{"id":"evt_no_object","type":"invoice.paid","created":1,"data":{}}', '{"id":"evt_null_data","type":"invoice.paid","created":1,"data":null}', '"evt"']) {
    const res = await request(t.app).post('/webhooks/stripe').set('content-type', 'application/json').set('stripe-signature', t.stand.sign(payload)).send(payload);
    expect(res.status).toBe(400);
  }
  expect(await count()).toBe(before);
});

test('a payout.paid in another API version is held, and read again from Stripe it moves the money to the bank once', async () => {
  const payout = paidPayout(40_000, '2026-12-01');
  // Stripe's API knows the payout (what a read again retrieves, in the pinned version).
  t.stand.objects.set(payout.id, payout as unknown as Record<string, unknown>);
  const event = { ...payoutEvent('payout.paid', payout), api_version: PRE_BASIL_API_VERSION };
  const bankBefore = await balance(t.db, 'bank');
  await deliverAll(t.app, t.stand, [event as Stripe.Event]);
  expect((await eventRow(event.id)).held_reason).toContain(PRE_BASIL_API_VERSION);
  expect(await balance(t.db, 'bank')).toBe(bankBefore);

  const staff = await signInAs(t, 'staff');
  expect((await staff.postForm(`/staff/gifts/stripe-events/${event.id}/reread`)).status).toBe(303);
  await t.stripeEvents.drain();
  expect((await eventRow(event.id)).processed_at).toBeInstanceOf(Date);
  expect((await balance(t.db, 'bank')) - bankBefore).toBe(40_000);
  expect(t.stand.requests.some((r) => r.method === 'GET' && r.path === `/v1/payouts/${payout.id}`)).toBe(true);
});

test('npm run stripe:check says what the webhook endpoint is missing', async () => {
  const { checkWebhookEndpoint } = await import('../../server/giving/stripe-check');
  const stripe = t.webhooks.stripe;
  const url = `${t.config.publicUrl}/webhooks/stripe`;

  t.stand.webhookEndpoints.splice(0);
  expect((await checkWebhookEndpoint(stripe, url)).problems).toEqual([`No webhook endpoint sends events to ${url}.`]);

  t.stand.webhookEndpoints.push(webhookEndpoint({ url, api_version: PRE_BASIL_API_VERSION, enabled_events: ['checkout.session.completed', 'invoice.paid'], status: 'disabled' }));
  const problems = (await checkWebhookEndpoint(stripe, url)).problems;
  expect(problems[0]).toBe(`The endpoint is disabled.`);
  expect(problems[1]).toBe(`The endpoint sends API version ${PRE_BASIL_API_VERSION}; Haven reads ${CURRENT_API_VERSION}.`);
  expect(problems[2]).toMatch(/^The endpoint does not send: .*charge\.dispute\.funds_withdrawn.*refund\.failed/);
  expect(problems).toHaveLength(3);

  const { HANDLED_EVENT_TYPES } = await import('../../server/giving/stripe-webhooks');
  t.stand.webhookEndpoints.splice(0, 1, webhookEndpoint({ url, enabled_events: [...HANDLED_EVENT_TYPES] }));
  expect((await checkWebhookEndpoint(stripe, url)).problems).toEqual([]);
  t.stand.webhookEndpoints.splice(0, 1, webhookEndpoint({ url, enabled_events: ['*'] }));
  expect((await checkWebhookEndpoint(stripe, url)).problems).toEqual([]);
});

test('the README lists every event type Haven acts on, and the API version it reads', async () => {
  const { readFile } = await import('node:fs/promises');
  const { HANDLED_EVENT_TYPES } = await import('../../server/giving/stripe-webhooks');
  const readme = await readFile(`${__dirname}/../../README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('## Stripe webhook endpoint'), readme.indexOf('## Running on PostgreSQL'));
  expect(section).toContain(`**API version**: \`${CURRENT_API_VERSION}\``);
  const events = section.slice(section.indexOf('**Events**'));
  const listed = [...events.matchAll(/`([a-z_]+\.[a-z_.]+)`/g)].map((m) => m[1]).sort();
  expect(listed).toEqual([...HANDLED_EVENT_TYPES].sort());
});
