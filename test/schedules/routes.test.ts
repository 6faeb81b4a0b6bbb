import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../../server/db/schema';
import { keyringOf } from '../../server/families/data-keys';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { createTestApp, type TestApp } from '../support/app';
import { fixedClock } from '../support/clock';
import { signInAs } from '../support/session';
import { availableFamily, SENTINELS, staffA, staffB } from '../families/factories';
import { signInMember } from '../groups/factories';
import { readyGroup } from '../matching/factories';

// The app's own key: arrival reads the members' birth months from the identity these tests seal.
const familyKey = randomBytes(32);
let t: TestApp;
beforeAll(async () => {
  // The charity's today is after the arrival these tests record: a payment to the family is never dated in the future (issue 15).
  t = await createTestApp({ FAMILY_DATA_KEY: familyKey.toString('hex') }, (deps) => ({ ...deps, clock: fixedClock('2027-02-15T17:00:00Z') }));
});
afterAll(() => t.destroy());

function expectStatus<R extends { status: number; text: string }>(res: R, status: number): R {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text.slice(0, 300)}`);
  return res;
}

const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => t.db.transaction().execute(fn);

test('staff record arrival, the group records a disbursement and sees its schedule and forecast, without the family identity', async () => {
  const family = await availableFamily(t.db, keyringOf(familyKey), { adults: 1, children: 1 });
  const group = await readyGroup(t.db, { familySize: 2 });
  const match = await tx((trx) => proposeMatch(trx, t.config, staffA, { familyId: family.id, groupId: group.id }));
  await tx((trx) => approveMatch(trx, t.config, staffB, match.id));

  const staff = await signInAs(t, 'staff');
  const list = await staff.agent.get('/staff/schedules').expect(200);
  expect(list.text).toContain(`/staff/families/${family.id}/arrival`);

  const bad = expectStatus(await staff.postForm(`/staff/families/${family.id}/arrival`, { arrivalOn: '2027-02-30', rates: 'cost_table' }), 400);
  expect(bad.text).toContain('Enter a date as YYYY-MM-DD.');
  expect(await t.db.selectFrom('support_schedules').select('id').execute()).toEqual([]);

  const created = expectStatus(await staff.postForm(`/staff/families/${family.id}/arrival`, { arrivalOn: '2027-01-31', rates: 'cost_table' }), 303);
  const scheduleId = Number(/\/(\d+)(?:\?|$)/.exec(created.headers.location!)![1]);
  const detail = await staff.agent.get(`/staff/schedules/${scheduleId}`).expect(200);
  expect(detail.text).toContain(family.caseCode);
  expect(detail.text).toContain('<svg class="forecast__chart"');

  const coordinator = await signInMember(t, group.id, 'coordinator');
  const page = await coordinator.agent.get('/group/schedule').expect(200);
  expect(page.text).toContain('$5,100.00'); // start-up for a family of two, 2018 edition
  for (const sentinel of Object.values(SENTINELS)) expect(page.text).not.toContain(sentinel);
  expect(page.text).not.toContain(family.caseCode);

  const startup = await t.db.selectFrom('schedule_installments').select('id').where('schedule_id', '=', scheduleId).where('kind', '=', 'startup').executeTakeFirstOrThrow();
  // A plain member sees the schedule but records no money and decides nothing about the family's support.
  const member = await signInMember(t, group.id, 'member');
  const seen = await member.agent.get('/group/schedule').expect(200);
  expect(seen.text).toContain('treasurer or coordinator records payments and income.');
  expect(seen.text).not.toContain('action="/group/schedule/disbursements"');
  expect(seen.text).not.toContain('action="/group/schedule/self-sufficient"');
  expectStatus(await member.postForm('/group/schedule/disbursements', { installmentId: startup.id, amount: '5,100', paidOn: '2027-01-31', method: 'cash' }), 403);
  expectStatus(await member.postForm('/group/schedule/earnings', { netIncome: '3000', effectiveOn: '2027-03-01' }), 403);
  expectStatus(await member.postForm('/group/schedule/self-sufficient', { on: '2027-03-01', reason: 'They have jobs' }), 403);
  expectStatus(await member.postForm('/group/schedule/extensions', { months: '6', reason: 'Longer' }), 403);
  expect(await t.db.selectFrom('disbursements').select('id').execute()).toEqual([]);
  const tooMuch = expectStatus(await coordinator.postForm('/group/schedule/disbursements', { installmentId: startup.id, amount: '5,100.01', paidOn: '2027-01-31', method: 'etransfer', reference: 'ET-9' }), 400);
  expect(tooMuch.text).toContain('more than what remains due');
  expectStatus(await coordinator.postForm('/group/schedule/disbursements', { installmentId: startup.id, amount: '5,100', paidOn: '2027-01-31', method: 'etransfer', reference: 'ET-9' }), 303);
  const row = await t.db.selectFrom('schedule_installments').select(['status', 'paid_cents']).where('id', '=', startup.id).executeTakeFirstOrThrow();
  expect(row).toEqual({ status: 'paid', paid_cents: 510_000 });

  // Another group's member cannot touch this schedule: their own has none.
  const other = await readyGroup(t.db);
  const outsider = await signInMember(t, other.id, 'coordinator');
  expectStatus(await outsider.postForm('/group/schedule/disbursements', { installmentId: startup.id, amount: '1', paidOn: '2027-01-31', method: 'cash' }), 404);
  expect((await outsider.agent.get('/group/schedule').expect(200)).text).toContain('no support schedule yet');
});
