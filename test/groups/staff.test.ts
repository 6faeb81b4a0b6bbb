import request from 'supertest';
import { deliverDueEmails } from '../../server/notifications/dispatcher';
import { accounts } from '../../server/ledger/accounts';
import { balanceOf } from '../../server/ledger/ledger';
import { createLogger } from '../../server/logger';
import { makePledge, receive } from '../support/gifts';
import { createTestApp, type TestApp } from '../support/app';
import { type SignedIn, signInAs } from '../support/session';
import { makeApprovedGroup, makeGroup, postForm, signInMember } from './factories';

let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff', { name: 'Staff Person' });
});
afterAll(() => t.destroy());

const auditOf = (subject: string) => t.db.selectFrom('audit_log').select(['action', 'actor_user_id', 'details']).where('subject', '=', subject).orderBy('id').execute();

test('staff pages refuse sponsors and anonymous visitors', async () => {
  const group = await makeGroup(t.db);
  const coordinator = await signInMember(t, group.id, 'coordinator');
  await coordinator.agent.get('/staff/groups').expect(403);
  expect((await postForm(coordinator, `/staff/groups/${group.id}/approve`)).status).toBe(403);
  await request(t.app).post(`/staff/groups/${group.id}/approve`).expect(403); // no CSRF token, no session
  await request(t.app).get('/staff/cost-tables').expect(303);
  const row = await t.db.selectFrom('sponsor_groups').select('status').where('id', '=', group.id).executeTakeFirstOrThrow();
  expect(row.status).toBe('applied');
});

test('the review queue lists applications; approval is audited, e-mailed and publishes the page', async () => {
  const group = await makeGroup(t.db, { name: 'Queue Group', coordinatorEmail: 'queue@example.org' });
  const list = await staff.agent.get('/staff/groups').expect(200);
  expect(list.text).toContain('Applications to review');
  expect(list.text).toContain('Queue Group');

  expect((await postForm(staff, `/staff/groups/${group.id}/approve`)).status).toBe(303);
  expect(await auditOf(`group:${group.id}`)).toEqual([{ action: 'group.approved', actor_user_id: staff.user.id, details: {} }]);
  await request(t.app).get(`/groups/${group.slug}`).expect(200);

  const sent: { to: string; subject: string; text: string }[] = [];
  await deliverDueEmails(t.db, { send: async (m: { to: string; subject: string; text: string }) => void sent.push(m) } as never, createLogger(t.config));
  const mail = sent.find((m) => m.to === 'queue@example.org' && m.subject.includes('approved'));
  expect(mail?.text).toContain('http://haven.test/groups/queue-group');

  // Deciding twice is refused.
  expect((await postForm(staff, `/staff/groups/${group.id}/reject`, { reason: 'Late' })).status).toBe(409);
});

test('rejection needs a reason, is audited and e-mailed with it', async () => {
  const group = await makeGroup(t.db, { coordinatorEmail: 'nope@example.org' });
  const missing = await postForm(staff, `/staff/groups/${group.id}/reject`, { reason: '  ' });
  expect(missing.status).toBe(400);
  expect(missing.text).toContain('Please fill this in.');
  expect((await postForm(staff, `/staff/groups/${group.id}/reject`, { reason: 'x'.repeat(2001) })).status).toBe(400);
  expect((await t.db.selectFrom('sponsor_groups').select('status').where('id', '=', group.id).executeTakeFirstOrThrow()).status).toBe('applied');

  expect((await postForm(staff, `/staff/groups/${group.id}/reject`, { reason: 'No members in Canada yet.' })).status).toBe(303);
  expect(await auditOf(`group:${group.id}`)).toEqual([{ action: 'group.rejected', actor_user_id: staff.user.id, details: { reason: 'No members in Canada yet.' } }]);
  const mail = await t.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').executeTakeFirstOrThrow();
  expect(mail.payload).toMatchObject({ to: 'nope@example.org', template: 'groups/rejected', data: { reason: 'No members in Canada yet.' } });
});

test('staff record checks (audited) and the detail page shows what is missing', async () => {
  const group = await makeApprovedGroup(t.db);
  expect((await postForm(staff, `/staff/groups/${group.id}/checks`, { check: 'training', done: 'yes', note: 'Session of 3 May' })).status).toBe(303);
  expect((await postForm(staff, `/staff/groups/${group.id}/checks`, { check: 'astrology', done: 'yes' })).status).toBe(400);
  const checks = await t.db.selectFrom('group_checks').select(['check_name', 'done', 'note']).where('group_id', '=', group.id).execute();
  expect(checks).toEqual([{ check_name: 'training', done: true, note: 'Session of 3 May' }]);
  expect((await auditOf(`group:${group.id}`)).map((a) => a.action)).toEqual(['group.approved', 'group.check_recorded']);
  const detail = await staff.agent.get(`/staff/groups/${group.id}`).expect(200);
  expect(detail.text).toContain('Members&#x27; background checks');
  expect(detail.text).toContain('Every settlement area must be assigned');
  await staff.agent.get('/staff/groups/999999').expect(404);
  await staff.agent.get('/staff/groups/abc').expect(404);
});

