import { sql } from 'kysely';
import request from 'supertest';
import { acceptInvitation } from '../../server/accounts/invitations';
import { hashPassword } from '../../server/accounts/passwords';
import { loadSessionUser } from '../../server/accounts/sessions';
import { groupMembershipOf } from '../../server/groups/membership';
import { settlementPlan, SETTLEMENT_AREAS } from '../../server/groups/settlement-plan';
import { createTestApp, type TestApp } from '../support/app';
import { type SignedIn, signInAs } from '../support/session';
import { makeApprovedGroup, postForm, signInMember } from './factories';

let t: TestApp;
let groupA: { id: number; slug: string };
let groupB: { id: number; slug: string };
let coordA: SignedIn;
let memberA: SignedIn;
let coordB: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  groupA = await makeApprovedGroup(t.db, { name: 'Group A', coordinatorName: 'Alice Coord', coordinatorEmail: 'coord-a@example.org' });
  groupB = await makeApprovedGroup(t.db, { name: 'Group B', coordinatorEmail: 'coord-b@example.org' });
  coordA = await signInMember(t, groupA.id, 'coordinator');
  memberA = await signInMember(t, groupA.id, 'member');
  coordB = await signInMember(t, groupB.id, 'coordinator');
});
afterAll(() => t.destroy());

const membersOf = (groupId: number) =>
  t.db.selectFrom('group_members').select(['id', 'name', 'role', 'user_id']).where('group_id', '=', groupId).where('removed_at', 'is', null).orderBy('id').execute();

test('the session carries the group membership from group_members', async () => {
  expect(await loadSessionUser(t.db, coordA.sessionToken)).toMatchObject({ groupId: groupA.id, groupRole: 'coordinator' });
  expect(await loadSessionUser(t.db, memberA.sessionToken)).toMatchObject({ groupId: groupA.id, groupRole: 'member' });
});

test("accepting a group invitation links the new account to the invited member row", async () => {
  expect((await postForm(coordB, '/group/members', { name: 'Soo-ah Lee', email: 'sooah@example.org' })).status).toBe(303);
  const mail = await t.db.selectFrom('outbox').select('payload').where(sql`payload->>'to'`, '=', 'sooah@example.org').executeTakeFirstOrThrow();
  const token = new URL(String((mail.payload as { data: { link: string } }).data.link)).searchParams.get('token')!;
  const passwordHash = await hashPassword('a long enough password');
  const result = await t.db.transaction().execute((trx) => acceptInvitation(trx, { token, name: 'Soo-ah Lee', passwordHash }));
  expect(result).toMatchObject({ ok: true, groupId: groupB.id });
  const userId = (result as { userId: number }).userId;
  expect(await groupMembershipOf(t.db, userId)).toEqual({ groupId: groupB.id, groupRole: 'member' });
  // Leave group B as it was for the tests below.
  await t.db.updateTable('group_members').set({ removed_at: new Date() }).where('user_id', '=', userId).execute();
});

test('anonymous visitors are sent to sign in; staff and sponsors without a group are refused', async () => {
  const res = await request(t.app).get('/group').expect(303);
  expect(res.headers.location).toBe('/sign-in?next=%2Fgroup');
  const loner = await signInAs(t, 'sponsor');
  await loner.agent.get('/group').expect(403);
  const staff = await signInAs(t, 'staff');
  await staff.agent.get('/group/plan').expect(403);
  await postForm(staff, '/group/page', { name: 'Hijack', story: '' }).then((r) => expect(r.status).toBe(403));
});

test('a member sees their own group, its readiness and funding position', async () => {
  const res = await memberA.agent.get('/group').expect(200);
  expect(res.text).toContain('Group A');
  expect(res.text).not.toContain('Group B');
  expect(res.text).toContain('Every settlement area must be assigned');
  expect(res.text).toContain('Shortfall');
  expect(res.text).toContain('$28,700.00');
});

