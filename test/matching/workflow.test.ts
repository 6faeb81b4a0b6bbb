import { randomBytes } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { campaignTotals, requireCurrentCampaign } from '../../server/campaign/campaign';
import type { Database } from '../../server/db/schema';
import { keyringOf } from '../../server/families/data-keys';
import { requireFamily } from '../../server/families/families';
import { listCandidateGroups } from '../../server/matching/candidates';
import { viewMatchedFamily } from '../../server/matching/matched-family';
import { approveMatch, countApprovedMatches, expireHolds, proposeMatch, rejectMatch, withdrawMatch } from '../../server/matching/matches';
import { testConfig } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { availableFamily, SENTINELS, staffA, staffB } from '../families/factories';
import { readyGroup } from './factories';

const config = testConfig({ MATCH_HOLD_DAYS: '7', MATCHING_STAFF_EMAIL: 'matching@hanvoice.test' });
const keyring = keyringOf(randomBytes(32));
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.destroy());

const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => t.db.transaction().execute(fn);

test('propose, then four-eyes approval: the proposer cannot approve, another staff member can', async () => {
  const family = await availableFamily(t.db, keyring);
  const group = await readyGroup(t.db);
  const match = await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  expect(match.status).toBe('proposed');
  expect(match.holdExpiresAt.getTime() - match.proposedAt.getTime()).toBe(7 * 86_400_000);
  expect(match.scoreParts.map((p) => p.name)).toEqual(['funds', 'region', 'language', 'capacity', 'plan', 'priorityNeeds']);

  await expect(tx((trx) => approveMatch(trx, config, staffA, match.id))).rejects.toMatchObject({ kind: 'forbidden' });
  const approved = await tx((trx) => approveMatch(trx, config, staffB, match.id, ['names']));
  expect(approved).toMatchObject({ status: 'approved', decidedBy: staffB.userId, sharedFields: ['names'] });
  expect((await requireFamily(t.db, family.id)).status).toBe('matched');

  const audit = await t.db.selectFrom('audit_log').select(['action', 'actor_user_id']).where('subject', '=', `match:${match.id}`).orderBy('id').execute();
  expect(audit).toEqual([
    { action: 'match.proposed', actor_user_id: staffA.userId },
    { action: 'match.approved', actor_user_id: staffB.userId },
  ]);
  // The group is no longer a candidate (already matched).
  const candidates = await listCandidateGroups(t.db, config);
  expect(candidates.find((c) => c.id === group.id)?.taken).toBe(true);
});

test('the database itself refuses self-approval (CHECK) and a second approved match per family or per group', async () => {
  const family = await availableFamily(t.db, keyring);
  const group = await readyGroup(t.db);
  const otherGroup = await readyGroup(t.db);
  const otherFamily = await availableFamily(t.db, keyring);
  const insert = (familyId: number, groupId: number, proposedBy: number, decidedBy: number) =>
    sql`insert into matches (family_id, group_id, status, score, score_parts, proposed_by, hold_expires_at, decided_by, decided_at)
        values (${familyId}, ${groupId}, 'approved', 1, '[]', ${proposedBy}, now(), ${decidedBy}, now())`.execute(t.db);
  await expect(insert(family.id, group.id, 1, 1)).rejects.toThrow(/check constraint/);
  await insert(family.id, group.id, 1, 2);
  await expect(insert(family.id, otherGroup.id, 1, 2)).rejects.toThrow(/matches_one_approved_per_family/);
  await expect(insert(otherFamily.id, group.id, 1, 2)).rejects.toThrow(/matches_one_approved_per_group/);
});

test('a held group or family cannot be proposed again, and a proposal needs an available family', async () => {
  const family = await availableFamily(t.db, keyring);
  const family2 = await availableFamily(t.db, keyring);
  const group = await readyGroup(t.db);
  const group2 = await readyGroup(t.db);
  await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  await expect(tx((trx) => proposeMatch(trx, config, staffA, { familyId: family2.id, groupId: group.id }))).rejects.toMatchObject({ kind: 'conflict' });
  await expect(tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group2.id }))).rejects.toMatchObject({ kind: 'conflict' });
});

test('hard rules: a group too small for this family, or not ready (short of funds), cannot be proposed', async () => {
  const family = await availableFamily(t.db, keyring, { adults: 2, children: 3 }); // size 5: needs $32,300
  const small = await readyGroup(t.db, { familySize: 4 });
  const poor = await readyGroup(t.db, { familySize: 6, fundsCents: 3_000_000 }); // short of the $35,500 for six: not ready
  await expect(tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: small.id }))).rejects.toMatchObject({ kind: 'conflict', fieldErrors: { reasons: 'too_small' } });
  await expect(tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: poor.id }))).rejects.toMatchObject({ kind: 'conflict', fieldErrors: { reasons: expect.stringContaining('not_ready') } });
});

