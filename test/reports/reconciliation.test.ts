import { addDays } from '../../server/calendar/dates';
import { charityCalendar } from '../../server/calendar/charity-calendar';
import { recordOfflinePayment } from '../../server/giving/offline-payments';
import { reconciliation } from '../../server/reports/reconciliation';
import { balance, createGivingTest, type GivingTest, giveForm, ledgerImbalance, postEvent, postGive } from '../support/giving';
import { signInAs } from '../support/session';
import { failedPayout, paidPayout, payoutEvent } from '../support/stripe-fixtures/payouts';

/**
 * /staff/reconciliation and payout.paid. The ledger is posted now (the database's clock), so the
 * test works in the charity's real today; payouts are signed webhook deliveries built from the
 * SDK-typed fixtures in test/support/stripe-fixtures/payouts.ts.
 */
let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest();
});
afterAll(() => t.destroyAll());

const staffActor = { userId: null, label: 'test staff' };
const calendar = charityCalendar();

async function chequePledge(): Promise<number> {
  const res = await postGive(t.app, giveForm({ method: 'cheque', amount: '500' }), 303);
  return Number(/^\/give\/pledged\/(\d+)\?t=/.exec(res.headers.location!)![1]);
}

async function cheque(amountCents: number, receivedOn: string, reference: string) {
  const pledgeId = await chequePledge();
  return t.db.transaction().execute((trx) => recordOfflinePayment(trx, { pledgeId, amountCents, method: 'cheque', reference, receivedOn, actor: staffActor }));
}

test('payout.paid moves money from stripe to the bank once, however often it is delivered; payout.failed moves it back', async () => {
  const payout = paidPayout(12_345, calendar.today());
  const bankBefore = await balance(t.db, 'bank');
  const stripeBefore = await balance(t.db, 'stripe');
  await postEvent(t.app, t.stand, payoutEvent('payout.paid', payout)).expect(200);
  await postEvent(t.app, t.stand, payoutEvent('payout.paid', payout)).expect(200); // a second event for the same payout
  expect((await balance(t.db, 'bank')) - bankBefore).toBe(12_345);
  expect(stripeBefore - (await balance(t.db, 'stripe'))).toBe(12_345);
  const row = await t.db.selectFrom('stripe_payouts').selectAll().where('id', '=', payout.id).executeTakeFirstOrThrow();
  expect(row).toMatchObject({ amount_cents: 12_345, status: 'paid', arrival_on: calendar.today() });

  await postEvent(t.app, t.stand, payoutEvent('payout.failed', failedPayout(payout))).expect(200);
  expect(await balance(t.db, 'bank')).toBe(bankBefore);
  expect(await balance(t.db, 'stripe')).toBe(stripeBefore);
  // A failure reported before its payment: the late payout.paid moves nothing.
  const early = paidPayout(500, calendar.today());
  await postEvent(t.app, t.stand, payoutEvent('payout.failed', failedPayout(early))).expect(200);
  await postEvent(t.app, t.stand, payoutEvent('payout.paid', early)).expect(200);
  expect(await balance(t.db, 'bank')).toBe(bankBefore);
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('per day, gifts recorded by method against the ledger, with a late entry and a payout beyond the card money listed as differences', async () => {
  const today = calendar.today();
  const threeDaysAgo = addDays(today, -3);
  await cheque(10_000, today, 'REC-TODAY');
  const late = await cheque(5_000, threeDaysAgo, 'REC-LATE'); // received three days ago, entered today
  await postEvent(t.app, t.stand, payoutEvent('payout.paid', paidPayout(7_000, today))).expect(200);

  const days = await reconciliation(t.db, { from: threeDaysAgo, to: today, timeZone: calendar.timeZone });
  const on = (day: string) => days.find((d) => d.day === day)!;
  const todayCheques = on(today).methods.find((m) => m.method === 'cheque')!;
  expect(todayCheques).toMatchObject({ recordedCents: 10_000, postedCents: 15_000, differenceCents: -5_000 });
  expect(on(threeDaysAgo).methods.find((m) => m.method === 'cheque')).toMatchObject({ recordedCents: 5_000, postedCents: 0, differenceCents: 5_000 });
  expect(on(today).differences).toEqual([expect.objectContaining({ paymentId: late, reference: 'REC-LATE', receivedOn: threeDaysAgo, postedOn: today, amountCents: 5_000 })]);
  expect(on(today).payoutsCents).toBe(7_000);
  expect(on(today).stripeShort).toBe(true); // Stripe paid out card money Haven never recorded

  const staff = await signInAs(t, 'staff');
  const page = await staff.agent.get(`/staff/reconciliation?from=${threeDaysAgo}&to=${today}`).expect(200);
  expect(page.text).toContain('Some days do not reconcile');
  expect(page.text).toContain(`/staff/payments/${late}`);
  await staff.agent.get('/staff/reconciliation?from=2026-01-01&to=2026-12-31').expect(400);
});
