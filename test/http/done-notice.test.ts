import { makeGroup } from '../groups/factories';
import { createTestApp, type TestApp } from '../support/app';
import { signInAs, type SignedIn } from '../support/session';

/** After a staff action's redirect the page says what was done; a `done` that names no confirmation shows nothing. */
let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

const notice = (html: string) => /<p class="notice" role="status" data-done>([^<]*)<\/p>/.exec(html)?.[1];

test('approving a group, recording a check and adding a cost table each confirm after the redirect, in the reader’s language', async () => {
  const group = await makeGroup(t.db, { name: 'Confirmed Neighbours' });
  const approved = await staff.postForm(`/staff/groups/${group.id}/approve`);
  expect(approved.status).toBe(303);
  expect(approved.headers.location).toBe(`/staff/groups/${group.id}?done=groups.approved`);
  const page = await staff.agent.get(approved.headers.location!).expect(200);
  expect(notice(page.text)).toBe('The group is approved: its coordinator has been invited to set up the workspace.');

  const checked = await staff.postForm(`/staff/groups/${group.id}/checks`, { check: 'training', done: 'yes', note: '' });
  expect(checked.status).toBe(303);
  expect(notice((await staff.agent.get(checked.headers.location!).expect(200)).text)).toBe('The check is recorded.');

  const french = await signInAs(t, 'staff');
  const fr = await french.agent.get(`/staff/groups/${group.id}?done=groups.approved&lang=fr`).expect(200);
  expect(notice(fr.text)).toBe('Le groupe est approuvé : sa personne coordonnatrice a été invitée à ouvrir l’espace du groupe.');
});

test('a done value that is not a confirmation message shows nothing', async () => {
  for (const done of ['groups.nope', 'groups:done.approved', 'common.errors', 'accounts.staff', '<b>x</b>']) {
    const res = await staff.agent.get(`/staff?done=${encodeURIComponent(done)}`).expect(200);
    expect(notice(res.text)).toBeUndefined();
  }
  expect(notice((await staff.agent.get('/staff').expect(200)).text)).toBeUndefined();
});
