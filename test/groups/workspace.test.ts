import type { Express } from 'express';
import request from 'supertest';
import { groupMembershipOf } from '../../server/groups/membership';
import { settlementPlan, SETTLEMENT_AREAS } from '../../server/groups/settlement-plan';
import { addMember } from '../../server/groups/workspace';
import { createTestApp, type TestApp } from '../support/app';
import { as, makeApprovedGroup, sponsor, withTestSessions } from './factories';

let t: TestApp;
let app: Express;
let groupA: { id: number; slug: string };
let groupB: { id: number; slug: string };
beforeAll(async () => {
  t = await createTestApp();
  app = withTestSessions(t.app);
  groupA = await makeApprovedGroup(t.db, { name: 'Group A', coordinatorEmail: 'coord-a@example.org' });
  groupB = await makeApprovedGroup(t.db, { name: 'Group B', coordinatorEmail: 'coord-b@example.org' });
});
afterAll(() => t.destroy());

const memberIdsOf = async (groupId: number) =>
  (await t.db.selectFrom('group_members').select(['id', 'name', 'role']).where('group_id', '=', groupId).where('removed_at', 'is', null).orderBy('id').execute());

test('anonymous visitors are sent to sign in; staff and people without a group are refused', async () => {
  const res = await request(app).get('/group').expect(303);
  expect(res.headers.location).toBe('/sign-in?next=%2Fgroup');
  await request(app).post('/group/page').type('form').send({ name: 'X' }).expect(401);
  await request(app).get('/group').set(...as({ ...sponsor(groupA.id), groupId: null, groupRole: null })).expect(403);
});

test('a member sees their own group, its readiness and funding position', async () => {
  const res = await request(app).get('/group').set(...as(sponsor(groupA.id, 'member'))).expect(200);
  expect(res.text).toContain('Group A');
  expect(res.text).not.toContain('Group B');
  expect(res.text).toContain('Every settlement area must be assigned');
  expect(res.text).toContain('Shortfall');
  expect(res.text).toContain('$28,700.00');
});

test('a member edits the name and story of their own group only; the slug stays', async () => {
  await request(app)
    .post('/group/page')
    .set(...as(sponsor(groupA.id, 'member')))
    .type('form')
    .send({ name: 'Group A Renamed', story: 'New **story**', groupId: String(groupB.id) })
    .expect(303);
  const a = await t.db.selectFrom('sponsor_groups').select(['name', 'story', 'slug']).where('id', '=', groupA.id).executeTakeFirstOrThrow();
  expect(a).toEqual({ name: 'Group A Renamed', story: 'New **story**', slug: groupA.slug });
  const b = await t.db.selectFrom('sponsor_groups').select(['name']).where('id', '=', groupB.id).executeTakeFirstOrThrow();
  expect(b.name).toBe('Group B');
});

test("a page edit taking another group's name, or too long, is refused and nothing changes", async () => {
  const res = await request(app).post('/group/page').set(...as(sponsor(groupA.id))).type('form').send({ name: 'group b', story: '' }).expect(409);
  expect(res.text).toContain('Another sponsor group already uses this name');
  const long = await request(app).post('/group/page').set(...as(sponsor(groupA.id))).type('form').send({ name: 'Fine', story: 'x'.repeat(10_001) }).expect(400);
  expect(long.text).toContain('This is too long.');
  const a = await t.db.selectFrom('sponsor_groups').select(['name']).where('id', '=', groupA.id).executeTakeFirstOrThrow();
  expect(a.name).toBe('Group A Renamed');
});

test('the coordinator invites a member; a duplicate e-mail is refused', async () => {
  await request(app).post('/group/members').set(...as(sponsor(groupA.id))).type('form').send({ name: 'Ji-woo Kim', email: 'jiwoo@example.org' }).expect(303);
  expect((await memberIdsOf(groupA.id)).map((m) => m.name)).toContain('Ji-woo Kim');
  const dup = await request(app).post('/group/members').set(...as(sponsor(groupA.id))).type('form').send({ name: 'Again', email: 'JIWOO@example.org' }).expect(409);
  expect(dup.text).toContain('already a member');
  const page = await request(app).get('/group/members').set(...as(sponsor(groupA.id))).expect(200);
  expect(page.text).toContain('Remove Ji-woo Kim');
});

test('a member cannot invite or remove others', async () => {
  const [, member] = await memberIdsOf(groupA.id);
  await request(app).post('/group/members').set(...as(sponsor(groupA.id, 'member'))).type('form').send({ name: 'Z', email: 'z@example.org' }).expect(403);
  await request(app).post(`/group/members/${member!.id}/remove`).set(...as(sponsor(groupA.id, 'member'))).expect(403);
  const page = await request(app).get('/group/members').set(...as(sponsor(groupA.id, 'member'))).expect(200);
  expect(page.text).not.toContain('Remove Ji-woo Kim');
  expect(await memberIdsOf(groupA.id)).toHaveLength(2);
});