test('the coordinator edits the name and story of their own group only, whatever group id is posted; the slug stays; a member cannot', async () => {
  expect((await postForm(memberA, '/group/page', { name: 'Member Rename', story: '' })).status).toBe(403);
  const form = await memberA.agent.get('/group/page').expect(200);
  expect(form.text).toContain('coordinator can change this.');
  expect(form.text).not.toContain('action="/group/page"');
  const res = await postForm(coordA, '/group/page', { name: 'Group A Renamed', story: 'New **story**', groupId: String(groupB.id), id: String(groupB.id) });
  expect(res.status).toBe(303);
  const a = await t.db.selectFrom('sponsor_groups').select(['name', 'story', 'slug']).where('id', '=', groupA.id).executeTakeFirstOrThrow();
  expect(a).toEqual({ name: 'Group A Renamed', story: 'New **story**', slug: groupA.slug });
  const b = await t.db.selectFrom('sponsor_groups').select(['name']).where('id', '=', groupB.id).executeTakeFirstOrThrow();
  expect(b.name).toBe('Group B');
});

test("a page edit taking another group's name, or too long, or without the CSRF token, is refused and nothing changes", async () => {
  const taken = await postForm(coordA, '/group/page', { name: 'group b', story: '' });
  expect(taken.status).toBe(409);
  expect(taken.text).toContain('Another sponsor group already uses this name');
  const long = await postForm(coordA, '/group/page', { name: 'Fine', story: 'x'.repeat(10_001) });
  expect(long.status).toBe(400);
  expect(long.text).toContain('This is too long.');
  await coordA.agent.post('/group/page').type('form').send({ name: 'No token', story: '' }).expect(403);
  const a = await t.db.selectFrom('sponsor_groups').select(['name']).where('id', '=', groupA.id).executeTakeFirstOrThrow();
  expect(a.name).toBe('Group A Renamed');
});

test('the coordinator invites a member (an accounts invitation for this group); a duplicate e-mail is refused', async () => {
  expect((await postForm(coordA, '/group/members', { name: 'Ji-woo Kim', email: 'jiwoo@example.org' })).status).toBe(303);
  expect((await membersOf(groupA.id)).map((m) => m.name)).toContain('Ji-woo Kim');
  const invitation = await t.db.selectFrom('invitations').select(['email', 'role', 'group_id', 'invited_by_user_id']).where('email', '=', 'jiwoo@example.org').executeTakeFirstOrThrow();
  expect(invitation).toEqual({ email: 'jiwoo@example.org', role: 'sponsor', group_id: groupA.id, invited_by_user_id: coordA.user.id });
  const dup = await postForm(coordA, '/group/members', { name: 'Again', email: 'JIWOO@example.org' });
  expect(dup.status).toBe(409);
  expect(dup.text).toContain('already a member');
  const page = await coordA.agent.get('/group/members').expect(200);
  expect(page.text).toContain('Remove Ji-woo Kim');
});

test('a member cannot invite or remove others', async () => {
  const before = await membersOf(groupA.id);
  const jiwoo = before.find((m) => m.name === 'Ji-woo Kim')!;
  expect((await postForm(memberA, '/group/members', { name: 'Z', email: 'z@example.org' })).status).toBe(403);
  expect((await postForm(memberA, `/group/members/${jiwoo.id}/remove`)).status).toBe(403);
  const page = await memberA.agent.get('/group/members').expect(200);
  expect(page.text).not.toContain('Remove Ji-woo Kim');
  expect(await membersOf(groupA.id)).toEqual(before);
});

test("a coordinator cannot remove another group's member, nor the coordinator", async () => {
  const [coordRowB] = await membersOf(groupB.id);
  expect((await postForm(coordA, `/group/members/${coordRowB!.id}/remove`)).status).toBe(404);
  const [coordRowA] = await membersOf(groupA.id);
  expect((await postForm(coordA, `/group/members/${coordRowA!.id}/remove`)).status).toBe(409);
  expect((await postForm(coordB, `/group/members/${coordRowA!.id}/remove`)).status).toBe(404);
  expect((await membersOf(groupB.id)).map((m) => m.id)).toEqual([coordRowB!.id]);
  expect(await membersOf(groupA.id)).toHaveLength(3);
});

