import { addEdition, findRequirement, listEditions, requirementFromEdition } from '../../server/groups/cost-tables';
import { addInKind, allowedInKind, type InKindCommitment, setInKindStatus, verifyInKind } from '../../server/groups/in-kind';
import { fundingPosition, groupProfile, listReadyGroups } from '../../server/groups/readiness';
import { transferToGroup } from '../../server/groups/transfers';
import { accounts } from '../../server/ledger/accounts';
import { balanceOf } from '../../server/ledger/ledger';
import { makePledge, receive } from '../support/gifts';
import { createTestApp, type TestApp } from '../support/app';
import { signInAs } from '../support/session';
import { completePlanAndChecks, makeApprovedGroup, makeGroup, staffActor } from './factories';

let t: TestApp;
let verifier: { userId: number; label: string };
beforeAll(async () => {
  t = await createTestApp();
  const staff = await signInAs(t, 'staff');
  verifier = { userId: staff.user.id, label: 'Verifying staff' };
});
afterAll(() => t.destroy());

const rules = { startupCashFloorPercent: 25 };
const item = (over: Partial<InKindCommitment>): InKindCommitment => ({
  id: 1, category: 'furniture', description: 'd', valueCents: 0, evidenceNote: 'e', donorIsParty: false, status: 'confirmed', verifiedAt: new Date(0), countable: true, ...over,
});

describe('the cost table', () => {
  test('sizes beyond the table add the per-additional-member row', async () => {
    const [edition] = await listEditions(t.db);
    expect(requirementFromEdition(edition!, 4)).toMatchObject({ incomeSupportCents: 2_120_000, startupCents: 750_000, totalCents: 2_870_000 });
    expect(requirementFromEdition(edition!, 8)).toMatchObject({ incomeSupportCents: 2_570_000 + 2 * 160_000, startupCents: 980_000 + 2 * 110_000, totalCents: 3_550_000 + 2 * 270_000 });
  });

  test('a new edition applies to new groups; an existing requirement keeps the edition it used', async () => {
    const before = await makeGroup(t.db, { familySize: 1 });
    await t.db.transaction().execute((trx) =>
      addEdition(trx, staffActor, {
        editionOn: '2026-01-01',
        rows: [1, 2, 3, 4, 5, 6, 0].map((size) => ({ familySize: size, incomeSupportCents: size === 0 ? 200_000 : 1_500_000 + size * 100_000, startupCents: size === 0 ? 120_000 : 400_000 })),
      }),
    );
    const after = await makeGroup(t.db, { familySize: 1 });
    expect(await findRequirement(t.db, before.id)).toMatchObject({ editionOn: '2018-05-01', totalCents: 1_650_000 });
    expect(await findRequirement(t.db, after.id)).toMatchObject({ editionOn: '2026-01-01', totalCents: 2_000_000 });
    const audit = await t.db.selectFrom('audit_log').select(['action', 'subject']).where('action', '=', 'cost_table.added').execute();
    expect(audit).toEqual([{ action: 'cost_table.added', subject: 'cost_table:2026-01-01' }]);
    await expect(t.db.transaction().execute((trx) => addEdition(trx, staffActor, { editionOn: '2026-01-01', rows: [] }))).rejects.toThrow('groups:errors.editionExists');
  });
});

