import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { Transaction } from 'kysely';
import type { Database } from '../../server/db/schema';
import { keyringOf } from '../../server/families/data-keys';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { recordArrival } from '../../server/schedules/arrivals';
import { adultFromMonth, resplitMonth } from '../../server/schedules/schedule-plan';
import { addComingOfAgePayee } from '../../server/schedules/support-schedules';
import { testConfig } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { availableFamily, SENTINELS, staffA, staffB } from '../families/factories';
import { readyGroup } from '../matching/factories';

const config = testConfig();
const keyring = keyringOf(randomBytes(32));
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.destroy());

const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => t.db.transaction().execute(fn);

test('the month a child becomes their own payee: the first due date in or after the month they turn 18', () => {
  expect(adultFromMonth('2027-01-15', { year: 2009, month: 5 }, 12)).toBe(5); // 18 in May 2027; month 5 is due 2027-05-15
  expect(adultFromMonth('2027-01-15', { year: 2009, month: 1 }, 12)).toBe(1); // 18 in the month of arrival
  expect(adultFromMonth('2027-01-15', { year: 2008, month: 6 }, 12)).toBe(1); // already 18
  expect(adultFromMonth('2027-01-15', { year: 2009, month: 12 }, 12)).toBe(12);
  expect(adultFromMonth('2027-01-15', { year: 2010, month: 1 }, 12)).toBeNull(); // after the last month (December 2027)
  expect(adultFromMonth('2027-01-15', { year: 2010, month: 1 }, 13)).toBe(13); // an extended schedule reaches it
  expect(adultFromMonth('2027-01-31', { year: 2009, month: 2 }, 12)).toBe(2); // due 2027-02-28
});

test('a re-split month keeps its total to the cent and shares it evenly', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 500_000 }), { minLength: 1, maxLength: 8 }), (shares) => {
      const after = resplitMonth(shares, shares.length + 1);
      expect(after).toHaveLength(shares.length + 1);
      expect(after.reduce((a, b) => a + b, 0)).toBe(shares.reduce((a, b) => a + b, 0));
      expect(Math.max(...after) - Math.min(...after)).toBeLessThanOrEqual(1);
    }),
  );
});

test('a child turning 18 during the schedule re-splits it exactly from that month, and the group is told counts only', async () => {
  const family = await availableFamily(t.db, keyring, { adults: 2, children: 2 });
  const group = await readyGroup(t.db, { familySize: 4 });
  const match = await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  await tx((trx) => approveMatch(trx, config, staffB, match.id));
  const scheduleId = await tx((trx) => recordArrival(trx, staffA, { familyId: family.id, arrivalOn: '2027-01-15' }));
  const monthly = () =>
    t.db
      .selectFrom('schedule_installments')
      .innerJoin('schedule_payees', 'schedule_payees.id', 'schedule_installments.payee_id')
      .select(['month_index', 'amount_cents', 'position', 'due_on'])
      .where('schedule_installments.schedule_id', '=', scheduleId)
      .where('kind', '=', 'monthly')
      .orderBy('month_index')
      .orderBy('position')
      .execute();
  const totals = (rows: Awaited<ReturnType<typeof monthly>>) => {
    const byMonth = new Map<number, number[]>();
    for (const r of rows) byMonth.set(r.month_index, [...(byMonth.get(r.month_index) ?? []), r.amount_cents]);
    return byMonth;
  };
  const before = totals(await monthly());
  await t.db.deleteFrom('outbox').execute();

  const from = await tx((trx) => addComingOfAgePayee(trx, { scheduleId, birth: { year: 2009, month: 5 }, actor: staffA, publicUrl: 'http://haven.test' }));
  expect(from).toBe(5);
  const rows = await monthly();
  const after = totals(rows);
  for (let month = 1; month <= 12; month++) {
    const shares = after.get(month)!;
    // Month totals unchanged: the sum of the shares is the month's planned support.
    expect(shares.reduce((a, b) => a + b, 0)).toBe(before.get(month)!.reduce((a, b) => a + b, 0));
    if (month < 5) expect(shares).toEqual(before.get(month));
    else {
      expect(shares).toHaveLength(3);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
  }
  // The year still pays the cost table's income support for four (shared/DOMAIN.md: $21,200).
  expect(rows.reduce((s, r) => s + r.amount_cents, 0)).toBe(2_120_000);
  // The new payee's lines fall on the same due dates as the others'.
  expect(rows.filter((r) => r.position === 3).map((r) => r.due_on)).toEqual(rows.filter((r) => r.position === 1 && r.month_index >= 5).map((r) => r.due_on));

  const mail = await t.db.selectFrom('outbox').select('payload').execute();
  expect(mail).toHaveLength(1);
  expect(mail[0]!.payload).toMatchObject({ template: 'schedules/payee-added', data: { month: 5, payees: 3 } });
  const text = JSON.stringify(mail[0]!.payload);
  for (const secret of Object.values(SENTINELS)) expect(text).not.toContain(secret);
  expect(text).not.toContain('2009');

  // Turning 18 after the schedule ends, or being 18 already at arrival (counted among the adults), changes nothing.
  expect(await tx((trx) => addComingOfAgePayee(trx, { scheduleId, birth: { year: 2008, month: 11 }, actor: staffA, publicUrl: 'http://haven.test' }))).toBeNull();
  expect(await tx((trx) => addComingOfAgePayee(trx, { scheduleId, birth: { year: 2012, month: 1 }, actor: staffA, publicUrl: 'http://haven.test' }))).toBeNull();
  expect(await monthly()).toHaveLength(rows.length);
});
