/**
 * Issue 18's workspace leftovers: every group-workspace action is confirmed after its redirect
 * (?done=groups.<what>, shown in the reader's language), the overview's readiness blockers link to
 * the sections that fix them, and a matched group's overview says it is matched.
 */
import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../../server/db/schema';
import { keyringOf } from '../../server/families/data-keys';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { availableFamily, SENTINELS, staffA, staffB } from '../families/factories';
import { readyGroup } from '../matching/factories';
import { createTestApp, type TestApp } from '../support/app';
import { type SignedIn, signInAs } from '../support/session';
import { makeApprovedGroup, postForm, signInMember } from './factories';

const familyKey = randomBytes(32);
let t: TestApp;
let group: { id: number; slug: string };
let coordinator: SignedIn;
beforeAll(async () => {
  t = await createTestApp({ FAMILY_DATA_KEY: familyKey.toString('hex') });
  group = await makeApprovedGroup(t.db, { name: 'Maple Neighbours' });
  coordinator = await signInMember(t, group.id, 'coordinator');
});
afterAll(() => t.destroy());

const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => t.db.transaction().execute(fn);

/** The confirmation paragraph the followed page prints, or undefined. */
const notice = (html: string) => /<p class="notice" role="status" data-done>([^<]*)<\/p>/.exec(html)?.[1];
const unescape = (s: string | undefined) => s?.replace(/&#x27;/g, "'").replace(/&#x3D;/g, '=');

/** Posts, checks the 303 carries ?done=groups.<what>, follows it and returns the page's confirmation. */
async function confirmation(path: string, fields: Record<string, unknown>, expected: string, lang?: string) {
  const res = await postForm(coordinator, path, fields);
  if (res.status !== 303) throw new Error(`expected 303 from ${path}, got ${res.status}: ${res.text.slice(0, 300)}`);
  const location = res.headers.location!;
  expect(location).toMatch(new RegExp(`\\?done=groups\\.${expected}$`));
  const page = await coordinator.agent.get(lang ? `${location}&lang=${lang}` : location).expect(200);
  return unescape(notice(page.text));
}

test('each workspace action redirects with ?done=groups.<what> and the followed page confirms it', async () => {
  expect(await confirmation('/group/page', { name: 'Maple Neighbours', story: 'We are neighbours.' }, 'pageSaved')).toBe("Your group's page is saved.");
  expect(await confirmation('/group/members', { name: 'Ji-woo Kim', email: 'jiwoo@example.org' }, 'memberAdded')).toBe(
    'The member is invited: they will receive an e-mail to join the group.',
  );
  const member = await t.db.selectFrom('group_members').select('id').where('group_id', '=', group.id).where('email', '=', 'jiwoo@example.org').executeTakeFirstOrThrow();
  expect(await confirmation(`/group/members/${member.id}/role`, { role: 'treasurer' }, 'roleChanged')).toBe("The member's role is changed.");
  expect(await confirmation('/group/plan', { housing: [String(member.id)] }, 'planSaved')).toBe('The settlement plan is saved.');
  expect(await confirmation('/group/in-kind', { category: 'furniture', description: 'Beds', value: '300', evidenceNote: 'Receipt' }, 'inKindAdded')).toBe(
    'The in-kind gift is recorded. Staff will check its evidence before it counts.',
  );
  const item = await t.db.selectFrom('in_kind_commitments').select('id').where('group_id', '=', group.id).executeTakeFirstOrThrow();
  expect(await confirmation(`/group/in-kind/${item.id}/status`, { status: 'withdrawn' }, 'inKindStatus')).toBe("The in-kind gift's status is changed.");
  expect(await confirmation(`/group/members/${member.id}/remove`, {}, 'memberRemoved')).toBe('The member is removed from the group.');

  // Without an action there is no confirmation, and a key outside groups:done shows nothing.
  expect(notice((await coordinator.agent.get('/group/members').expect(200)).text)).toBeUndefined();
  expect(notice((await coordinator.agent.get('/group/members?done=groups.title').expect(200)).text)).toBeUndefined();
});

test('a Korean reader is confirmed in Korean', async () => {
  expect(await confirmation('/group/in-kind', { category: 'linens', description: 'Sheets', value: '80', evidenceNote: 'Receipt' }, 'inKindAdded', 'ko')).toBe(
    '물품 후원을 기록했습니다. 직원이 증빙을 확인한 후에 반영됩니다.',
  );
});

test("a not-ready group's overview links each blocker to the section that fixes it; staff's checks say they are staff's", async () => {
  const other = await makeApprovedGroup(t.db, { name: 'Cedar Circle' });
  const coord = await signInMember(t, other.id, 'coordinator');
  const html = (await coord.agent.get('/group').expect(200)).text;
  expect(html).toContain('Ready to be matched');
  const blocker = (code: string) => new RegExp(`<li data-blocker="${code}">([\\s\\S]*?)</li>`).exec(html)?.[1] ?? '';
  const blockers = [...html.matchAll(/data-blocker="([a-z_]+)"/g)].map((m) => m[1]);
  expect(blockers).toEqual(['funds', 'settlement_plan', 'training', 'background_checks']);
  expect(blocker('settlement_plan')).toContain('href="/group/plan"');
  expect(blocker('funds')).toContain(`href="/groups/${other.slug}"`);
  expect(blocker('funds')).toContain('href="/group/in-kind"');
  expect(blocker('background_checks')).toContain('href="/group/members"');
  for (const code of ['training', 'background_checks']) expect(blocker(code)).toContain('HanVoice staff record this');
  expect(blocker('training')).not.toContain('href=');

  // Staff's own page shows the same checklist without the workspace's links.
  const staff = await signInAs(t, 'staff');
  const detail = (await staff.agent.get(`/staff/groups/${other.id}`).expect(200)).text;
  expect(detail).toContain('data-blocker="funds"');
  expect(detail).not.toContain('href="/group/plan"');
});

test('once a match is approved, the overview says the group is matched, not "Ready to be matched", and names nothing of the family', async () => {
  const matched = await readyGroup(t.db, { familySize: 2 });
  const coord = await signInMember(t, matched.id, 'coordinator');
  const before = (await coord.agent.get('/group').expect(200)).text;
  expect(before).toContain('Ready to be matched');
  expect(before).not.toContain('data-matched');

  const family = await availableFamily(t.db, keyringOf(familyKey), { adults: 1, children: 1 });
  const match = await tx((trx) => proposeMatch(trx, t.config, staffA, { familyId: family.id, groupId: matched.id }));
  // A proposed match (a hold) is not a match yet.
  expect((await coord.agent.get('/group').expect(200)).text).toContain('Ready to be matched');
  await tx((trx) => approveMatch(trx, t.config, staffB, match.id));

  const after = (await coord.agent.get('/group').expect(200)).text;
  expect(after).not.toContain('Ready to be matched');
  expect(after).toContain('Your group is matched with a family.');
  expect(after).toContain('href="/group/family"');
  for (const secret of Object.values(SENTINELS)) if (typeof secret === 'string' && secret.startsWith('SENTINEL')) expect(after).not.toContain(secret);
  expect(after).not.toContain(`/families/${family.id}`);

  const korean = (await coord.agent.get('/group?lang=ko').expect(200)).text;
  expect(korean).toContain('그룹이 한 가족과 연결되었습니다.');
  expect(korean).not.toContain('연결 준비 상태');
});
