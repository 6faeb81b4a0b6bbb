import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../../server/db/schema';
import { setFamilyStatus } from '../../server/families/families';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { createTestApp, type TestApp } from '../support/app';
import { fixedClock } from '../support/clock';
import { signInAs, type TestVisitor } from '../support/session';
import { SENTINELS, staffA, staffB } from '../families/factories';
import { readyGroup } from '../matching/factories';

/**
 * Issue 19: the members' birth year and month live in the protected identity only; at arrival a
 * child who turns 18 during the schedule becomes their own payee from that month. The references
 * are shared/DOMAIN.md's cost table (a family of four: $21,200 of income support in the year) and
 * a twin family registered without birth months, whose schedule the split must keep month by month.
 */
const familyKey = randomBytes(32);
let t: TestApp;
let staff: TestVisitor;
beforeAll(async () => {
  t = await createTestApp({ FAMILY_DATA_KEY: familyKey.toString('hex') }, (deps) => ({ ...deps, clock: fixedClock('2027-02-15T17:00:00Z') }));
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => t.db.transaction().execute(fn);

const PROFILE = { adults: 2, children: 2, languages: 'ko', needs: 'childcare', preferredRegion: 'ON', vettingStatus: 'cleared', vettedOn: '2026-10-01' };
// Two parents, a child who turns 18 in May 2027 (month 5 of a schedule from 2027-01-15) and a younger one.
const BIRTHS = '1980-03, 1982-07\n2009-05, 2015-01';

async function register(birthMonths: string): Promise<number> {
  const created = await staff.postForm('/staff/families', { ...PROFILE, ...SENTINELS, birthMonths });
  expect(created.status).toBe(303);
  const familyId = Number(/\/staff\/families\/(\d+)(?:\?|$)/.exec(created.headers.location!)![1]);
  await tx((trx) => setFamilyStatus(trx, staffA, familyId, 'available'));
  return familyId;
}

async function arrive(familyId: number): Promise<number> {
  const group = await readyGroup(t.db, { familySize: 4 });
  const match = await tx((trx) => proposeMatch(trx, t.config, staffA, { familyId, groupId: group.id }));
  await tx((trx) => approveMatch(trx, t.config, staffB, match.id));
  const created = await staff.postForm(`/staff/families/${familyId}/arrival`, { arrivalOn: '2027-01-15', rates: 'cost_table' });
  expect(created.status).toBe(303);
  return Number(created.headers.location!.split('?')[0]!.split('/').pop());
}

async function monthlyShares(scheduleId: number): Promise<Map<number, number[]>> {
  const rows = await t.db
    .selectFrom('schedule_installments')
    .innerJoin('schedule_payees', 'schedule_payees.id', 'schedule_installments.payee_id')
    .select(['month_index', 'amount_cents'])
    .where('schedule_installments.schedule_id', '=', scheduleId)
    .where('kind', '=', 'monthly')
    .orderBy('month_index')
    .orderBy('position')
    .execute();
  const byMonth = new Map<number, number[]>();
  for (const r of rows) byMonth.set(r.month_index, [...(byMonth.get(r.month_index) ?? []), r.amount_cents]);
  return byMonth;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

test('the staff form refuses a birth month in the future or more than 100 years ago, beside the field, keeping what was typed', async () => {
  const before = await t.db.selectFrom('families').select('id').execute();
  for (const [typed, message] of [
    ['1980-03, 2027-03', 'A birth month cannot be in the future or more than 100 years ago.'], // after February 2027, the charity's today
    ['1926-12, 2009-05', 'A birth month cannot be in the future or more than 100 years ago.'], // more than 100 years before February 2027
    ['2009-13', 'Write each member’s birth year and month as 2009-05, separated by commas.'],
    ['May 2009', 'Write each member’s birth year and month as 2009-05, separated by commas.'],
  ] as const) {
    const refused = await staff.postForm('/staff/families', { ...PROFILE, ...SENTINELS, birthMonths: typed });
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(new RegExp(`id="birthMonths"[^>]*value="${typed}"[^>]*aria-invalid="true">(<[^>]+>)?<p class="field-error" id="birthMonths-error">${message.replace(/[.()]/g, '\\$&')}</p>`));
  }
  expect(await t.db.selectFrom('families').select('id').execute()).toEqual(before);
  // 100 years to the month is still accepted.
  const family = await register('1927-02');
  expect(family).toBeGreaterThan(0);
});

test('editing the birth months on the family page is checked the same way, and what was typed comes back', async () => {
  const familyId = await register('');
  const refused = await staff.postForm(`/staff/families/${familyId}/identity`, { fields: 'birthMonths', birthMonths: '2031-01' });
  expect(refused.status).toBe(400);
  expect(refused.text).toContain('2031-01');
  expect(refused.text).toContain('A birth month cannot be in the future or more than 100 years ago.');
  expect((await staff.postForm(`/staff/families/${familyId}/identity`, { fields: 'birthMonths', birthMonths: BIRTHS })).status).toBe(303);
});

test('a child who turns 18 in month 5 is their own payee from month 5: totals kept to the cent, coordinators told counts only, birth months shown nowhere', async () => {
  const twin = await arrive(await register(''));
  const familyId = await register(BIRTHS);
  await t.db.deleteFrom('outbox').execute();
  const scheduleId = await arrive(familyId);

  const reference = await monthlyShares(twin);
  const shares = await monthlyShares(scheduleId);
  expect([...shares.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  for (const [month, own] of shares) {
    // The month's total is the twin's, to the cent.
    expect(sum(own)).toBe(sum(reference.get(month)!));
    // Two payees (the adults) until April, three from May, shared evenly to the cent.
    expect(own).toHaveLength(month < 5 ? 2 : 3);
    if (month < 5) expect(own).toEqual(reference.get(month));
    expect(Math.max(...own) - Math.min(...own)).toBeLessThanOrEqual(1);
  }
  // shared/DOMAIN.md's cost table: income support for four is $21,200 a year.
  expect(sum([...shares.values()].flat())).toBe(2_120_000);
  const payees = await t.db.selectFrom('schedule_payees').select('position').where('schedule_id', '=', scheduleId).execute();
  expect(payees).toHaveLength(3);

  const mail = await t.db.selectFrom('outbox').select('payload').execute();
  const added = mail.filter((m) => (m.payload as { template?: string }).template === 'schedules/payee-added');
  expect(added).toHaveLength(1);
  expect(added[0]!.payload).toMatchObject({ data: { month: 5, payees: 3 } });
  const everything = JSON.stringify(mail);
  for (const secret of ['1980', '1982', '2009', '2015', ...Object.values(SENTINELS)]) expect(everything).not.toContain(secret);

  // The read at arrival is audited with the field's name only.
  const audit = await t.db.selectFrom('audit_log').select('details').where('action', '=', 'family_identity.viewed').where('subject', '=', `family:${familyId}`).execute();
  expect(audit.map((a) => a.details)).toEqual([{ purpose: 'support_schedule', fields: ['birthMonths'] }]);
  expect(JSON.stringify(await t.db.selectFrom('audit_log').select('details').execute())).not.toContain('2009-05');
  const auditPage = await staff.agent.get(`/staff/audit?action=family_identity.viewed&subject=family:${familyId}`).expect(200);
  expect(auditPage.text).toContain('the arrival was recorded: the support schedule’s payees who turn 18');

  // Neither the family page (before a reveal) nor the schedule pages carry them.
  for (const path of [`/staff/families/${familyId}`, `/staff/schedules/${scheduleId}`]) {
    const page = await staff.agent.get(path).expect(200);
    expect(page.text).not.toContain('2009-05');
    expect(page.text).not.toContain('1980-03');
  }
});

test('more members aged 18 at arrival than the profile has adults is refused with the arrival form, and nothing is created', async () => {
  const familyId = await register('1980-03, 1982-07, 2008-06, 2015-01'); // the third is 18 before the schedule's first month
  const group = await readyGroup(t.db, { familySize: 4 });
  const match = await tx((trx) => proposeMatch(trx, t.config, staffA, { familyId, groupId: group.id }));
  await tx((trx) => approveMatch(trx, t.config, staffB, match.id));
  const refused = await staff.postForm(`/staff/families/${familyId}/arrival`, { arrivalOn: '2027-01-15', rates: 'cost_table' });
  expect(refused.status).toBe(400);
  expect(refused.text).toContain('The birth months show more members aged 18 or over at arrival than the profile’s adults.');
  expect(refused.text).toContain('value="2027-01-15"');
  expect(await t.db.selectFrom('support_schedules').select('id').where('family_id', '=', familyId).execute()).toEqual([]);
});
