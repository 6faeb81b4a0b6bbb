import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { keyringOf } from '../../server/families/data-keys';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { availableFamily, staffA, staffB } from '../families/factories';
import { signInMember } from '../groups/factories';
import { readyGroup } from '../matching/factories';
import { createTestApp, type TestApp } from '../support/app';
import { signInAs, type SignedIn } from '../support/session';

/**
 * Sessions that can see a family's identity (staff; members of a matched group) end after 30
 * minutes without a request; others keep their 14 days. The clock is the database's: the test
 * moves a session's last request back in time.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

async function idleFor(who: SignedIn, minutes: number) {
  await t.db
    .updateTable('sessions')
    .set({ last_seen_at: sql<Date>`now() - make_interval(mins => ${minutes})` })
    .where('user_id', '=', who.user.id)
    .execute();
}

async function sessionCount(who: SignedIn): Promise<number> {
  return (await t.db.selectFrom('sessions').select('token_hash').where('user_id', '=', who.user.id).execute()).length;
}

test('a staff session idle for 31 minutes is ended and the next page asks to sign in again, saying why', async () => {
  const staff = await signInAs(t, 'staff');
  await idleFor(staff, 29);
  expect((await staff.agent.get('/staff')).status).toBe(200);
  // That request counted as activity: 29 more minutes are fine again.
  await t.db.updateTable('sessions').set({ last_seen_at: sql<Date>`last_seen_at - interval '29 minutes'` }).where('user_id', '=', staff.user.id).execute();
  expect((await staff.agent.get('/staff')).status).toBe(200);

  await idleFor(staff, 31);
  const res = await staff.agent.get('/staff/families');
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe(`/sign-in?next=${encodeURIComponent('/staff/families')}&notice=idle`);
  expect(await sessionCount(staff)).toBe(0);
  const signIn = await staff.agent.get(res.headers.location!);
  expect(signIn.text).toContain('signed out after 30 minutes without activity');
});

test('a sponsor whose group is not matched keeps an idle session; once the group is matched, 30 minutes idle ends it', async () => {
  const group = await readyGroup(t.db);
  const coordinator = await signInMember(t, group.id, 'coordinator');
  await idleFor(coordinator, 240);
  expect((await coordinator.agent.get('/group')).status).toBe(200);

  const family = await availableFamily(t.db, keyringOf(randomBytes(32)));
  const match = await t.db.transaction().execute((trx) => proposeMatch(trx, t.config, staffA, { familyId: family.id, groupId: group.id }));
  await t.db.transaction().execute((trx) => approveMatch(trx, t.config, staffB, match.id, ['names']));
  await idleFor(coordinator, 31);
  const res = await coordinator.agent.get('/group/family');
  expect(res.status).toBe(303);
  expect(res.headers.location).toContain('notice=idle');
  expect(await sessionCount(coordinator)).toBe(0);
});

test('activity is written at most once a minute, not on every request', async () => {
  const staff = await signInAs(t, 'staff');
  const first = await t.db.selectFrom('sessions').select('last_seen_at').where('user_id', '=', staff.user.id).executeTakeFirstOrThrow();
  await staff.agent.get('/staff').expect(200);
  const second = await t.db.selectFrom('sessions').select('last_seen_at').where('user_id', '=', staff.user.id).executeTakeFirstOrThrow();
  expect(second.last_seen_at.getTime()).toBe(first.last_seen_at.getTime());
});
