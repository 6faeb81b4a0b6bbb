import { listUnreceipted } from '../../server/receipts/issuing';
import { createTestApp, type TestApp } from '../support/app';
import { fixedClock } from '../support/clock';
import { giveForm, postGive } from '../support/giving';
import { signInAs, type SignedIn } from '../support/session';

/**
 * "Today" is the charity's day (CHARITY_TIME_ZONE, America/Toronto), whatever UTC says. The app's
 * clock stands at the instants the issue names; the expected dates come from Toronto's offsets
 * (EST UTC−5 in winter, EDT UTC−4 from 14 March 2027), worked out by hand.
 */
const clock = fixedClock('2027-03-15T07:00:00Z');
let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp({ PLEDGE_RATE_LIMIT_PER_IP: '1000', PLEDGE_RATE_LIMIT_PER_EMAIL: '1000' }, (deps) => ({ ...deps, clock }));
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

async function pledge(fields: Record<string, string> = {}): Promise<number> {
  const res = await postGive(t.app, giveForm({ method: 'cheque', amount: '100', ...fields }), 303);
  return Number(/^\/give\/pledged\/(\d+)\?t=/.exec(res.headers.location!)![1]);
}
const defaultDate = (html: string) => /id="receivedOn" name="receivedOn" type="date" max="([\d-]+)" value="([\d-]+)"/.exec(html)?.slice(1);
const receiptOf = (paymentId: number) =>
  t.db.selectFrom('receipts').innerJoin('receipt_payments', 'receipt_payments.receipt_id', 'receipts.id').select(['receipts.serial', 'receipts.tax_year', 'receipts.received_from']).where('receipt_payments.payment_id', '=', paymentId).executeTakeFirst();

async function recordOn(pledgeId: number, receivedOn: string, reference: string) {
  return staff.postForm(`/staff/pledges/${pledgeId}/payments`, { amount: '100', method: 'cheque', reference, receivedOn });
}

test('at 07:00 UTC (03:00 in Toronto) a cheque received today is dated today, receipted at once, and in the queue for annual donors', async () => {
  clock.set('2027-03-15T07:00:00Z');
  const pledgeId = await pledge();
  expect(defaultDate((await staff.agent.get(`/staff/pledges/${pledgeId}`).expect(200)).text)).toEqual(['2027-03-15', '2027-03-15']);
  await recordOn(pledgeId, '2027-03-15', 'TZ-0700').then((r) => expect(r.status).toBe(303));
  const payment = await t.db.selectFrom('payments').select(['id', 'received_on', 'received_at']).where('reference', '=', 'TZ-0700').executeTakeFirstOrThrow();
  expect(payment.received_on).toBe('2027-03-15');
  expect(payment.received_at.toISOString()).toBe('2027-03-15T04:00:00.000Z'); // midnight EDT: never after "now"
  expect(await receiptOf(payment.id)).toMatchObject({ tax_year: 2027, received_from: '2027-03-15' });

  // An annual donor's gift received today waits in the "not yet receipted" queue.
  const monthly = await pledge({ frequency: 'monthly', months: '3' });
  await recordOn(monthly, '2027-03-15', 'TZ-0700-M').then((r) => expect(r.status).toBe(303));
  const queued = await listUnreceipted(t.db, { calendar: { charityTimeZone: t.config.charityTimeZone, clock } });
  expect(queued.map((q) => q.receivedOn)).toContain('2027-03-15');
});

test('at 23:30 in Toronto the form says today, and the UTC date (tomorrow) is refused as a future date', async () => {
  clock.set('2027-06-11T03:30:00Z'); // 23:30 EDT on 10 June
  const pledgeId = await pledge();
  expect(defaultDate((await staff.agent.get(`/staff/pledges/${pledgeId}`).expect(200)).text)).toEqual(['2027-06-10', '2027-06-10']);
  const future = await recordOn(pledgeId, '2027-06-11', 'TZ-2330-F');
  expect(future.status).toBe(400);
  expect(future.text).toMatch(/<p class="field-error" id="receivedOn-error">[^<]*2027-06-10/);
  expect(future.text).toMatch(/id="reference"[^>]*value="TZ-2330-F"/);
  expect(await t.db.selectFrom('payments').select('id').where('reference', '=', 'TZ-2330-F').executeTakeFirst()).toBeUndefined();
  // A cheque dated next month is not money received.
  expect((await recordOn(pledgeId, '2027-07-11', 'TZ-NEXT-MONTH')).status).toBe(400);
  await recordOn(pledgeId, '2027-06-10', 'TZ-2330').then((r) => expect(r.status).toBe(303));
});

test('at 23:30 on 31 December in Toronto a gift belongs to that year: dated 31 December, receipted for that tax year', async () => {
  clock.set('2028-01-01T04:30:00Z'); // 23:30 EST on 31 December 2027
  const pledgeId = await pledge({ frequency: 'monthly', months: '2', email: 'new-year-eve@example.org' });
  const [max, value] = defaultDate((await staff.agent.get(`/staff/pledges/${pledgeId}`).expect(200)).text)!;
  expect([max, value]).toEqual(['2027-12-31', '2027-12-31']);
  // The pledge's instalments fall due from the charity's today.
  const due = await t.db.selectFrom('pledge_installments').select('due_on').where('pledge_id', '=', pledgeId).orderBy('seq').execute();
  expect(due.map((d) => d.due_on)).toEqual(['2027-12-31', '2028-01-31']);
  // Due today is not overdue.
  expect((await staff.agent.get('/staff/installments/overdue').expect(200)).text).not.toContain(`/staff/pledges/${pledgeId}"`);

  const once = await pledge({ email: 'new-year-eve-once@example.org' });
  await recordOn(once, value!, 'TZ-NYE').then((r) => expect(r.status).toBe(303));
  const payment = await t.db.selectFrom('payments').select('id').where('reference', '=', 'TZ-NYE').executeTakeFirstOrThrow();
  const receipt = await receiptOf(payment.id);
  expect(receipt).toMatchObject({ tax_year: 2027, received_from: '2027-12-31' });
  expect(receipt!.serial).toMatch(/^HV-2027-\d{6}$/);
});
