import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../../server/db/schema';
import { keyringOf } from '../../server/families/data-keys';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { remindOverdueInstallments } from '../../server/schedules/reminders';
import { createTestApp, type TestApp } from '../support/app';
import { fixedClock } from '../support/clock';
import { ledgerImbalance } from '../support/giving';
import { signInAs, type SignedIn } from '../support/session';
import { availableFamily, staffA, staffB } from '../families/factories';
import { signInMember } from '../groups/factories';
import { readyGroup } from '../matching/factories';

/**
 * Instalments planned at $0 (community rates of $0 income support) are `waived` from the start:
 * shown as "nothing due", never overdue (not on the staff dashboard, the schedules list or the
 * coordinators' reminders) and never paid. Unlike `tapered` (earned income), they were never owed.
 * One database for this file, so the dashboard's overdue count is exactly this schedule's.
 */
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

/** `<strong>Overdue</strong>` marks an overdue row on a schedule page. */
const overdueMarks = (html: string) => html.split('<strong>Overdue</strong>').length - 1;

test('instalments planned at $0 are waived: shown as nothing due, never overdue or reminded, and cannot be paid', async () => {
  const family = await availableFamily(t.db, keyringOf(familyKey), { adults: 2, children: 1 });
  const group = await readyGroup(t.db, { familySize: 3 });
  const match = await tx((trx) => proposeMatch(trx, t.config, staffA, { familyId: family.id, groupId: group.id }));
  await tx((trx) => approveMatch(trx, t.config, staffB, match.id));

  // Community rates: no income support from the group ($0 a year), $600 of start-up.
  const created = await staff.postForm(`/staff/families/${family.id}/arrival`, { arrivalOn: '2027-02-01', rates: 'community', annualIncomeSupport: '0', startup: '600' });
  expect(created.status).toBe(303);
  const scheduleId = Number(/\/(\d+)(?:\?|$)/.exec(created.headers.location!)![1]);
  const lines = await t.db.selectFrom('schedule_installments').select(['id', 'kind', 'amount_cents', 'status']).where('schedule_id', '=', scheduleId).orderBy('id').execute();
  const startup = lines.filter((l) => l.kind === 'startup');
  const monthly = lines.filter((l) => l.kind === 'monthly');
  expect(startup).toEqual([expect.objectContaining({ amount_cents: 60_000, status: 'due' })]);
  expect(monthly).toHaveLength(2 * 12); // two adult payees, twelve months
  expect(monthly.every((l) => l.amount_cents === 0 && l.status === 'waived')).toBe(true);

  // A year and a month on (the charity's today 2028-03-01), only the unpaid start-up is overdue.
  clock.set('2028-03-01T15:00:00Z');
  const page = await staff.agent.get(`/staff/schedules/${scheduleId}`).expect(200);
  expect(page.text.split('Nothing due ($0)').length - 1).toBe(24);
  expect(page.text).not.toContain('Tapered to $0');
  expect(overdueMarks(page.text)).toBe(1);
  const coordinator = await signInMember(t, group.id, 'coordinator');
  const groupPage = await coordinator.agent.get('/group/schedule').expect(200);
  expect(groupPage.text.split('Nothing due ($0)').length - 1).toBe(24);
  expect(overdueMarks(groupPage.text)).toBe(1);
  // A waived line is not offered in the disbursement form: only the start-up is.
  for (const line of monthly) expect(groupPage.text).not.toContain(`<option value="${line.id}"`);
  expect(groupPage.text).toContain(`<option value="${startup[0]!.id}"`);

  // The staff dashboard and the schedules list count one overdue instalment, not 25.
  const dashboard = await staff.agent.get('/staff').expect(200);
  expect(dashboard.text).toMatch(/<dt>Overdue instalments<\/dt><dd>1<\/dd>/);
  const list = await staff.agent.get('/staff/schedules').expect(200);
  expect(list.text).toMatch(new RegExp(`<a href="/staff/schedules/${scheduleId}">[^<]+</a></th>(<td>[^<]*</td>){4}<td class="num">1</td>`));
  expect(list.text.split(`<li><a href="/staff/schedules/${scheduleId}">`).length - 1).toBe(1);

  // The coordinators' reminder: one instalment, the $600 start-up; the waived lines are never marked reminded.
  const queued = await remindOverdueInstallments(t.db, '2028-03-01', 'http://haven.test');
  expect(queued).toBe(1);
  const mail = await t.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').executeTakeFirstOrThrow();
  const coordinatorEmail = (await t.db.selectFrom('group_members').select('email').where('group_id', '=', group.id).where('role', '=', 'coordinator').orderBy('id').executeTakeFirstOrThrow()).email;
  expect(mail.payload).toMatchObject({ to: coordinatorEmail, template: 'schedules/overdue', data: { count: 1, totalCents: 60_000 } });
  const reminded = await t.db.selectFrom('schedule_installments').select('id').where('schedule_id', '=', scheduleId).where('reminded_at', 'is not', null).execute();
  expect(reminded.map((r) => r.id)).toEqual([startup[0]!.id]);

  // Nothing can be paid on a waived line: refused as nothing due (not "already paid"), no money moves.
  const refused = await coordinator.postForm('/group/schedule/disbursements', { installmentId: monthly[0]!.id, amount: '1', paidOn: '2028-03-01', method: 'cash' });
  expect(refused.status).toBe(409);
  expect(refused.text).toContain('Nothing is due on this instalment');
  expect(refused.text).toContain('planned at $0');
  expect(refused.text).not.toContain('already paid');
  expect(await t.db.selectFrom('disbursements').select('id').execute()).toEqual([]);
  expect(await t.db.selectFrom('schedule_installments').select(['status', 'paid_cents']).where('id', '=', monthly[0]!.id).executeTakeFirstOrThrow()).toEqual({ status: 'waived', paid_cents: 0 });
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});
