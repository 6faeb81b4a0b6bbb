import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../server/db/schema';
import { keyringOf } from '../../server/families/data-keys';
import { fundingPosition } from '../../server/groups/readiness';
import { requireFamily, setFamilyStatus } from '../../server/families/families';
import { accounts } from '../../server/ledger/accounts';
import { balanceOf, postTransaction } from '../../server/ledger/ledger';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { disbursementReport } from '../../server/reports/reports';
import { recordArrival } from '../../server/schedules/arrivals';
import { availableFundsCents, groupForecast, overdueInstallments } from '../../server/schedules/schedule-queries';
import { remindOverdueInstallments } from '../../server/schedules/reminders';
import { decideExtension, extensionSupportCents, markSelfSufficient, recordDisbursement, reportEarnings, requestExtension, resumeSupport } from '../../server/schedules/support-schedules';
import { testConfig } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { availableFamily, staffA, staffB } from '../families/factories';
import { readyGroup } from '../matching/factories';

const config = testConfig();
const keyring = keyringOf(randomBytes(32));
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.destroy());

const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => t.db.transaction().execute(fn);

/** A family of four (two adults) matched and arrived on `arrivalOn`, with its group funded by `fundsCents`. */
async function arrivedFamily(arrivalOn: string, fundsCents = 4_000_000) {
  const family = await availableFamily(t.db, keyring, { adults: 2, children: 2 });
  const group = await readyGroup(t.db, { familySize: 4, fundsCents });
  const match = await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  await tx((trx) => approveMatch(trx, config, staffB, match.id));
  const scheduleId = await tx((trx) => recordArrival(trx, staffA, { familyId: family.id, arrivalOn }));
  return { family, group, scheduleId };
}

async function installments(scheduleId: number) {
  return t.db.selectFrom('schedule_installments').selectAll().where('schedule_id', '=', scheduleId).orderBy('due_on').orderBy('kind', 'desc').orderBy('payee_id').execute();
}

test('arrival creates start-up in month 1 and 12 months of support per adult, totalling the 2018 cost table for four', async () => {
  const { family, scheduleId } = await arrivedFamily('2027-01-31');
  const lines = await installments(scheduleId);
  const startup = lines.filter((l) => l.kind === 'startup');
  const monthly = lines.filter((l) => l.kind === 'monthly');
  expect(startup).toEqual([expect.objectContaining({ amount_cents: 750_000, due_on: '2027-01-31' })]);
  expect(monthly).toHaveLength(24);
  expect(monthly.reduce((s, l) => s + l.amount_cents, 0)).toBe(2_120_000);
  expect([...new Set(monthly.map((l) => l.due_on))].slice(0, 3)).toEqual(['2027-01-31', '2027-02-28', '2027-03-31']);
  expect((await requireFamily(t.db, family.id)).status).toBe('arrived');
});

test('a disbursement is a balanced ledger transaction that reduces the group fund; partial then full payment', async () => {
  const { family, group, scheduleId } = await arrivedFamily('2027-02-01');
  const [startup] = await installments(scheduleId);
  const before = await availableFundsCents(t.db, group.id);
  await tx((trx) => recordDisbursement(trx, { installmentId: startup!.id, amountCents: 500_000, paidOn: '2027-02-01', method: 'etransfer', reference: 'ET-1', actor: staffA, scope: { groupId: group.id } }));
  expect((await installments(scheduleId))[0]).toMatchObject({ status: 'partly_paid', paid_cents: 500_000 });
  await tx((trx) => recordDisbursement(trx, { installmentId: startup!.id, amountCents: 250_000, paidOn: '2027-02-03', method: 'cheque', reference: '101', actor: staffA, scope: { groupId: group.id } }));
  expect((await installments(scheduleId))[0]).toMatchObject({ status: 'paid', paid_cents: 750_000 });
  expect(await availableFundsCents(t.db, group.id)).toBe(before - 750_000);
  expect(await balanceOf(t.db, accounts.support({ groupId: group.id }))).toBe(750_000);
  const { rows } = await sql<{ total: number }>`select coalesce(sum(amount_cents), 0)::bigint as total from ledger_entries`.execute(t.db);
  expect(rows[0]!.total).toBe(0);
  // The staff report of disbursements names the family by case code only.
  const report = await disbursementReport(t.db);
  expect(report.rows).toContainEqual(expect.objectContaining({ groupId: group.id, caseCode: family.caseCode, disbursements: 2, totalCents: 750_000 }));

  await expect(tx((trx) => recordDisbursement(trx, { installmentId: startup!.id, amountCents: 1, paidOn: '2027-02-03', method: 'cash', reference: null, actor: staffA, scope: { groupId: group.id } }))).rejects.toMatchObject({ kind: 'conflict' });
  const other = await readyGroup(t.db);
  const [, firstMonth] = await installments(scheduleId);
  await expect(tx((trx) => recordDisbursement(trx, { installmentId: firstMonth!.id, amountCents: 100, paidOn: '2027-02-03', method: 'cash', reference: null, actor: staffA, scope: { groupId: other.id } }))).rejects.toMatchObject({ kind: 'forbidden' });
});

