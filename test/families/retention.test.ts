import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../server/db/schema';
import { keyringOf } from '../../server/families/data-keys';
import { requireFamily, setFamilyStatus } from '../../server/families/families';
import { IDENTITY_FIELDS, saveFamilyIdentity, viewFamilyIdentity } from '../../server/families/identities';
import { applyIdentityRetention, listEndedSupport, type RetentionSettings } from '../../server/families/retention';
import { accounts } from '../../server/ledger/accounts';
import { balanceOf } from '../../server/ledger/ledger';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { renderEmail } from '../../server/notifications/emails';
import { recordArrival } from '../../server/schedules/arrivals';
import { decideExtension, markSelfSufficient, recordDisbursement, requestExtension, resumeSupport } from '../../server/schedules/support-schedules';
import { testConfig } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { availableFamily, SENTINELS, staffA, staffB } from './factories';
import { readyGroup } from '../matching/factories';

/**
 * Keep no longer than needed: a family's identity is deleted 12 months (the configured period)
 * after its support ended, staff are warned 30 days before, and only the encrypted row goes.
 * Dates are the charity's calendar dates, passed in as "today".
 */
const config = testConfig();
const keyring = keyringOf(randomBytes(32));
const settings: RetentionSettings = { retentionMonths: 12, publicUrl: 'http://haven.test', privacyOfficerEmail: 'privacy@hanvoice.test' };
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.destroy());

const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => t.db.transaction().execute(fn);
const reveal = (familyId: number, k = keyring) => tx((trx) => viewFamilyIdentity(trx, k, staffA, familyId, { purpose: 'staff_reveal', fields: IDENTITY_FIELDS, reason: 'Retention test' }));

async function arrivedFamily(arrivalOn: string) {
  const family = await availableFamily(t.db, keyring, { adults: 2, children: 2 });
  const group = await readyGroup(t.db, { familySize: 4 });
  const match = await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  await tx((trx) => approveMatch(trx, config, staffB, match.id));
  const scheduleId = await tx((trx) => recordArrival(trx, staffA, { familyId: family.id, arrivalOn }));
  return { family, group, scheduleId };
}

async function audit(familyId: number, action: string) {
  return t.db.selectFrom('audit_log').select(['actor_label', 'details']).where('subject', '=', `family:${familyId}`).where('action', '=', action).execute();
}

async function outboxFor(familyId: number) {
  const rows = await t.db.selectFrom('outbox').select('payload').execute();
  return rows.map((r) => r.payload as { to: string; template: string; data: { familyId: number } }).filter((p) => p.template === 'families/identity-purge-warning' && p.data.familyId === familyId);
}

