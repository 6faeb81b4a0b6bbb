import type { Express } from 'express';
import request from 'supertest';
import { groupRoutes } from '../../server/groups/routes';
import { staffGroupRoutes } from '../../server/groups/staff-routes';
import { POLICY } from '../../server/http/policy';
import { deliverDueEmails } from '../../server/notifications/dispatcher';
import { accounts } from '../../server/ledger/accounts';
import { balanceOf } from '../../server/ledger/ledger';
import { createLogger } from '../../server/logger';
import { makePledge, receive } from '../support/gifts';
import { createTestApp, type TestApp } from '../support/app';
import { as, makeApprovedGroup, makeGroup, sponsor, staffUser, withTestSessions } from './factories';

let t: TestApp;
let app: Express;
beforeAll(async () => {
  t = await createTestApp();
  app = withTestSessions(t.app);
});
afterAll(() => t.destroy());

const auditOf = (subject: string) => t.db.selectFrom('audit_log').select(['action', 'actor_user_id', 'details']).where('subject', '=', subject).orderBy('id').execute();

test('every groups route declares who may use it', () => {
  for (const router of [groupRoutes({ db: t.db, config: t.config }), staffGroupRoutes({ db: t.db, config: t.config })]) {
    for (const layer of router.stack) {
      const first = layer.route?.stack[0]?.handle as unknown as Record<symbol, unknown> | undefined;
      expect({ path: layer.route?.path, policy: first?.[POLICY] }).toEqual({ path: layer.route?.path, policy: expect.any(String) });
    }
  }
});

test('staff pages refuse sponsors and anonymous visitors', async () => {
  const group = await makeGroup(t.db);
  await request(app).get('/staff/groups').set(...as(sponsor(group.id))).expect(403);
  await request(app).post(`/staff/groups/${group.id}/approve`).set(...as(sponsor(group.id))).expect(403);
  await request(app).post(`/staff/groups/${group.id}/approve`).expect(401);
  await request(app).get('/staff/cost-tables').expect(303);
  const row = await t.db.selectFrom('sponsor_groups').select('status').where('id', '=', group.id).executeTakeFirstOrThrow();
  expect(row.status).toBe('applied');
});

test('the review queue lists applications; approval is audited, e-mailed and publishes the page', async () => {
  const group = await makeGroup(t.db, { name: 'Queue Group', coordinatorEmail: 'queue@example.org' });
  const list = await request(app).get('/staff/groups').set(...as(staffUser)).expect(200);
  expect(list.text).toContain('Applications to review');
  expect(list.text).toContain('Queue Group');

  await request(app).post(`/staff/groups/${group.id}/approve`).set(...as(staffUser)).expect(303);
  expect(await auditOf(`group:${group.id}`)).toEqual([{ action: 'group.approved', actor_user_id: 1, details: {} }]);
  await request(app).get(`/groups/${group.slug}`).expect(200);

  const sent: { to: string; subject: string; text: string }[] = [];
  await deliverDueEmails(t.db, { send: async (m: { to: string; subject: string; text: string }) => void sent.push(m) } as never, createLogger(t.config));
  const mail = sent.find((m) => m.to === 'queue@example.org' && m.subject.includes('approved'));
  expect(mail?.text).toContain('http://haven.test/groups/queue-group');

  // Deciding twice is refused.
  await request(app).post(`/staff/groups/${group.id}/reject`).set(...as(staffUser)).type('form').send({ reason: 'Late' }).expect(409);
});

test('rejection needs a reason, is audited and e-mailed with it', async () => {
  const group = await makeGroup(t.db, { coordinatorEmail: 'nope@example.org' });
  const missing = await request(app).post(`/staff/groups/${group.id}/reject`).set(...as(staffUser)).type('form').send({ reason: '  ' }).expect(400);
  expect(missing.text).toContain('Please fill this in.');
  await request(app).post(`/staff/groups/${group.id}/reject`).set(...as(staffUser)).type('form').send({ reason: 'x'.repeat(2001) }).expect(400);
  expect((await t.db.selectFrom('sponsor_groups').select('status').where('id', '=', group.id).executeTakeFirstOrThrow()).status).toBe('applied');

  await request(app).post(`/staff/groups/${group.id}/reject`).set(...as(staffUser)).type('form').send({ reason: 'No members in Canada yet.' }).expect(303);
  expect(await auditOf(`group:${group.id}`)).toEqual([{ action: 'group.rejected', actor_user_id: 1, details: { reason: 'No members in Canada yet.' } }]);
  const mail = await t.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').executeTakeFirstOrThrow();
  expect(mail.payload).toMatchObject({ to: 'nope@example.org', template: 'groups/rejected', data: { reason: 'No members in Canada yet.' } });
});

