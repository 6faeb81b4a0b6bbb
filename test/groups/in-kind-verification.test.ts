import { fundingPosition, groupProfile } from '../../server/groups/readiness';
import { accounts } from '../../server/ledger/accounts';
import { postTransaction } from '../../server/ledger/ledger';
import { createTestApp, type TestApp } from '../support/app';
import { type SignedIn, signInAs } from '../support/session';
import { completePlanAndChecks, makeApprovedGroup, postForm, signInMember } from './factories';

/**
 * Readiness counts only what staff have verified (issue 19). The figures are the 2018 cost table in
 * shared/DOMAIN.md: a family of four needs $21,200 income support + $7,500 start-up = $28,700; the
 * cash floor is 25 % of start-up ($1,875).
 */
let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

const rules = { startupCashFloorPercent: 25 };

async function groupOfFourWithFloorCash() {
  const group = await makeApprovedGroup(t.db, { familySize: 4 });
  await completePlanAndChecks(t.db, group.id);
  await t.db.transaction().execute((trx) =>
    postTransaction(trx, {
      kind: 'test_gift',
      description: 'the cash floor',
      entries: [
        { account: accounts.bank, amountCents: 187_500 },
        { account: accounts.fund({ groupId: group.id }), amountCents: -187_500 },
      ],
    }),
  );
  const coordinator = await signInMember(t, group.id, 'coordinator');
  // Housing for the year at the full income support, declared by the group as from a party; and goods for the rest of start-up.
  for (const item of [
    { category: 'housing', description: 'Apartment for 12 months', value: '21,200', evidenceNote: 'Lease letter', donorIsParty: 'yes' },
    { category: 'furniture', description: 'Furniture and household goods', value: '5,625', evidenceNote: 'Store receipts' },
  ]) {
    expect((await postForm(coordinator, '/group/in-kind', item)).status).toBe(303);
  }
  const items = await t.db.selectFrom('in_kind_commitments').select(['id', 'category']).where('group_id', '=', group.id).orderBy('id').execute();
  return { group, coordinator, housingId: items[0]!.id, goodsId: items[1]!.id };
}

test("the issue's example: a group of four with $1,875 cash and donated housing is not ready against $28,700 until staff confirm, and then not on housing alone", async () => {
  const { group, coordinator, housingId, goodsId } = await groupOfFourWithFloorCash();
  // The group's own "confirmed" and "received" are refused (403) and change nothing.
  for (const status of ['confirmed', 'received']) {
    expect((await postForm(coordinator, `/group/in-kind/${housingId}/status`, { status })).status).toBe(403);
  }
  expect((await t.db.selectFrom('in_kind_commitments').select('status').where('group_id', '=', group.id).execute()).map((r) => r.status)).toEqual(['offered', 'offered']);
  let position = await fundingPosition(t.db, group.id, rules);
  expect(position).toMatchObject({ requirementCents: 2_870_000, fundsAvailableCents: 187_500, inKindAllowedCents: 0, shortfallCents: 2_870_000 - 187_500 });
  expect((await groupProfile(t.db, group.id, rules))!.ready).toBe(false);

  // Staff confirm both; the housing donor is checked as a party. Housing counts at most half the income support (the seeded share).
  expect((await postForm(staff, `/staff/groups/${group.id}/in-kind/${housingId}`, { status: 'confirmed', donorIsParty: 'yes' })).status).toBe(303);
  expect((await postForm(staff, `/staff/groups/${group.id}/in-kind/${goodsId}`, { status: 'received' })).status).toBe(303);
  position = await fundingPosition(t.db, group.id, rules);
  expect(position.housingCapCents).toBe(1_060_000); // 50 % of $21,200
  expect(position.inKindAllowedCents).toBe(1_060_000 + 562_500);
  expect(position.shortfallCents).toBe(2_870_000 - 187_500 - 562_500 - 1_060_000); // $10,600 still to raise
  const profile = (await groupProfile(t.db, group.id, rules))!;
  expect(profile.ready).toBe(false);
  expect(profile.missing).toEqual(['funds']);
  const rows = await t.db.selectFrom('in_kind_commitments').select(['status', 'verified_by', 'donor_is_party']).where('group_id', '=', group.id).orderBy('id').execute();
  expect(rows).toEqual([
    { status: 'confirmed', verified_by: staff.user.id, donor_is_party: true },
    { status: 'received', verified_by: staff.user.id, donor_is_party: false },
  ]);
  const audit = await t.db.selectFrom('audit_log').select(['actor_user_id', 'details']).where('action', '=', 'group.in_kind_verified').orderBy('id').execute();
  expect(audit).toEqual([
    { actor_user_id: staff.user.id, details: { itemId: housingId, status: 'confirmed', donorIsParty: true } },
    { actor_user_id: staff.user.id, details: { itemId: goodsId, status: 'received', donorIsParty: false } },
  ]);
  const page = await staff.agent.get(`/staff/groups/${group.id}?saved=in-kind&lang=en`);
  expect(page.text).toContain('The in-kind gift is updated.');

  // A group withdrawing a confirmed item undoes the confirmation: it stops counting.
  expect((await postForm(coordinator, `/group/in-kind/${goodsId}/status`, { status: 'withdrawn' })).status).toBe(303);
  expect((await fundingPosition(t.db, group.id, rules)).inKindAllowedCents).toBe(1_060_000);
});