test("a coordinator cannot remove another group's member, nor the coordinator", async () => {
  const [coordB] = await memberIdsOf(groupB.id);
  const bMember = await t.db.transaction().execute((trx) => addMember(trx, groupB.id, { name: 'B person', email: 'bp@example.org', locale: 'en' }));
  await request(app).post(`/group/members/${bMember}/remove`).set(...as(sponsor(groupA.id))).expect(404);
  const [coordA] = await memberIdsOf(groupA.id);
  await request(app).post(`/group/members/${coordA!.id}/remove`).set(...as(sponsor(groupA.id))).expect(409);
  expect((await memberIdsOf(groupB.id)).map((m) => m.id)).toEqual([coordB!.id, bMember]);
});

test('the settlement plan: every area assigned makes it complete; another group\'s member cannot be assigned', async () => {
  const [coord, member] = await memberIdsOf(groupA.id);
  const half = Object.fromEntries(SETTLEMENT_AREAS.slice(0, 7).map((a) => [a, String(coord!.id)]));
  await request(app).post('/group/plan').set(...as(sponsor(groupA.id, 'member'))).type('form').send(half).expect(303);
  expect((await settlementPlan(t.db, groupA.id)).completeness).toBe(0.5);
  const page = await request(app).get('/group/plan').set(...as(sponsor(groupA.id, 'member'))).expect(200);
  expect(page.text).toContain('7 of 14 areas assigned (50%)');

  const full = Object.fromEntries(SETTLEMENT_AREAS.map((a) => [a, [String(coord!.id), String(member!.id)]]));
  await request(app).post('/group/plan').set(...as(sponsor(groupA.id, 'member'))).type('form').send(full).expect(303);
  const plan = await settlementPlan(t.db, groupA.id);
  expect(plan.completeness).toBe(1);
  expect(plan.areas.find((a) => a.area === 'interpretation')!.memberIds.sort()).toEqual([coord!.id, member!.id].sort());

  const [coordB] = await memberIdsOf(groupB.id);
  await request(app).post('/group/plan').set(...as(sponsor(groupA.id))).type('form').send({ reception: String(coordB!.id) }).expect(400);
  expect((await settlementPlan(t.db, groupA.id)).completeness).toBe(1);
});

test("removing a member unassigns their areas", async () => {
  const [, member] = await memberIdsOf(groupA.id);
  await request(app).post(`/group/members/${member!.id}/remove`).set(...as(sponsor(groupA.id))).expect(303);
  const plan = await settlementPlan(t.db, groupA.id);
  expect(plan.areas.every((a) => !a.memberIds.includes(member!.id))).toBe(true);
  expect(plan.completeness).toBe(1); // the coordinator still covers every area
});

test('in-kind gifts: recorded with value and evidence; bad values refused; status changes only in the own group', async () => {
  await request(app)
    .post('/group/in-kind')
    .set(...as(sponsor(groupA.id, 'member')))
    .type('form')
    .send({ category: 'furniture', description: 'Beds and a table', value: '1,200.50', evidenceNote: 'Photos and store receipt' })
    .expect(303);
  const item = await t.db.selectFrom('in_kind_commitments').selectAll().where('group_id', '=', groupA.id).executeTakeFirstOrThrow();
  expect(item).toMatchObject({ category: 'furniture', value_cents: 120_050, status: 'offered', donor_is_party: false });

  for (const value of ['-5', '0', 'abc', '99999999999', '1.234']) {
    const res = await request(app)
      .post('/group/in-kind')
      .set(...as(sponsor(groupA.id)))
      .type('form')
      .send({ category: 'furniture', description: 'x', value, evidenceNote: 'y' })
      .expect(400);
    expect(res.text).toContain('id="value-error"');
  }
  await request(app).post('/group/in-kind').set(...as(sponsor(groupA.id))).type('form').send({ category: 'furniture', description: 'x', value: '10', evidenceNote: '' }).expect(400);
  await request(app).post('/group/in-kind').set(...as(sponsor(groupA.id))).type('form').send({ category: 'cars', description: 'x', value: '10', evidenceNote: 'y' }).expect(400);

  await request(app).post(`/group/in-kind/${item.id}/status`).set(...as(sponsor(groupB.id))).type('form').send({ status: 'confirmed' }).expect(404);
  await request(app).post(`/group/in-kind/${item.id}/status`).set(...as(sponsor(groupA.id))).type('form').send({ status: 'confirmed' }).expect(303);
  const after = await t.db.selectFrom('in_kind_commitments').select(['status']).where('group_id', '=', groupA.id).execute();
  expect(after).toEqual([{ status: 'confirmed' }]);
});

test('group membership for the session comes from group_members (by account, or by invited e-mail)', async () => {
  expect(await groupMembershipOf(t.db, { id: 999, email: 'COORD-B@example.org' })).toEqual({ groupId: groupB.id, groupRole: 'coordinator' });
  expect(await groupMembershipOf(t.db, { id: 998, email: 'nobody@example.org' })).toBeUndefined();
  await t.db.updateTable('group_members').set({ user_id: 42 }).where('email', '=', 'bp@example.org').execute();
  expect(await groupMembershipOf(t.db, { id: 42, email: 'changed@example.org' })).toEqual({ groupId: groupB.id, groupRole: 'member' });
});
