import { issueReceiptIfDue } from '../../server/receipts/issuing';
import { reconciliation } from '../../server/reports/reconciliation';
import { createTestApp, type TestApp } from '../support/app';
import { fixedClock } from '../support/clock';
import { giveForm, postGive } from '../support/giving';
import { giveAndReceive } from '../support/receipted-gifts';
import { signInAs, type SignedIn } from '../support/session';

/**
 * A charity in Vancouver (CHARITY_TIME_ZONE=America/Vancouver): reports, receipts and the
 * reconciliation count each gift on Vancouver's day, not Toronto's (the default) nor UTC's.
 *
 * Vancouver's offset this winter depends on whose time-zone data is asked: British Columbia kept
 * daylight time (UTC−7) from 8 March 2026 for good, which tzdata 2026b models from 1 November
 * 2026, while older data (Node's ICU 2025c, Debian's PostgreSQL 15) still says PST (UTC−8). So
 * 23:30 on 31 December is 07:30Z under the old data and 06:30Z under the law. The instants below
 * fall on the same Vancouver day under either offset, and on another day in Toronto (UTC−5) or UTC;
 * each day is worked out by hand for both offsets.
 * The ledger's postings carry the database's own clock (the real today), so this file checks the
 * side of the reconciliation that is by date received, and the day each difference names.
 */
const clock = fixedClock('2027-01-01T06:45:00Z'); // 22:45 (UTC−8) or 23:45 (UTC−7) on 31 December in Vancouver; 01:45 on 1 January in Toronto
let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp({ CHARITY_TIME_ZONE: 'America/Vancouver', PLEDGE_RATE_LIMIT_PER_IP: '1000', PLEDGE_RATE_LIMIT_PER_EMAIL: '1000' }, (deps) => ({ ...deps, clock }));
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

/** Card gifts around Vancouver's midnight on New Year's Eve: the instant, its Vancouver time under each offset, its Vancouver day. */
const gifts = [
  // Evening in Vancouver, already 1 January in UTC.
  { email: 'utc-trap@example.org', amountCents: 10_000, utc: '2027-01-01T00:30:00.000Z', pst: '2026-12-31T16:30:00-08:00', pt: '2026-12-31T17:30:00-07:00', day: '2026-12-31' },
  // Late evening in Vancouver, 01:45 on 1 January in Toronto.
  { email: 'toronto-trap@example.org', amountCents: 20_000, utc: '2027-01-01T06:45:00.000Z', pst: '2026-12-31T22:45:00-08:00', pt: '2026-12-31T23:45:00-07:00', day: '2026-12-31' },
  // Just after midnight on New Year's Day in Vancouver.
  { email: 'new-year@example.org', amountCents: 40_000, utc: '2027-01-01T08:15:00.000Z', pst: '2027-01-01T00:15:00-08:00', pt: '2027-01-01T01:15:00-07:00', day: '2027-01-01' },
];

/** RFC 4180 rows of a small export with no quoted cells. */
const csvRows = (text: string) => text.trim().split('\r\n').slice(1).map((line) => line.split(','));

/** A day's section of the reconciliation page: its method rows as [method, gifts, recorded]. */
function dayRows(html: string, day: string): string[][] {
  const section = html.split(`<h2 id="day-${day}">`)[1]?.split('</section>')[0];
  if (section === undefined) throw new Error(`no section for ${day}`);
  const body = section.split('<tbody>')[1]?.split('</tbody>')[0] ?? '';
  return [...body.matchAll(/<tr><th scope="row">([^<]+)<\/th><td class="num">(\d+)<\/td><td class="num">([^<]+)<\/td>/g)].map((m) => [m[1]!, m[2]!, m[3]!]);
}

