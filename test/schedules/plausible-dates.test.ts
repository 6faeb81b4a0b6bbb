import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../../server/db/schema';
import { keyringOf } from '../../server/families/data-keys';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { remindOverdueInstallments } from '../../server/schedules/reminders';
import { overdueInstallments, supportOverview } from '../../server/schedules/schedule-queries';
import { createTestApp, type TestApp } from '../support/app';
import { fixedClock } from '../support/clock';
import { signInAs, type SignedIn } from '../support/session';
import { availableFamily, staffA, staffB } from '../families/factories';
import { signInMember } from '../groups/factories';
import { readyGroup } from '../matching/factories';

/** Dates staff and coordinators type are checked against the schedule and the charity's today (issue 15). */
const clock = fixedClock('2027-02-01T15:00:00Z');
// The app's own key: arrival reads the members' birth months from the identity these tests seal.
const familyKey = randomBytes(32);
let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp({ FAMILY_DATA_KEY: familyKey.toString('hex') }, (deps) => ({ ...deps, clock }));
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => t.db.transaction().execute(fn);

/** A family of two adults, matched (approved now, by the real clock: the approval's date is the earliest arrival). */
async function matchedFamily() {
  const family = await availableFamily(t.db, keyringOf(familyKey), { adults: 2, children: 1 });
  const group = await readyGroup(t.db, { familySize: 3 });
  const match = await tx((trx) => proposeMatch(trx, t.config, staffA, { familyId: family.id, groupId: group.id }));
  await tx((trx) => approveMatch(trx, t.config, staffB, match.id));
  return { family, group };
}

async function arrive(familyId: number, arrivalOn: string) {
  return staff.postForm(`/staff/families/${familyId}/arrival`, { arrivalOn, rates: 'cost_table' });
}

test('an arrival years ahead, or before the match was approved, is refused with a message beside the date, and nothing is created', async () => {
  const { family } = await matchedFamily();
  const far = await arrive(family.id, '2031-01-01');
  expect(far.status).toBe(400);
  expect(far.text).toMatch(/id="arrivalOn-error">[^<]*12 months ahead/);
  expect(far.text).toMatch(/id="arrivalOn"[^>]*value="2031-01-01"/);
  const early = await arrive(family.id, '2020-01-01');
  expect(early.status).toBe(400);
  expect(early.text).toMatch(/id="arrivalOn-error">[^<]*before the match was approved/);
  expect(await t.db.selectFrom('support_schedules').select('id').where('family_id', '=', family.id).execute()).toEqual([]);
  expect((await arrive(family.id, '2027-03-01')).status).toBe(303);
});

test('self-sufficiency and earnings dates must fall inside the schedule; a disbursement cannot be dated tomorrow; refused forms keep what was typed', async () => {
  const { family, group } = await matchedFamily();
  const created = await arrive(family.id, '2027-02-01');
  const scheduleId = Number(/\/(\d+)(?:\?|$)/.exec(created.headers.location!)![1]);
  const before = await staff.postForm(`/staff/schedules/${scheduleId}/self-sufficient`, { on: '2026-01-01', reason: 'Both adults employed' });
  expect(before.status).toBe(400);
  expect(before.text).toMatch(/id="on-error">[^<]*inside the schedule, from 2027-02-01 to 2028-01-31/);
  expect(before.text).toMatch(/id="reason"[^>]*value="Both adults employed"/);
  const after = await staff.postForm(`/staff/schedules/${scheduleId}/earnings`, { netIncome: '100', effectiveOn: '2029-06-01' });
  expect(after.status).toBe(400);
  expect(after.text).toContain('id="effectiveOn-error"');

  const coordinator = await signInMember(t, group.id, 'coordinator');
  const startup = await t.db.selectFrom('schedule_installments').select(['id', 'amount_cents']).where('schedule_id', '=', scheduleId).where('kind', '=', 'startup').executeTakeFirstOrThrow();
  const tooMuch = await coordinator.postForm('/group/schedule/disbursements', { installmentId: startup.id, amount: '99999', paidOn: '2027-02-01', method: 'cheque', reference: 'CQ-77' });
  expect(tooMuch.status).toBe(400);
  expect(tooMuch.text).not.toContain('Back to the campaign');
  expect(tooMuch.text).toMatch(/id="amount"[^>]*value="99999"/);
  expect(tooMuch.text).toMatch(/id="amount-error">[^<]*more than what remains due/);
  expect(tooMuch.text).toMatch(new RegExp(`<option value="${startup.id}" selected>`));
  expect(tooMuch.text).toMatch(/<option value="cheque" selected>/);
  const tomorrow = await coordinator.postForm('/group/schedule/disbursements', { installmentId: startup.id, amount: '10', paidOn: '2027-02-02', method: 'cheque' });
  expect(tomorrow.status).toBe(400);
  expect(tomorrow.text).toContain('id="paidOn-error"');

  // The same refusals in French, with their figures (issue 18: French everywhere a person reads it).
  const frenchDate = await staff.postForm(`/staff/schedules/${scheduleId}/self-sufficient?lang=fr`, { on: '2026-01-01', reason: 'Both adults employed' });
  expect(frenchDate.text).toMatch(/id="on-error">Choisissez une date dans le calendrier, du 2027-02-01 au 2028-01-31\.</);
  const frenchAmount = await coordinator.postForm('/group/schedule/disbursements?lang=fr', { installmentId: startup.id, amount: '99999', paidOn: '2027-02-01', method: 'cheque' });
  expect(frenchAmount.text).toMatch(/id="amount-error">Le montant dépasse ce qui reste dû sur ce versement \(\d+\.\d{2} dollars\)\.</);
  // ?lang= is remembered in a cookie: back to English for the tests that follow.
  await staff.agent.get('/?lang=en');
  await coordinator.agent.get('/?lang=en');
});