test('a closed family: warned 30 days before, then only its encrypted identity is deleted 12 months after closing, audited, for good', async () => {
  const { family, group, scheduleId } = await arrivedFamily('2026-01-05');
  const startup = await t.db.selectFrom('schedule_installments').select('id').where('schedule_id', '=', scheduleId).where('kind', '=', 'startup').executeTakeFirstOrThrow();
  await tx((trx) => recordDisbursement(trx, { installmentId: startup.id, amountCents: 120_000, paidOn: '2026-01-06', method: 'etransfer', reference: null, actor: staffA, scope: 'staff' }));
  await tx((trx) => setFamilyStatus(trx, staffA, family.id, 'closed', '2026-03-15'));
  const before = {
    installments: (await t.db.selectFrom('schedule_installments').select('id').where('schedule_id', '=', scheduleId).execute()).length,
    support: await balanceOf(t.db, accounts.support({ groupId: group.id })),
  };

  // 31 days before: nothing yet.
  expect(await applyIdentityRetention(t.db, settings, '2027-02-12')).toMatchObject({ purged: [], warned: [] });
  // 30 days before: one warning per family, with ids and a link only.
  expect((await applyIdentityRetention(t.db, settings, '2027-02-13')).warned).toEqual([family.id]);
  expect((await applyIdentityRetention(t.db, settings, '2027-02-20')).warned).toEqual([]);
  const mails = await outboxFor(family.id);
  expect(mails).toHaveLength(1);
  const rendered = renderEmail({ ...mails[0]!, locale: 'en' } as Parameters<typeof renderEmail>[0]);
  expect(rendered.to).toBe('privacy@hanvoice.test');
  expect(rendered.subject).toBe(`Family record ${family.id}: its identity will be deleted on 2027-03-15`);
  expect(rendered.text).toContain(`http://haven.test/staff/families/${family.id}`);
  for (const value of [...Object.values(SENTINELS), family.caseCode]) expect(rendered.subject + rendered.text).not.toContain(value);
  expect(await reveal(family.id)).toEqual(SENTINELS);

  // The day before, still kept; on the day, deleted.
  expect((await applyIdentityRetention(t.db, settings, '2027-03-14')).purged).toEqual([]);
  expect((await applyIdentityRetention(t.db, settings, '2027-03-15')).purged).toEqual([family.id]);
  const rows = await sql<{ n: number }>`select count(*)::bigint as n from family_identities where family_id = ${family.id}`.execute(t.db);
  expect(rows.rows[0]!.n).toBe(0);
  // The rest is intact: case code, profile, schedule and money.
  const kept = await requireFamily(t.db, family.id);
  expect(kept).toMatchObject({ caseCode: family.caseCode, status: 'closed', size: 4, supportEndedOn: '2026-03-15' });
  expect(kept.identityPurgedAt).toBeInstanceOf(Date);
  expect((await t.db.selectFrom('schedule_installments').select('id').where('schedule_id', '=', scheduleId).execute()).length).toBe(before.installments);
  expect(await balanceOf(t.db, accounts.support({ groupId: group.id }))).toBe(before.support);
  // Audited once, without values; a second run changes nothing.
  expect((await applyIdentityRetention(t.db, settings, '2027-04-01')).purged).toEqual([]);
  const purges = await audit(family.id, 'family_identity.purged');
  expect(purges).toEqual([{ actor_label: 'retention job', details: { reason: 'closed', supportEndedOn: '2026-03-15', purgeOn: '2027-03-15', retentionMonths: 12, hadIdentity: true } }]);
  // Irreversible: nothing can be seen, and nothing can be written back.
  expect(await reveal(family.id)).toEqual({ names: '', datesOfBirth: '', governmentFileNumbers: '', contact: '', currentLocation: '', notes: '', birthMonths: '' });
  await expect(tx((trx) => saveFamilyIdentity(trx, keyring, staffA, family.id, SENTINELS))).rejects.toMatchObject({ kind: 'conflict' });
});

test('a withdrawn family is purged after the configured period (here 3 months)', async () => {
  const family = await availableFamily(t.db, keyring);
  await tx((trx) => setFamilyStatus(trx, staffA, family.id, 'withdrawn', '2026-05-31'));
  const short = { ...settings, retentionMonths: 3 };
  expect((await applyIdentityRetention(t.db, short, '2026-08-01')).warned).toEqual([family.id]);
  expect((await applyIdentityRetention(t.db, short, '2026-08-30')).purged).toEqual([]);
  expect((await applyIdentityRetention(t.db, short, '2026-08-31')).purged).toEqual([family.id]);
});

test('a self-sufficient family is kept until 12 months after its schedule term, not after the day it became self-sufficient', async () => {
  const { family, scheduleId } = await arrivedFamily('2026-02-01');
  await tx((trx) => markSelfSufficient(trx, { scheduleId, on: '2026-06-01', reason: 'Employed', actor: staffA, scope: 'staff' }));
  const [ended] = (await listEndedSupport(t.db, 12, '2026-07-01')).filter((f) => f.familyId === family.id);
  // The 12-month term ends 2027-02-01 (support can resume until then): purge on 2028-02-01.
  expect(ended).toMatchObject({ reason: 'self_sufficient', supportEndedOn: '2027-02-01', purgeOn: '2028-02-01' });
  // A pending extension keeps the term open; resuming support stops the clock.
  const request = await tx((trx) => requestExtension(trx, { scheduleId, months: 6, reason: 'Medical', actor: staffA, scope: 'staff' }));
  expect(request).toBeGreaterThan(0);
  expect((await listEndedSupport(t.db, 12, '2026-07-01')).map((f) => f.familyId)).not.toContain(family.id);
  await tx((trx) => resumeSupport(trx, { scheduleId, on: '2026-07-01', reason: 'Job lost', actor: staffA, scope: 'staff' }));
  expect((await listEndedSupport(t.db, 12, '2026-07-01')).map((f) => f.familyId)).not.toContain(family.id);
});