test('gifts near midnight in Vancouver land on Vancouver days and tax years: the staff form, receipts, the gifts report and the reconciliation', async () => {
  // The independent facts: each instant, read at UTC−8 and at UTC−7, is the Vancouver time written beside it.
  for (const gift of gifts) {
    expect(new Date(gift.pst).toISOString()).toBe(gift.utc);
    expect(new Date(gift.pt).toISOString()).toBe(gift.utc);
    expect([gift.pst.slice(0, 10), gift.pt.slice(0, 10)]).toEqual([gift.day, gift.day]);
  }

  // Late on 31 December in Vancouver (already New Year's Day in Toronto), staff record a cheque received "today".
  const pledged = await postGive(t.app, giveForm({ method: 'cheque', amount: '50' }), 303);
  const pledgeId = Number(/^\/give\/pledged\/(\d+)\?t=/.exec(pledged.headers.location!)![1]);
  const form = await staff.agent.get(`/staff/pledges/${pledgeId}`).expect(200);
  expect(form.text).toMatch(/id="receivedOn" name="receivedOn" type="date" max="2026-12-31" value="2026-12-31"/);
  expect((await staff.postForm(`/staff/pledges/${pledgeId}/payments`, { amount: '50', method: 'cheque', reference: 'VAN-NYE', receivedOn: '2027-01-01' })).status).toBe(400); // tomorrow in Vancouver
  await staff.postForm(`/staff/pledges/${pledgeId}/payments`, { amount: '50', method: 'cheque', reference: 'VAN-NYE', receivedOn: '2026-12-31' }).then((r) => expect(r.status).toBe(303));
  const cheque = await t.db.selectFrom('payments').select(['id', 'received_on']).where('reference', '=', 'VAN-NYE').executeTakeFirstOrThrow();
  expect(cheque.received_on).toBe('2026-12-31');
  // The reconciliation's default period ends on Vancouver's today.
  expect((await staff.agent.get('/staff/reconciliation').expect(200)).text).toContain('id="to" name="to" type="date" value="2026-12-31"');

  // Card gifts received around midnight; receipts issued two days later.
  const paymentIds: number[] = [];
  for (const gift of gifts) paymentIds.push((await giveAndReceive(t.db, { email: gift.email, amountCents: gift.amountCents, method: 'card', receivedAt: new Date(gift.utc) })).paymentId);
  clock.set('2027-01-02T20:00:00Z');
  const receipts = await t.db.transaction().execute(async (trx) => Promise.all(paymentIds.map((id) => issueReceiptIfDue(trx, { ...t.config, clock }, id))));
  expect(receipts.every((r) => r !== null)).toBe(true);
  const receiptOf = (paymentId: number) =>
    t.db.selectFrom('receipts').innerJoin('receipt_payments', 'receipt_payments.receipt_id', 'receipts.id').select(['receipts.tax_year', 'receipts.received_from']).where('receipt_payments.payment_id', '=', paymentId).executeTakeFirstOrThrow();
  expect(await receiptOf(cheque.id)).toEqual({ tax_year: 2026, received_from: '2026-12-31' });
  for (const [i, gift] of gifts.entries()) expect(await receiptOf(paymentIds[i]!)).toEqual({ tax_year: Number(gift.day.slice(0, 4)), received_from: gift.day });

  // The gifts report: December holds the cheque and the two evening card gifts, January the one after midnight.
  const byMonth = csvRows((await staff.agent.get('/staff/reports/gifts.csv?by=period').expect(200)).text);
  expect(byMonth.map((r) => [r[0], r[1], r[4]])).toEqual([
    ['2026-12', '3', '350.00'],
    ['2027-01', '1', '400.00'],
    ['total', '4', '750.00'],
  ]);
  // By method, the method's name follows its code (as a group's does by group): net is the sixth column.
  const onDay = async (day: string) => csvRows((await staff.agent.get(`/staff/reports/gifts.csv?by=method&from=${day}&to=${day}`).expect(200)).text).map((r) => [r[0], r[5]]);
  expect(await onDay('2026-12-31')).toEqual([['card', '300.00'], ['cheque', '50.00'], ['total', '350.00']]);
  expect(await onDay('2027-01-01')).toEqual([['card', '400.00'], ['total', '400.00']]);

  // The reconciliation page: each gift recorded on its Vancouver day.
  const page = await staff.agent.get('/staff/reconciliation?from=2026-12-30&to=2027-01-01').expect(200);
  expect(dayRows(page.text, '2026-12-30')).toEqual([]);
  expect(dayRows(page.text, '2026-12-31')).toEqual([['cheque', '1', '$50.00'], ['card', '2', '$300.00']]);
  expect(dayRows(page.text, '2027-01-01')).toEqual([['card', '1', '$400.00']]);
  // Each gift's posting is explained under the day it was received, with that day.
  const days = await reconciliation(t.db, { from: '2026-12-30', to: '2027-01-01', timeZone: t.config.charityTimeZone });
  const receivedOn = new Map(days.flatMap((d) => d.differences.map((x) => [x.paymentId, x.receivedOn] as const)));
  expect(paymentIds.map((id) => receivedOn.get(id))).toEqual(gifts.map((g) => g.day));
  expect(receivedOn.get(cheque.id)).toBe('2026-12-31');
});