test("the settlement plan: every area assigned makes it complete; another group's member cannot be assigned", async () => {
  const [coord, member] = await membersOf(groupA.id);
  const half = Object.fromEntries(SETTLEMENT_AREAS.slice(0, 7).map((a) => [a, String(coord!.id)]));
  expect((await postForm(memberA, '/group/plan', half)).status).toBe(403); // the coordinator decides who does what
  expect((await settlementPlan(t.db, groupA.id)).completeness).toBe(0);
  expect((await postForm(coordA, '/group/plan', half)).status).toBe(303);
  expect((await settlementPlan(t.db, groupA.id)).completeness).toBe(0.5);
  const page = await memberA.agent.get('/group/plan').expect(200);
  expect(page.text).toContain('7 of 14 areas assigned (50%)');

  const full = Object.fromEntries(SETTLEMENT_AREAS.map((a) => [a, [String(coord!.id), String(member!.id)]]));
  expect((await postForm(coordA, '/group/plan', full)).status).toBe(303);
  const plan = await settlementPlan(t.db, groupA.id);
  expect(plan.completeness).toBe(1);
  expect(plan.areas.find((a) => a.area === 'interpretation')!.memberIds.sort()).toEqual([coord!.id, member!.id].sort());

  const [coordRowB] = await membersOf(groupB.id);
  expect((await postForm(coordA, '/group/plan', { reception: String(coordRowB!.id) })).status).toBe(400);
  expect((await settlementPlan(t.db, groupA.id)).completeness).toBe(1);
});

test('removing a member unassigns their areas and ends their access', async () => {
  const [, member] = await membersOf(groupA.id);
  expect((await postForm(coordA, `/group/members/${member!.id}/remove`)).status).toBe(303);
  const plan = await settlementPlan(t.db, groupA.id);
  expect(plan.areas.every((a) => !a.memberIds.includes(member!.id))).toBe(true);
  expect(plan.completeness).toBe(1); // the coordinator still covers every area
  await memberA.agent.get('/group').expect(403);
  expect(await groupMembershipOf(t.db, memberA.user.id)).toBeUndefined();
});