test('staff transfer from the general fund to a group; bad and excessive amounts change nothing', async () => {
  const group = await makeApprovedGroup(t.db);
  const pledge = await makePledge(t.db, { groupId: null, amountCents: 300_000 });
  await receive(t.db, pledge, 300_000);
  for (const amount of ['-10', '0', 'lots', '1e5']) {
    expect((await postForm(staff, `/staff/groups/${group.id}/transfer`, { amount })).status).toBe(400);
  }
  const tooMuch = await postForm(staff, `/staff/groups/${group.id}/transfer`, { amount: '999,999' });
  expect(tooMuch.status).toBe(409);
  expect(tooMuch.text).toContain('The general fund does not have that much available.');
  expect(await balanceOf(t.db, accounts.fund({ groupId: group.id }))).toBe(0);

  expect((await postForm(staff, `/staff/groups/${group.id}/transfer`, { amount: '1,500.25' })).status).toBe(303);
  expect(await balanceOf(t.db, accounts.fund({ groupId: group.id }))).toBe(-150_025);
  const workspace = await (await signInMember(t, group.id, 'member')).agent.get('/group').expect(200);
  expect(workspace.text).toContain('$1,500.25');
});

test('staff add a cost-table edition; a duplicate date or bad amounts are refused', async () => {
  const form: Record<string, string> = { editionOn: '2025-04-01' };
  for (const size of [1, 2, 3, 4, 5, 6, 0]) {
    form[`income${size}`] = size ? String(14_000 + size * 1_000) : '1,700';
    form[`startup${size}`] = size ? '3,500.00' : '1,200';
  }
  const bad = await postForm(staff, '/staff/cost-tables', { ...form, income3: '-4' });
  expect(bad.status).toBe(400);
  expect(bad.text).toContain('Please correct the fields below.');
  expect((await postForm(staff, '/staff/cost-tables', { ...form, editionOn: 'tomorrow' })).status).toBe(400);
  expect((await postForm(staff, '/staff/cost-tables', form)).status).toBe(303);
  const dup = await postForm(staff, '/staff/cost-tables', form);
  expect(dup.status).toBe(409);
  expect(dup.text).toContain('An edition with this date already exists.');
  const rows = await t.db.selectFrom('cost_tables').select(['family_size', 'income_support_cents']).where('edition_on', '=', '2025-04-01').orderBy('family_size').execute();
  expect(rows[0]).toEqual({ family_size: 0, income_support_cents: 170_000 });
  expect(rows).toHaveLength(7);
  const page = await staff.agent.get('/staff/cost-tables').expect(200);
  expect(page.text).toContain('April 1, 2025');
  const group = await makeGroup(t.db, { familySize: 3 });
  const requirement = await t.db.selectFrom('group_requirements').select(['edition_on', 'income_support_cents']).where('group_id', '=', group.id).executeTakeFirstOrThrow();
  expect(requirement).toEqual({ edition_on: '2025-04-01', income_support_cents: 1_700_000 });
});