test('earned income recomputes later instalments by the rule, and a lower income restores them', async () => {
  const { group, scheduleId } = await arrivedFamily('2027-03-01');
  // $21,200 a year for four: months 1–8 are $1,766.67, months 9–12 $1,766.66. Income equal to
  // support (100%) halves it: reduced by income − support/2.
  await tx((trx) => reportEarnings(trx, { scheduleId, netIncomeCents: 176_667, effectiveOn: '2027-09-01', actor: staffA, scope: { groupId: group.id } }));
  const monthTotal = async (due: string) => (await installments(scheduleId)).filter((l) => l.kind === 'monthly' && l.due_on === due).reduce((s, l) => s + l.amount_cents, 0);
  expect(await monthTotal('2027-08-01')).toBe(176_667);
  expect(await monthTotal('2027-09-01')).toBe(88_334);
  expect(await monthTotal('2028-02-01')).toBe(88_332); // $1,766.66 support, income $883.34 over half
  await tx((trx) => reportEarnings(trx, { scheduleId, netIncomeCents: 0, effectiveOn: '2027-10-01', actor: staffA, scope: { groupId: group.id } }));
  expect(await monthTotal('2027-09-01')).toBe(88_334);
  expect(await monthTotal('2027-10-01')).toBe(176_667);
});

test('self-sufficiency ends the remaining instalments and resuming brings back those still ahead', async () => {
  const { family, group, scheduleId } = await arrivedFamily('2027-04-15');
  await tx((trx) => markSelfSufficient(trx, { scheduleId, on: '2027-08-01', reason: 'Both adults employed', actor: staffA, scope: { groupId: group.id } }));
  await tx((trx) => setFamilyStatus(trx, staffA, family.id, 'self_sufficient'));
  const ended = (await installments(scheduleId)).filter((l) => l.status === 'skipped');
  expect(ended).toHaveLength(2 * 8); // Aug 2027 … Mar 2028, two payees
  await tx((trx) => resumeSupport(trx, { scheduleId, on: '2027-11-01', reason: 'Job lost', actor: staffA, scope: 'staff' }));
  const after = await installments(scheduleId);
  expect(after.filter((l) => l.status === 'skipped').map((l) => l.due_on)).toEqual(['2027-08-15', '2027-08-15', '2027-09-15', '2027-09-15', '2027-10-15', '2027-10-15']);
  const events = await t.db.selectFrom('schedule_events').select('kind').where('schedule_id', '=', scheduleId).orderBy('id').execute();
  expect(events.map((e) => e.kind)).toEqual(['arrived', 'self_sufficient', 'resumed']);
});

test('extensions add months up to 36 in all and grow the group requirement; beyond 36 is refused', async () => {
  const { group, scheduleId } = await arrivedFamily('2027-05-31');
  const first = await tx((trx) => requestExtension(trx, { scheduleId, months: 12, reason: 'Medical recovery', actor: staffA, scope: { groupId: group.id } }));
  await tx((trx) => decideExtension(trx, { requestId: first, approve: true, reason: 'IRCC agreed', actor: staffB }));
  expect((await installments(scheduleId)).filter((l) => l.kind === 'monthly')).toHaveLength(2 * 24);
  expect(await extensionSupportCents(t.db, group.id)).toBe(2_120_000);
  // The group's requirement (and public target) grows by the extension: $28,700 + $21,200.
  expect((await fundingPosition(t.db, group.id)).requirementCents).toBe(2_870_000 + 2_120_000);
  await expect(tx((trx) => requestExtension(trx, { scheduleId, months: 13, reason: 'More', actor: staffA, scope: 'staff' }))).rejects.toMatchObject({ kind: 'invalid' });
  const second = await tx((trx) => requestExtension(trx, { scheduleId, months: 12, reason: 'More', actor: staffA, scope: 'staff' }));
  await tx((trx) => decideExtension(trx, { requestId: second, approve: true, reason: 'Exceptional', actor: staffB }));
  const monthly = (await installments(scheduleId)).filter((l) => l.kind === 'monthly');
  expect(monthly).toHaveLength(2 * 36);
  expect(monthly.at(-1)!.due_on).toBe('2030-04-30');
});

test('the group forecast flags the first month its money runs out', async () => {
  // The group was funded to its requirement ($28,700), then $18,000 of it was reallocated:
  // $10,700 left, start-up $7,500 due at once, then about $1,767 a month.
  const { group } = await arrivedFamily('2027-06-01', 2_870_000);
  await tx((trx) =>
    postTransaction(trx, {
      kind: 'test_reallocation',
      description: 'constructed case',
      entries: [
        { account: accounts.fund({ groupId: group.id }), amountCents: 1_800_000 },
        { account: accounts.fund({ groupId: null }), amountCents: -1_800_000 },
      ],
    }),
  );
  const rows = await groupForecast(t.db, group.id, '2027-06-01');
  expect(rows[0]).toMatchObject({ month: '2027-06', short: false, balanceCents: 1_070_000 - 750_000 - 176_667 });
  expect(rows.find((r) => r.short)?.month).toBe('2027-07');
  expect(await overdueInstallments(t.db, '2027-06-02')).toEqual(expect.arrayContaining([expect.objectContaining({ group_id: group.id, due_on: '2027-06-01' })]));
});

test('overdue instalments e-mail the coordinator once a week, with no family details', async () => {
  const { group } = await arrivedFamily('2027-07-01');
  const queued = await remindOverdueInstallments(t.db, '2027-09-15', 'http://haven.test');
  expect(queued).toBeGreaterThanOrEqual(1);
  const mails = await t.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').limit(queued).execute();
  const coordinator = await t.db.selectFrom('group_members').select('email').where('group_id', '=', group.id).where('role', '=', 'coordinator').executeTakeFirstOrThrow();
  const mine = mails.map((m) => m.payload as { to: string; template: string; data: Record<string, unknown> }).find((p) => p.to === coordinator.email);
  // Start-up plus July, August and September for each of the two adults.
  expect(mine).toMatchObject({ template: 'schedules/overdue', data: { count: 7 } });
  expect(JSON.stringify(mine)).not.toMatch(/SENTINEL/);
  expect(await remindOverdueInstallments(t.db, '2027-09-16', 'http://haven.test')).toBe(0);
});