test('staff record checks (audited) and the detail page shows what is missing', async () => {
  const group = await makeApprovedGroup(t.db);
  await request(app).post(`/staff/groups/${group.id}/checks`).set(...as(staffUser)).type('form').send({ check: 'training', done: 'yes', note: 'Session of 3 May' }).expect(303);
  await request(app).post(`/staff/groups/${group.id}/checks`).set(...as(staffUser)).type('form').send({ check: 'astrology', done: 'yes' }).expect(400);
  const checks = await t.db.selectFrom('group_checks').select(['check_name', 'done', 'note']).where('group_id', '=', group.id).execute();
  expect(checks).toEqual([{ check_name: 'training', done: true, note: 'Session of 3 May' }]);
  expect((await auditOf(`group:${group.id}`)).map((a) => a.action)).toEqual(['group.approved', 'group.check_recorded']);
  const detail = await request(app).get(`/staff/groups/${group.id}`).set(...as(staffUser)).expect(200);
  expect(detail.text).toContain('Members&#x27; background checks');
  expect(detail.text).toContain('Every settlement area must be assigned');
  await request(app).get('/staff/groups/999999').set(...as(staffUser)).expect(404);
  await request(app).get('/staff/groups/abc').set(...as(staffUser)).expect(404);
});

test('staff transfer from the general fund to a group; bad and excessive amounts change nothing', async () => {
  const group = await makeApprovedGroup(t.db);
  const pledge = await makePledge(t.db, { groupId: null, amountCents: 300_000 });
  await receive(t.db, pledge, 300_000);
  for (const amount of ['-10', '0', 'lots', '1e5']) {
    await request(app).post(`/staff/groups/${group.id}/transfer`).set(...as(staffUser)).type('form').send({ amount }).expect(400);
  }
  const tooMuch = await request(app).post(`/staff/groups/${group.id}/transfer`).set(...as(staffUser)).type('form').send({ amount: '999,999' }).expect(409);
  expect(tooMuch.text).toContain('The general fund does not have that much available.');
  expect(await balanceOf(t.db, accounts.fund({ groupId: group.id }))).toBe(0);

  await request(app).post(`/staff/groups/${group.id}/transfer`).set(...as(staffUser)).type('form').send({ amount: '1,500.25' }).expect(303);
  expect(await balanceOf(t.db, accounts.fund({ groupId: group.id }))).toBe(-150_025);
  const workspace = await request(app).get('/group').set(...as(sponsor(group.id, 'member'))).expect(200);
  expect(workspace.text).toContain('$1,500.25');
});

test('staff add a cost-table edition; a duplicate date or bad amounts are refused', async () => {
  const form: Record<string, string> = { editionOn: '2025-04-01' };
  for (const size of [1, 2, 3, 4, 5, 6, 0]) {
    form[`income${size}`] = size ? String(14_000 + size * 1_000) : '1,700';
    form[`startup${size}`] = size ? '3,500.00' : '1,200';
  }
  const bad = await request(app).post('/staff/cost-tables').set(...as(staffUser)).type('form').send({ ...form, income3: '-4' }).expect(400);
  expect(bad.text).toContain('Please correct the fields below.');
  await request(app).post('/staff/cost-tables').set(...as(staffUser)).type('form').send({ ...form, editionOn: 'tomorrow' }).expect(400);
  await request(app).post('/staff/cost-tables').set(...as(staffUser)).type('form').send(form).expect(303);
  const dup = await request(app).post('/staff/cost-tables').set(...as(staffUser)).type('form').send(form).expect(409);
  expect(dup.text).toContain('An edition with this date already exists.');
  const rows = await t.db.selectFrom('cost_tables').select(['family_size', 'income_support_cents']).where('edition_on', '=', '2025-04-01').orderBy('family_size').execute();
  expect(rows[0]).toEqual({ family_size: 0, income_support_cents: 170_000 });
  expect(rows).toHaveLength(7);
  const page = await request(app).get('/staff/cost-tables').set(...as(staffUser)).expect(200);
  expect(page.text).toContain('April 1, 2025');
  const group = await makeGroup(t.db, { familySize: 3 });
  const requirement = await t.db.selectFrom('group_requirements').select(['edition_on', 'income_support_cents']).where('group_id', '=', group.id).executeTakeFirstOrThrow();
  expect(requirement).toEqual({ edition_on: '2025-04-01', income_support_cents: 1_700_000 });
});

test.each(['en', 'fr'] as const)('the group e-mails render in %s with a subject and no missing keys', async (locale) => {
  const { renderEmail } = await import('../../server/notifications/emails');
  for (const template of ['groups/received', 'groups/approved', 'groups/rejected']) {
    const mail = renderEmail({ to: 'a@example.org', template, locale, data: { name: 'Min-ji', groupName: 'Maple', reason: 'R', pageUrl: 'http://x/groups/maple', workspaceUrl: 'http://x/group' } });
    expect(mail.subject).toContain('Maple');
    expect(mail.subject + mail.text).not.toMatch(/emails:|groups\.|\{\{/);
    expect(mail.text).toContain('Min-ji');
  }
});
