import request from 'supertest';
import { signInAs, type SignedIn } from '../support/session';
import { createGivingTest, deliverAll, giveForm, type GivingTest, postGive, startCardGift, totals } from '../support/giving';

let t: GivingTest;
let staff: SignedIn;
beforeAll(async () => {
  t = await createGivingTest();
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroyAll());

async function chequePledge(): Promise<number> {
  const res = await postGive(t.app, giveForm({ method: 'cheque', frequency: 'monthly', months: '2', amount: '60', name: 'Cheque Writer' }), 303);
  return Number(/^\/give\/pledged\/(\d+)\?t=/.exec(res.headers.location!)![1]);
}

test('staff record a cheque on a pledge page; the same cheque again is refused with a clear message', async () => {
  const pledgeId = await chequePledge();
  const page = await staff.agent.get(`/staff/pledges/${pledgeId}`).expect(200);
  expect(page.text).toContain('Cheque Writer');
  expect(page.text).toContain(`HAVEN-${pledgeId}`);

  const before = await totals(t.db);
  const fields = { amount: '60', method: 'cheque', reference: 'CHQ-77', receivedOn: '2026-11-21' };
  const ok = await staff.postForm(`/staff/pledges/${pledgeId}/payments`, fields);
  expect(ok.status).toBe(303);
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(6_000);

  const dup = await staff.postForm(`/staff/pledges/${pledgeId}/payments`, { ...fields, reference: 'chq-77' });
  expect(dup.status).toBe(409);
  expect(dup.text).toContain('was already recorded as payment');
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(6_000);

  const audit = await t.db.selectFrom('audit_log').select(['actor_user_id', 'action']).where('action', '=', 'payment.recorded').execute();
  expect(audit).toEqual([{ actor_user_id: staff.user.id, action: 'payment.recorded' }]);
});

test('staff search and filter gifts and pledges', async () => {
  const gifts = await staff.agent.get('/staff/gifts?method=cheque&q=CHQ-77').expect(200);
  expect(gifts.text).toContain('CHQ-77');
  const pledges = await staff.agent.get('/staff/pledges?q=Cheque%20Writer').expect(200);
  expect(pledges.text).toContain('Cheque Writer');
  await staff.agent.get('/staff/installments/overdue').expect(200);
});

test('staff refund part of a card payment from the pledge page; the webhook records it', async () => {
  t.stand.takeEvents();
  const { sessionId } = await startCardGift(t.app, { amount: '90' });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(sessionId));
  const payment = await t.db
    .selectFrom('payments')
    .innerJoin('pledges', 'pledges.id', 'payments.pledge_id')
    .select(['payments.id', 'payments.pledge_id'])
    .where('pledges.stripe_checkout_session_id', '=', sessionId)
    .executeTakeFirstOrThrow();
  const before = await totals(t.db);
  const page = await staff.agent.get(`/staff/pledges/${payment.pledge_id}`).expect(200);
  const requestId = /name="requestId" value="([^"]+)"/.exec(page.text)![1]!;
  const res = await staff.postForm(`/staff/payments/${payment.id}/refund`, { amount: '25.00', requestId });
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe(`/staff/pledges/${payment.pledge_id}?refund=requested`);
  expect(t.stand.requests.filter((r) => r.path === '/v1/refunds').pop()?.params).toMatchObject({ amount: '2500' });
  await deliverAll(t.app, t.stand, t.stand.takeEvents());
  expect((await totals(t.db)).raisedCents).toBe(before.raisedCents - 2_500);
});

test('only staff reach the staff pages', async () => {
  await request(t.app).get('/staff/gifts').expect(303).expect('location', /\/sign-in/);
  const sponsor = await signInAs(t, 'sponsor');
  await sponsor.agent.get('/staff/gifts').expect(403);
  const post = await sponsor.postForm('/staff/installments/overdue/remind');
  expect(post.status).toBe(403);
});