test.each(['en', 'fr'] as const)('the group e-mails render in %s with a subject and no missing keys', async (locale) => {
  const { renderEmail } = await import('../../server/notifications/emails');
  for (const template of ['groups/received', 'groups/approved', 'groups/rejected']) {
    const mail = renderEmail({ to: 'a@example.org', template, locale, data: { name: 'Min-ji', groupName: 'Maple', reason: 'R', pageUrl: 'http://x/groups/maple', workspaceUrl: 'http://x/group' } });
    // The group's name is written by the applicant: quoted in the body, never in the subject (test/notifications/emails.test.ts).
    expect(mail.subject).not.toContain('Maple');
    expect(mail.subject + mail.text).not.toMatch(/emails:|groups\.|\{\{/);
    expect(mail.text).toContain(locale === 'fr' ? '«\u00a0Maple\u00a0»' : '“Maple”');
  }
});

test.each(['en', 'fr'])('every groups page renders in %s with no untranslated message key', async (lang) => {
  const group = await makeApprovedGroup(t.db, { name: `Pages ${lang}` });
  const coordinator = await signInMember(t, group.id, 'coordinator');
  await postForm(coordinator, '/group/in-kind', { category: 'housing', description: 'Flat', value: '500', evidenceNote: 'Lease' });
  const pages: [typeof staff.agent | ReturnType<typeof request>, string][] = [
    [request(t.app), '/groups/apply'],
    [request(t.app), '/groups/apply/thanks'],
    [request(t.app), '/groups'],
    [request(t.app), `/groups/${group.slug}`],
    [coordinator.agent, '/group'],
    [coordinator.agent, '/group/page'],
    [coordinator.agent, '/group/members'],
    [coordinator.agent, '/group/plan'],
    [coordinator.agent, '/group/in-kind'],
    [staff.agent, '/staff/groups'],
    [staff.agent, `/staff/groups/${group.id}`],
    [staff.agent, '/staff/cost-tables'],
  ];
  for (const [agent, path] of pages) {
    const res = await agent.get(`${path}?lang=${lang}`);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    expect({ path, keys: res.text.match(/\b(groups|accounts|common|emails):[a-zA-Z_.]+/g) }).toEqual({ path, keys: null });
  }
});

test('the coordinator is invited when staff approve the group, not when it applies (an application is unvetted)', async () => {
  const group = await makeGroup(t.db, { coordinatorEmail: 'slow@example.org' });
  expect(await t.db.selectFrom('invitations').select('id').where('email', '=', 'slow@example.org').execute()).toEqual([]);
  expect((await postForm(staff, `/staff/groups/${group.id}/approve`)).status).toBe(303);
  const invitations = await t.db.selectFrom('invitations').select(['group_id', 'invited_by_user_id']).where('email', '=', 'slow@example.org').execute();
  expect(invitations).toEqual([{ group_id: group.id, invited_by_user_id: null }]);
  const mails = (await t.db.selectFrom('outbox').select('payload').execute()).map((m) => m.payload as unknown as { to: string; template: string });
  expect(mails.filter((m) => m.to === 'slow@example.org').map((m) => m.template)).toEqual(['groups/received', 'accounts/invitation', 'groups/approved']);

  // A rejected application invites nobody.
  const refused = await makeGroup(t.db, { coordinatorEmail: 'refused@example.org' });
  expect((await postForm(staff, `/staff/groups/${refused.id}/reject`, { reason: 'Not in Canada' })).status).toBe(303);
  expect(await t.db.selectFrom('invitations').select('id').where('email', '=', 'refused@example.org').execute()).toEqual([]);
});

test('staff correct a group’s story in English and Korean: the public page shows it in each language, members cannot, bad input keeps what was typed', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Story Group' });
  const coordinator = await signInMember(t, group.id, 'coordinator');
  expect((await postForm(coordinator, `/staff/groups/${group.id}/story`, { story: 'Mine now', storyKo: '' })).status).toBe(403);

  const tooLong = await postForm(staff, `/staff/groups/${group.id}/story`, { story: 'x'.repeat(10_001), storyKo: '우리 교회 소식' });
  expect(tooLong.status).toBe(400);
  expect(tooLong.text).toContain('id="story-error"');
  expect(tooLong.text).toContain('우리 교회 소식'); // what was typed is kept
  const unchanged = await t.db.selectFrom('sponsor_groups').select(['story', 'story_ko']).where('id', '=', group.id).executeTakeFirstOrThrow();
  expect(unchanged.story_ko).toBe('');

  const saved = await postForm(staff, `/staff/groups/${group.id}/story`, { story: 'We are **twelve** neighbours.', storyKo: '저희는 **열두** 이웃입니다.' });
  expect(saved.status).toBe(303);
  expect(saved.headers.location).toBe(`/staff/groups/${group.id}?done=groups.story`);
  const confirmed = await staff.agent.get(`${saved.headers.location!}&lang=en`).expect(200);
  expect(confirmed.text).toContain('story is saved: its page shows it now.');

  const english = await request(t.app).get(`/groups/${group.slug}?lang=en`).expect(200);
  expect(english.text).toContain('We are <strong>twelve</strong> neighbours.');
  const korean = await request(t.app).get(`/groups/${group.slug}?lang=ko`).expect(200);
  expect(korean.text).toContain('저희는 <strong>열두</strong> 이웃입니다.');
  expect(korean.text).not.toContain('We are <strong>twelve</strong>');

  const audit = (await auditOf(`group:${group.id}`)).filter((a) => a.action === 'group.story_edited');
  expect(audit).toEqual([{ action: 'group.story_edited', actor_user_id: staff.user.id, details: { languages: 'en, ko' } }]);
});