test('a housing donor the group declares a party does not count until staff check it', async () => {
  const { group, housingId } = await groupOfFourWithFloorCash();
  expect((await postForm(staff, `/staff/groups/${group.id}/in-kind/${housingId}`, { status: 'confirmed' })).status).toBe(303);
  const position = await fundingPosition(t.db, group.id, rules);
  expect(position.inKindAllowedCents).toBe(0);
});

test('staff set the housing share with its source; bad input is refused beside the field with what was typed; members cannot', async () => {
  const page = await staff.agent.get('/staff/cost-tables?lang=en');
  expect(page.text).toContain('Donated housing counts for at most 50% of');
  expect(page.text).toContain('Planning figure, to be confirmed by staff');
  for (const percent of ['101', '-5', 'half', '12.345']) {
    const res = await postForm(staff, '/staff/cost-tables/housing-share', { percent, source: 'RAP rates, Toronto 2026' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('id="percent-error"');
    expect(res.text).toContain(`value="${percent}"`);
  }
  const noSource = await postForm(staff, '/staff/cost-tables/housing-share', { percent: '60', source: ' ' });
  expect(noSource.status).toBe(400);
  expect(noSource.text).toContain('id="source-error"');
  expect(await t.db.selectFrom('housing_shares').select('id').execute()).toHaveLength(1);

  const { group, housingId, coordinator: member } = await groupOfFourWithFloorCash();
  await postForm(staff, `/staff/groups/${group.id}/in-kind/${housingId}`, { status: 'confirmed', donorIsParty: 'yes' });
  const saved = await postForm(staff, '/staff/cost-tables/housing-share', { percent: '62,5', source: 'RAP shelter allowance, Toronto, 2026 rate sheet' });
  expect(saved.status).toBe(303);
  expect((await staff.agent.get(saved.headers.location!)).text).toContain('The housing share is recorded.');
  expect((await fundingPosition(t.db, group.id, rules)).inKindAllowedCents).toBe(1_325_000); // 62.5 % of $21,200
  expect((await t.db.selectFrom('audit_log').select('details').where('action', '=', 'group.housing_share_recorded').executeTakeFirstOrThrow()).details).toEqual({ basisPoints: 6_250 });

  expect((await postForm(member, '/staff/cost-tables/housing-share', { percent: '100', source: 'me' })).status).toBe(403);
  expect((await postForm(member, `/staff/groups/${group.id}/in-kind/${housingId}`, { status: 'confirmed', donorIsParty: 'yes' })).status).toBe(403);
});