test('instalments tapered to $0 by earned income settle themselves, are never overdue or reminded, and come back when income falls', async () => {
  const { family, group } = await matchedFamily();
  const created = await arrive(family.id, '2027-02-01');
  const scheduleId = Number(/\/(\d+)(?:\?|$)/.exec(created.headers.location!)![1]);
  // Cost table 2018, family of three: $20,400 a year = $1,700 a month; zero at 150 % = $2,550 of net income.
  await staff.postForm(`/staff/schedules/${scheduleId}/earnings`, { netIncome: '2550', effectiveOn: '2027-04-01' }).then((r) => expect(r.status).toBe(303));
  const lines = () => t.db.selectFrom('schedule_installments').select(['id', 'due_on', 'amount_cents', 'status']).where('schedule_id', '=', scheduleId).where('kind', '=', 'monthly').orderBy('due_on').orderBy('id').execute();
  const tapered = (await lines()).filter((l) => l.due_on >= '2027-04-01');
  expect(tapered.length).toBe(20);
  expect(tapered.every((l) => l.amount_cents === 0 && l.status === 'tapered')).toBe(true);

  // A year on, none of them is overdue: not on the staff lists, the dashboard, or in the coordinator's reminder.
  const later = '2028-03-01';
  const overdue = await overdueInstallments(t.db, later, 1000);
  const ids = new Set(tapered.map((l) => l.id));
  expect(overdue.filter((o) => ids.has(o.id))).toEqual([]);
  const overview = await supportOverview(t.db, later);
  expect(overview.overdueCount).toBe(overdue.length);
  const page = await staff.agent.get(`/staff/schedules/${scheduleId}`).expect(200);
  expect(page.text).toContain('Tapered to $0 (earned income)');
  await remindOverdueInstallments(t.db, later, 'http://haven.test');
  const reminded = await t.db.selectFrom('schedule_installments').select('id').where('id', 'in', [...ids]).where('reminded_at', 'is not', null).execute();
  expect(reminded).toEqual([]);
  // Nothing to pay on a tapered instalment.
  const coordinator = await signInMember(t, group.id, 'coordinator');
  expect((await coordinator.postForm('/group/schedule/disbursements', { installmentId: tapered[0]!.id, amount: '1', paidOn: '2027-02-01', method: 'cash' })).status).toBe(409);

  // Income falls: support comes back from that month, due again.
  await staff.postForm(`/staff/schedules/${scheduleId}/earnings`, { netIncome: '0', effectiveOn: '2027-06-01' }).then((r) => expect(r.status).toBe(303));
  const back = (await lines()).filter((l) => l.due_on >= '2027-06-01');
  expect(back.every((l) => l.status === 'due' && l.amount_cents === 85_000)).toBe(true);
  expect((await lines()).filter((l) => l.due_on >= '2027-04-01' && l.due_on < '2027-06-01').every((l) => l.status === 'tapered')).toBe(true);
});