test('holds expire after MATCH_HOLD_DAYS: the pair is released and an expired proposal cannot be approved', async () => {
  const family = await availableFamily(t.db, keyring);
  const group = await readyGroup(t.db);
  const start = new Date('2026-11-01T12:00:00Z');
  const match = await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }, start));
  const justBefore = new Date(start.getTime() + 7 * 86_400_000 - 1000);
  expect(await tx((trx) => expireHolds(trx, config, justBefore))).not.toContain(match.id);
  const later = new Date(start.getTime() + 8 * 86_400_000);
  await expect(tx((trx) => approveMatch(trx, config, staffB, match.id, [], later))).rejects.toMatchObject({ message: 'matching:errors.holdExpired' });
  // The periodic job (or the next read) records the expiry.
  expect(await tx((trx) => expireHolds(trx, config, later))).toEqual([match.id]);
  const row = await t.db.selectFrom('matches').select(['status', 'decided_at']).where('id', '=', match.id).executeTakeFirstOrThrow();
  expect(row.status).toBe('expired');
  const audit = await t.db.selectFrom('audit_log').select(['action', 'actor_label']).where('subject', '=', `match:${match.id}`).where('action', '=', 'match.expired').execute();
  expect(audit).toEqual([{ action: 'match.expired', actor_label: 'system' }]);
  // Released: the same pair can be proposed again.
  const again = await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  expect(again.status).toBe('proposed');
});

test('reject needs a reason; withdrawing an approved match makes the family available again', async () => {
  const family = await availableFamily(t.db, keyring);
  const group = await readyGroup(t.db);
  const m1 = await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  await expect(tx((trx) => rejectMatch(trx, config, staffB, m1.id, '  '))).rejects.toMatchObject({ kind: 'invalid' });
  const rejected = await tx((trx) => rejectMatch(trx, config, staffB, m1.id, 'Housing fell through'));
  expect(rejected).toMatchObject({ status: 'rejected', reason: 'Housing fell through' });
  await expect(tx((trx) => approveMatch(trx, config, staffB, m1.id))).rejects.toMatchObject({ kind: 'conflict' });

  const m2 = await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  await tx((trx) => approveMatch(trx, config, staffB, m2.id));
  await tx((trx) => withdrawMatch(trx, config, staffA, m2.id, 'Group breakdown'));
  expect((await requireFamily(t.db, family.id)).status).toBe('available');
});

test('e-mails for each step go to the coordinator and the staff inbox, with no family detail', async () => {
  const family = await availableFamily(t.db, keyring);
  const group = await readyGroup(t.db);
  const before = await t.db.selectFrom('outbox').select(sql<number>`max(id)`.as('id')).executeTakeFirstOrThrow();
  const match = await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  await tx((trx) => approveMatch(trx, config, staffB, match.id, ['names', 'contact']));
  const mails = await t.db.selectFrom('outbox').select('payload').where('id', '>', before.id ?? 0).orderBy('id').execute();
  const payloads = mails.map((m) => m.payload as { to: string; template: string; data: Record<string, unknown> });
  expect(payloads.map((p) => [p.template, p.data.context])).toEqual([
    ['matching/staff-update', 'proposed'],
    ['matching/group-update', 'proposed'],
    ['matching/staff-update', 'approved'],
    ['matching/group-update', 'approved'],
  ]);
  const text = JSON.stringify(payloads);
  expect(text).not.toContain('SENTINEL');
  expect(text).not.toContain(family.caseCode);
});

test('the matched group sees only what staff shared, and each view is audited; the campaign counts approved matches', async () => {
  const baseline = await countApprovedMatches(t.db);
  const family = await availableFamily(t.db, keyring, { languages: ['ko'], needs: ['childcare'] });
  const group = await readyGroup(t.db);
  const match = await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  await tx((trx) => approveMatch(trx, config, staffB, match.id, ['names']));
  const sponsor = { userId: 777, label: 'user:777' };
  const view = await tx((trx) => viewMatchedFamily(trx, keyring, sponsor, group.id));
  expect(view).toEqual({
    size: 3,
    adults: 1,
    children: 2,
    languages: ['ko'],
    needs: ['childcare'],
    medicalNeeds: false,
    traumaInformedSupport: true,
    shared: { names: SENTINELS.names },
  });
  const views = await t.db.selectFrom('audit_log').select(['actor_user_id', 'details']).where('action', '=', 'family_identity.viewed').where('subject', '=', `family:${family.id}`).execute();
  expect(views).toEqual([{ actor_user_id: 777, details: { purpose: 'matched_group', matchId: match.id, groupId: group.id, fields: ['names'] } }]);
  const unmatched = await readyGroup(t.db);
  expect(await tx((trx) => viewMatchedFamily(trx, keyring, sponsor, unmatched.id))).toBeUndefined();

  expect(await countApprovedMatches(t.db)).toBe(baseline + 1);
  const campaign = await requireCurrentCampaign(t.db);
  expect((await campaignTotals(t.db, campaign)).familiesSponsored).toBe(baseline + 1);
});