test('a family taken back out of closed stops the clock, and a warning sent late still gives staff 30 days', async () => {
  const family = await availableFamily(t.db, keyring);
  await tx((trx) => setFamilyStatus(trx, staffA, family.id, 'closed', '2026-01-10'));
  await tx((trx) => setFamilyStatus(trx, staffA, family.id, 'referred'));
  expect((await listEndedSupport(t.db, 12, '2027-06-01')).map((f) => f.familyId)).not.toContain(family.id);

  await tx((trx) => setFamilyStatus(trx, staffA, family.id, 'closed', '2026-01-10'));
  // The job did not run for months (or the period was shortened): its day is past, but no warning went out.
  const late = await applyIdentityRetention(t.db, settings, '2027-06-01');
  expect(late).toMatchObject({ warned: [family.id], purged: [] });
  expect((await applyIdentityRetention(t.db, settings, '2027-06-30')).purged).toEqual([]);
  expect((await applyIdentityRetention(t.db, settings, '2027-07-01')).purged).toEqual([family.id]);
});

test('a dry run reports what is due and changes nothing', async () => {
  const family = await availableFamily(t.db, keyring);
  await tx((trx) => setFamilyStatus(trx, staffA, family.id, 'closed', '2025-01-01'));
  const run = await applyIdentityRetention(t.db, settings, '2027-01-01', { dryRun: true });
  expect(run.due.map((f) => f.familyId)).toContain(family.id);
  expect(run).toMatchObject({ purged: [], warned: [] });
  expect((await requireFamily(t.db, family.id)).identityPurgedAt).toBeNull();
  expect(await outboxFor(family.id)).toEqual([]);
});

// The families below are still `arrived`: nobody marked their support as ended. Other tests'
// families share the database, so these check membership rather than whole lists.
const endedIds = async (today: string) => (await listEndedSupport(t.db, 12, today)).map((f) => f.familyId);

test('a schedule that ran its full term ends support without staff action: warned 30 days before, purged 12 months after its end', async () => {
  const { family, scheduleId } = await arrivedFamily('2026-01-05');
  // Twelve monthly instalments, the last due 2026-12-05: support ends on the charity's 2027-01-05.
  expect(await endedIds('2027-01-04')).not.toContain(family.id);
  const [ended] = (await listEndedSupport(t.db, 12, '2027-01-05')).filter((f) => f.familyId === family.id);
  expect(ended).toMatchObject({ reason: 'term_ended', supportEndedOn: '2027-01-05', purgeOn: '2028-01-05', warnOn: '2027-12-06', warned: false });

  expect((await applyIdentityRetention(t.db, settings, '2027-12-05')).warned).not.toContain(family.id);
  expect((await applyIdentityRetention(t.db, settings, '2027-12-06')).warned).toContain(family.id);
  expect(await outboxFor(family.id)).toHaveLength(1);
  expect((await applyIdentityRetention(t.db, settings, '2028-01-04')).purged).not.toContain(family.id);
  expect((await applyIdentityRetention(t.db, settings, '2028-01-05')).purged).toContain(family.id);

  const rows = await sql<{ n: number }>`select count(*)::bigint as n from family_identities where family_id = ${family.id}`.execute(t.db);
  expect(rows.rows[0]!.n).toBe(0);
  // Nothing else changed: the family is still recorded as arrived, its schedule intact.
  expect(await requireFamily(t.db, family.id)).toMatchObject({ status: 'arrived', supportEndedOn: null, caseCode: family.caseCode });
  expect(await t.db.selectFrom('support_schedules').select(['months', 'status']).where('id', '=', scheduleId).executeTakeFirstOrThrow()).toEqual({ months: 12, status: 'active' });
  expect(await audit(family.id, 'family_identity.purged')).toEqual([
    { actor_label: 'retention job', details: { reason: 'term_ended', supportEndedOn: '2027-01-05', purgeOn: '2028-01-05', retentionMonths: 12, hadIdentity: true } },
  ]);
});