describe('in-kind limits', () => {
  const requirement = { editionOn: '2018-05-01', familySize: 4, incomeSupportCents: 2_120_000, startupCents: 750_000, totalCents: 2_870_000 };

  test('goods reduce start-up costs but never below the cash floor', () => {
    const result = allowedInKind([item({ valueCents: 1_000_000 })], requirement, rules, 10_000);
    expect(result.cashFloorCents).toBe(187_500);
    expect(result.allowedCents).toBe(750_000 - 187_500);
  });

  test('the floor is configurable', () => {
    expect(allowedInKind([item({ valueCents: 1_000_000 })], requirement, { startupCashFloorPercent: 50 }, 10_000).allowedCents).toBe(375_000);
  });

  test('donated housing counts only when the donor is a party to the sponsorship', () => {
    expect(allowedInKind([item({ category: 'housing', valueCents: 600_000, donorIsParty: false, countable: false })], requirement, rules, 10_000).allowedCents).toBe(0);
    expect(allowedInKind([item({ category: 'housing', valueCents: 600_000, donorIsParty: true })], requirement, rules, 10_000).allowedCents).toBe(600_000);
  });

  test('housing counts at most at the housing share of the income support (basis points, rounded down)', () => {
    const housing = item({ category: 'housing', valueCents: 2_120_000, donorIsParty: true });
    // 21,200 × 50 % = 10,600; × 33.33 % = 7,065.96 (down to the cent).
    expect(allowedInKind([housing], requirement, rules, 5_000)).toMatchObject({ allowedCents: 1_060_000, housingCappedAtCents: 1_060_000 });
    expect(allowedInKind([housing], requirement, rules, 3_333).allowedCents).toBe(706_596);
    expect(allowedInKind([item({ category: 'housing', valueCents: 500_000, donorIsParty: true })], requirement, rules, 5_000).allowedCents).toBe(500_000);
    expect(allowedInKind([housing], requirement, rules, 0).allowedCents).toBe(0);
  });

  test('offered and withdrawn gifts do not count', async () => {
    const group = await makeApprovedGroup(t.db);
    const id = await t.db.transaction().execute((trx) => addInKind(trx, group.id, { category: 'clothing', description: 'Winter coats', valueCents: 80_000, evidenceNote: 'Receipt', donorIsParty: false }));
    expect((await fundingPosition(t.db, group.id, rules)).inKindAllowedCents).toBe(0);
    await t.db.transaction().execute((trx) => verifyInKind(trx, verifier, group.id, id, { status: 'received', donorIsParty: false }));
    expect((await fundingPosition(t.db, group.id, rules)).inKindAllowedCents).toBe(80_000);
    await t.db.transaction().execute((trx) => setInKindStatus(trx, group.id, id, 'withdrawn'));
    expect((await fundingPosition(t.db, group.id, rules)).inKindAllowedCents).toBe(0);
  });

  test('housing from someone outside the sponsorship is stored as such and not counted', async () => {
    const group = await makeApprovedGroup(t.db);
    const id = await t.db.transaction().execute((trx) => addInKind(trx, group.id, { category: 'housing', description: 'Basement flat, 12 months', valueCents: 1_200_000, evidenceNote: 'Letter', donorIsParty: false }));
    await t.db.transaction().execute((trx) => verifyInKind(trx, verifier, group.id, id, { status: 'confirmed', donorIsParty: false }));
    const position = await fundingPosition(t.db, group.id, rules);
    expect(position.inKindRecordedCents).toBe(1_200_000);
    expect(position.inKindAllowedCents).toBe(0);
  });
});