test('in-kind gifts: recorded with value and evidence; bad values refused; a group withdraws only its own, and never confirms', async () => {
  expect((await postForm(coordA, '/group/in-kind', { category: 'furniture', description: 'Beds and a table', value: '1,200.50', evidenceNote: 'Photos and store receipt' })).status).toBe(303);
  const item = await t.db.selectFrom('in_kind_commitments').selectAll().where('group_id', '=', groupA.id).executeTakeFirstOrThrow();
  expect(item).toMatchObject({ category: 'furniture', value_cents: 120_050, status: 'offered', donor_is_party: false });

  for (const value of ['-5', '0', 'abc', '99999999999', '1.234']) {
    const res = await postForm(coordA, '/group/in-kind', { category: 'furniture', description: 'x', value, evidenceNote: 'y' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('id="value-error"');
  }
  expect((await postForm(coordA, '/group/in-kind', { category: 'furniture', description: 'x', value: '10', evidenceNote: '' })).status).toBe(400);
  expect((await postForm(coordA, '/group/in-kind', { category: 'cars', description: 'x', value: '10', evidenceNote: 'y' })).status).toBe(400);

  expect((await postForm(coordB, `/group/in-kind/${item.id}/status`, { status: 'withdrawn' })).status).toBe(404);
  expect((await postForm(coordA, `/group/in-kind/${item.id}/status`, { status: 'lost' })).status).toBe(400);
  // Confirming is staff's (test/groups/in-kind-verification.test.ts); the group may withdraw its own offer.
  expect((await postForm(coordA, `/group/in-kind/${item.id}/status`, { status: 'confirmed' })).status).toBe(403);
  expect((await postForm(coordA, `/group/in-kind/${item.id}/status`, { status: 'withdrawn' })).status).toBe(303);
  const after = await t.db.selectFrom('in_kind_commitments').select(['status']).where('group_id', '=', groupA.id).execute();
  expect(after).toEqual([{ status: 'withdrawn' }]);
});

test('roles: the coordinator names a treasurer, who holds the money but not the decisions; a member holds neither', async () => {
  const treasurer = await signInMember(t, groupA.id, 'member');
  const plain = await signInMember(t, groupA.id, 'member');
  const row = (await membersOf(groupA.id)).find((m) => m.user_id === treasurer.user.id)!;
  expect((await postForm(plain, `/group/members/${row.id}/role`, { role: 'treasurer' })).status).toBe(403);
  expect((await postForm(coordA, `/group/members/${row.id}/role`, { role: 'boss' })).status).toBe(400);
  expect((await postForm(coordA, `/group/members/${row.id}/role`, { role: 'treasurer' })).status).toBe(303);
  const audit = await t.db.selectFrom('audit_log').select(['action', 'details']).where('action', '=', 'group.member_role_set').execute();
  expect(audit).toEqual([{ action: 'group.member_role_set', details: { memberId: row.id, role: 'treasurer' } }]);
  // The coordinator's own row cannot be changed this way.
  const coordRow = (await membersOf(groupA.id)).find((m) => m.role === 'coordinator')!;
  expect((await postForm(coordA, `/group/members/${coordRow.id}/role`, { role: 'member' })).status).toBe(409);

  const item = await t.db.selectFrom('in_kind_commitments').select('id').where('group_id', '=', groupA.id).executeTakeFirstOrThrow();
  expect((await postForm(plain, `/group/in-kind/${item.id}/status`, { status: 'received' })).status).toBe(403);
  // Not even the treasurer confirms or receives an item: staff do, after checking the evidence.
  expect((await postForm(treasurer, `/group/in-kind/${item.id}/status`, { status: 'received' })).status).toBe(403);
  expect((await postForm(treasurer, `/group/in-kind/${item.id}/status`, { status: 'offered' })).status).toBe(303);
  expect((await postForm(treasurer, '/group/page', { name: 'Treasurer Rename', story: '' })).status).toBe(403);
  expect((await postForm(treasurer, '/group/plan', {})).status).toBe(403);
  // Anyone in the group may record an in-kind offer; it counts only once staff confirm it.
  expect((await postForm(plain, '/group/in-kind', { category: 'linens', description: 'Sheets', value: '80', evidenceNote: 'Receipt' })).status).toBe(303);
  const page = await plain.agent.get('/group/in-kind').expect(200);
  expect(page.text).not.toContain(`action="/group/in-kind/${item.id}/status"`);
});

test('a group that has applied but is not approved cannot invite members', async () => {
  const { makeGroup } = await import('./factories');
  const applied = await makeGroup(t.db, { coordinatorEmail: 'early@example.org' });
  const early = await signInMember(t, applied.id, 'coordinator');
  const before = await t.db.selectFrom('outbox').select('id').execute();
  for (let i = 0; i < 3; i++) {
    const res = await postForm(early, '/group/members', { name: 'Your HanVoice donation failed: confirm at https://evil.example', email: `victim${i}@example.org` });
    expect(res.status).toBe(409);
    expect(res.text).toContain('once HanVoice has approved it');
  }
  expect(await t.db.selectFrom('outbox').select('id').execute()).toHaveLength(before.length);
  expect(await t.db.selectFrom('invitations').select('id').where('group_id', '=', applied.id).execute()).toEqual([]);
});

test('a coordinator sends at most 30 invitations a day', async () => {
  const { INVITATION_LIMITS } = await import('../../server/accounts/invitations');
  const busy = await makeApprovedGroup(t.db, { coordinatorEmail: 'busy@example.org' });
  const coordinator = await signInMember(t, busy.id, 'coordinator');
  for (let i = 0; i < INVITATION_LIMITS.perInviter.max; i++) expect((await postForm(coordinator, '/group/members', { name: `Neighbour ${i}`, email: `neighbour${i}@example.org` })).status).toBe(303);
  const over = await postForm(coordinator, '/group/members', { name: 'One more', email: 'one.more@example.org' });
  expect(over.status).toBe(429);
  expect(await t.db.selectFrom('invitations').select('id').where('invited_by_user_id', '=', coordinator.user.id).execute()).toHaveLength(INVITATION_LIMITS.perInviter.max);
});