test('an extension asked for before the end keeps support open, and once approved the clock starts at the extended end', async () => {
  const { family, scheduleId } = await arrivedFamily('2026-03-10');
  const request = await tx((trx) => requestExtension(trx, { scheduleId, months: 6, reason: 'Medical', actor: staffA, scope: 'staff' }));
  // Pending on the day the twelve months are over: support has not ended.
  expect(await endedIds('2027-03-10')).not.toContain(family.id);
  await tx((trx) => decideExtension(trx, { requestId: request, approve: true, reason: 'IRCC agreed', actor: staffB }));
  // Eighteen months: the old end date (and the warning it would have brought) no longer applies.
  expect(await endedIds('2027-03-10')).not.toContain(family.id);
  expect((await applyIdentityRetention(t.db, settings, '2028-02-09')).warned).not.toContain(family.id);
  expect(await endedIds('2027-09-09')).not.toContain(family.id);
  const [ended] = (await listEndedSupport(t.db, 12, '2027-09-10')).filter((f) => f.familyId === family.id);
  expect(ended).toMatchObject({ reason: 'term_ended', supportEndedOn: '2027-09-10', purgeOn: '2028-09-10' });
  expect((await applyIdentityRetention(t.db, settings, '2028-08-10')).warned).not.toContain(family.id);
  expect((await applyIdentityRetention(t.db, settings, '2028-08-11')).warned).toContain(family.id);
  expect((await applyIdentityRetention(t.db, settings, '2028-09-10')).purged).toContain(family.id);
});

test('a declined extension leaves the end where it was', async () => {
  const { family, scheduleId } = await arrivedFamily('2026-04-20');
  const request = await tx((trx) => requestExtension(trx, { scheduleId, months: 12, reason: 'Housing', actor: staffA, scope: 'staff' }));
  await tx((trx) => decideExtension(trx, { requestId: request, approve: false, reason: 'Not needed', actor: staffB }));
  const [ended] = (await listEndedSupport(t.db, 12, '2027-04-20')).filter((f) => f.familyId === family.id);
  expect(ended).toMatchObject({ reason: 'term_ended', supportEndedOn: '2027-04-20', purgeOn: '2028-04-20' });
});

test('an extension approved after staff were warned moves the deletion, and staff are warned again before the new day', async () => {
  const { family, scheduleId } = await arrivedFamily('2026-01-15');
  // Term over 2027-01-15; warned 2027-12-16 of a deletion on 2028-01-15.
  expect((await applyIdentityRetention(t.db, settings, '2027-12-16')).warned).toContain(family.id);
  const request = await tx((trx) => requestExtension(trx, { scheduleId, months: 6, reason: 'Support resumed', actor: staffA, scope: 'staff' }));
  await tx((trx) => decideExtension(trx, { requestId: request, approve: true, reason: 'IRCC agreed', actor: staffB }));
  // Now 18 months: support ends 2027-07-15, deletion 2028-07-15; the first warning was about another day.
  expect((await applyIdentityRetention(t.db, settings, '2028-01-15')).purged).not.toContain(family.id);
  const [ended] = (await listEndedSupport(t.db, 12, '2028-01-15')).filter((f) => f.familyId === family.id);
  expect(ended).toMatchObject({ supportEndedOn: '2027-07-15', purgeOn: '2028-07-15', warned: false });
  expect((await applyIdentityRetention(t.db, settings, '2028-06-15')).warned).toContain(family.id);
  expect(await outboxFor(family.id)).toHaveLength(2);
  expect((await applyIdentityRetention(t.db, settings, '2028-07-14')).purged).not.toContain(family.id);
  expect((await applyIdentityRetention(t.db, settings, '2028-07-15')).purged).toContain(family.id);
});
