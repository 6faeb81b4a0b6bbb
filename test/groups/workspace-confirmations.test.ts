/**
 * Issue 18's workspace leftovers: every group-workspace action is confirmed after its redirect
 * (?done=groups.<what>, shown in the reader's language).
 */
import { createTestApp, type TestApp } from '../support/app';
import type { SignedIn } from '../support/session';
import { makeApprovedGroup, postForm, signInMember } from './factories';

let t: TestApp;
let group: { id: number; slug: string };
let coordinator: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  group = await makeApprovedGroup(t.db, { name: 'Maple Neighbours' });
  coordinator = await signInMember(t, group.id, 'coordinator');
});
afterAll(() => t.destroy());

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