describe('funding position and readiness', () => {
  test('funds, pledges preferring the group and allowed in-kind are set against the requirement', async () => {
    const group = await makeApprovedGroup(t.db, { familySize: 4 });
    const paid = await makePledge(t.db, { groupId: group.id, amountCents: 1_000_000 });
    await receive(t.db, paid, 1_000_000, { feeCents: 30_000 });
    await makePledge(t.db, { groupId: group.id, amountCents: 500_000 });
    await makePledge(t.db, { groupId: null, amountCents: 700_000 }); // the general fund: not the group's
    const position = await fundingPosition(t.db, group.id, rules);
    expect(position.requirementCents).toBe(2_300_000); // the 2026 edition added above, family of 4
    expect(position.pledgedOutstandingCents).toBe(500_000);
    // Available is what the fund can spend: the gift less any fees charged to it.
    const fund = await balanceOf(t.db, accounts.fund({ groupId: group.id }));
    const expenses = await balanceOf(t.db, accounts.expenses({ groupId: group.id }));
    expect(position.fundsAvailableCents).toBe(-(fund + expenses));
    expect(position.fundsAvailableCents).toBeGreaterThan(0);
    expect(position.shortfallCents).toBe(2_300_000 - position.fundsAvailableCents - 500_000);
  });

  test('a group becomes ready only when approved, funded, planned and checked; the missing items say what is left', async () => {
    const group = await makeGroup(t.db, { familySize: 1 }); // 2026 edition: $20,000
    let profile = (await groupProfile(t.db, group.id, rules))!;
    expect(profile.ready).toBe(false);
    expect(profile.missing).toEqual(['approved', 'funds', 'settlement_plan', 'training', 'background_checks']);

    await t.db.transaction().execute(async (trx) => {
      const { approveGroup } = await import('../../server/groups/applications');
      await approveGroup(trx, staffActor, group.id, 'http://haven.test');
    });
    await completePlanAndChecks(t.db, group.id);
    profile = (await groupProfile(t.db, group.id, rules))!;
    expect(profile.missing).toEqual(['funds']);
    expect(profile.settlementCompleteness).toBe(1);
    expect(await listReadyGroups(t.db, rules)).toEqual([]);

    const general = await makePledge(t.db, { groupId: null, amountCents: 2_500_000 });
    await receive(t.db, general, 2_500_000);
    await t.db.transaction().execute((trx) => transferToGroup(trx, staffActor, group.id, 2_000_000));
    profile = (await groupProfile(t.db, group.id, rules))!;
    expect(profile).toMatchObject({ ready: true, missing: [], fundsAvailableCents: 2_000_000, shortfallCents: 0, capacity: 1, languages: ['ko', 'en'] });
    expect((await listReadyGroups(t.db, rules)).map((g) => g.id)).toEqual([group.id]);
  });
});

describe('transfers from the general fund', () => {
  test('post a balanced transfer and an audit row; more than the general fund has is refused', async () => {
    const group = await makeApprovedGroup(t.db);
    const { generalFundAvailable } = await import('../../server/groups/transfers');
    const available = await generalFundAvailable(t.db);
    expect(available).toBeGreaterThan(0);
    await expect(t.db.transaction().execute((trx) => transferToGroup(trx, staffActor, group.id, available + 1))).rejects.toThrow('groups:errors.generalFundShort');
    await expect(t.db.transaction().execute((trx) => transferToGroup(trx, staffActor, group.id, -5))).rejects.toThrow('groups:errors.amountRange');
    expect(await balanceOf(t.db, accounts.fund({ groupId: group.id }))).toBe(0);

    await t.db.transaction().execute((trx) => transferToGroup(trx, staffActor, group.id, available));
    expect(await balanceOf(t.db, accounts.fund({ groupId: group.id }))).toBe(-available);
    expect(await generalFundAvailable(t.db)).toBe(0);
    const audit = await t.db.selectFrom('audit_log').select(['subject', 'details']).where('action', '=', 'group.funds_transferred').where('subject', '=', `group:${group.id}`).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ amountCents: available });
  });

  test('a group that is not approved cannot receive a transfer', async () => {
    const group = await makeGroup(t.db);
    await expect(t.db.transaction().execute((trx) => transferToGroup(trx, staffActor, group.id, 1))).rejects.toThrow('groups:errors.notApproved');
  });
});

test('profiles of many groups come in one batch and agree with the single-group profile', async () => {
  const { groupProfiles } = await import('../../server/groups/readiness');
  const a = await makeApprovedGroup(t.db);
  const b = await makeGroup(t.db);
  await completePlanAndChecks(t.db, a.id);
  const batch = await groupProfiles(t.db, [b.id, 999_999, a.id], rules);
  expect(batch.map((p) => p.id)).toEqual([b.id, a.id]);
  expect(batch[1]).toEqual(await groupProfile(t.db, a.id, rules));
  expect(batch[1]!.settlementCompleteness).toBe(1);
  expect(batch[0]!.settlementCompleteness).toBe(0);
});
