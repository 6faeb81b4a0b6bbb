import { sql } from 'kysely';
import request from 'supertest';
import { rejectGroup } from '../../server/groups/applications';
import { updateGroupPage } from '../../server/groups/workspace';
import { makePledge, receive } from '../support/gifts';
import { createTestApp, type TestApp } from '../support/app';
import { makeApprovedGroup, makeGroup, staffActor } from './factories';

let t: TestApp;
const unescapeHtml = (s: string) => s.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

test('an approved group has a public page with its story rendered and sanitised, its city and a non-binding give button', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Maple Friends', city: 'Guelph', familySize: 2 });
  await t.db.transaction().execute((trx) =>
    updateGroupPage(trx, group.id, { name: 'Maple Friends', story: '## Who we are\n\nWe are **twelve** neighbours.\n\n<script>alert(1)</script><img src=x onerror="alert(2)">\n\n[site](javascript:alert(3))' }),
  );
  const res = await request(t.app).get(`/groups/${group.slug}`).expect(200);
  expect(res.text).toContain('<h2>Who we are</h2>');
  expect(res.text).toContain('<strong>twelve</strong>');
  expect(res.text).not.toMatch(/<script>alert|onerror|javascript:/);
  expect(res.text).toContain('Guelph, Ontario');
  expect(res.text).toContain(`href="/give?groupId=${group.id}"`);
  expect(res.text).toContain('not binding');
  // The goal is the cost-table amount for a family of two: $24,800.
  expect(res.text).toContain('Goal: $24,800');
});

test('a story is rendered once, when it is saved: the page serves the stored HTML, and the migration renders stories saved before it', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Stored Story', story: 'First **draft**.' });
  const stored = () => t.db.selectFrom('sponsor_groups').select(['story', 'story_html']).where('id', '=', group.id).executeTakeFirstOrThrow();
  expect((await stored()).story_html).toBe('<p>First <strong>draft</strong>.</p>\n');
  await t.db.transaction().execute((trx) => updateGroupPage(trx, group.id, { name: 'Stored Story', story: 'Now *final*. <script>alert(1)</script>' }));
  expect((await stored()).story_html).toBe('<p>Now <em>final</em>. </p>\n');

  // The page shows what was rendered at saving, not the Markdown rendered again per request.
  await t.db.updateTable('sponsor_groups').set({ story: 'Changed **behind** its back' }).where('id', '=', group.id).execute();
  const page = await request(t.app).get(`/groups/${group.slug}`).expect(200);
  expect(page.text).toContain('<p>Now <em>final</em>. </p>');
  expect(page.text).not.toContain('behind');

  // Stories saved before the column existed are rendered by the migration that adds it.
  await sql`alter table sponsor_groups drop column story_html`.execute(t.db);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const migration = require('../../migrations/20261202130100_group_story_html') as { up(db: unknown): Promise<void> };
  await migration.up(t.db);
  expect(await stored()).toEqual({ story: 'Changed **behind** its back', story_html: '<p>Changed <strong>behind</strong> its back</p>\n' });
});

test('the bar shows what was received and what is pledged for the group', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Bar Group' });
  const paid = await makePledge(t.db, { groupId: group.id, amountCents: 500_000 });
  await receive(t.db, paid, 500_000);
  await makePledge(t.db, { groupId: group.id, amountCents: 250_000 });
  const res = await request(t.app).get(`/groups/${group.slug}`).expect(200);
  expect(res.text).toContain('Received: $5,000');
  expect(res.text).toContain('Pledged, not yet received: $2,500');
  expect(res.text).toMatch(/class="progress__received" x="0" y="0" width="174"/); // 5,000 / 28,700
});

test('a group page never mentions matching or a family', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Quiet Group' });
  const res = await request(t.app).get(`/groups/${group.slug}`).expect(200);
  expect(res.text).not.toMatch(/matched|jumel|case code/i);
});

test('applied, rejected and unknown groups are not found', async () => {
  const applied = await makeGroup(t.db, { name: 'Pending Group' });
  const rejected = await makeGroup(t.db, { name: 'Rejected Group' });
  await t.db.transaction().execute((trx) => rejectGroup(trx, staffActor, rejected.id, 'Incomplete'));
  await request(t.app).get(`/groups/${applied.slug}`).expect(404);
  await request(t.app).get(`/groups/${rejected.slug}`).expect(404);
  await request(t.app).get('/groups/no-such-group').expect(404);
  const list = await request(t.app).get('/groups').expect(200);
  expect(list.text).not.toContain('Pending Group');
  expect(list.text).not.toContain('Rejected Group');
});

test('the list is searchable by city and paged', async () => {
  for (let i = 0; i < 22; i += 1) await makeApprovedGroup(t.db, { name: `Ottawa Circle ${String(i).padStart(2, '0')}`, city: 'Ottawa' });
  await makeApprovedGroup(t.db, { name: 'Montreal Welcome', city: 'Montréal', province: 'QC' });

  const montreal = await request(t.app).get('/groups').query({ city: 'montr' }).expect(200);
  expect(montreal.text).toContain('Montreal Welcome');
  expect(montreal.text).not.toContain('Ottawa Circle');

  const first = await request(t.app).get('/groups').query({ city: 'Ottawa' }).expect(200);
  expect(first.text.match(/Ottawa Circle \d\d/g)).toHaveLength(20);
  const next = unescapeHtml(/rel="next" href="([^"]+)"/.exec(first.text)![1]!);
  expect(next).toMatch(/^\/groups\?city=Ottawa&after=/);
  const second = await request(t.app).get(next).expect(200);
  expect(second.text.match(/Ottawa Circle \d\d/g)).toEqual(['Ottawa Circle 20', 'Ottawa Circle 21']);
  expect(second.text).not.toContain('rel="next"');
});

test('the public page is in French when asked', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Les Amis', city: 'Québec', province: 'QC' });
  const res = await request(t.app).get(`/groups/${group.slug}?lang=fr`).expect(200);
  expect(res.text).toContain('Québec, Québec');
  expect(res.text).toContain('Objectif');
  expect(res.text).toContain('pas contraignante');
});

test('only approved groups may be named as a giving preference', async () => {
  const { isPreferableGroup, listPreferableGroups } = await import('../../server/groups/public-pages');
  const approved = await makeApprovedGroup(t.db, { name: 'Aardvark Approved' });
  const applied = await makeGroup(t.db, { name: 'Aardvark Applied' });
  expect(await isPreferableGroup(t.db, approved.id)).toBe(true);
  expect(await isPreferableGroup(t.db, applied.id)).toBe(false);
  expect(await isPreferableGroup(t.db, 0)).toBe(false);
  const names = (await listPreferableGroups(t.db)).map((g) => g.name);
  expect(names).toContain('Aardvark Approved');
  expect(names).not.toContain('Aardvark Applied');
});

test('the next-page link keeps a city with special characters intact', async () => {
  for (let i = 0; i < 21; i += 1) await makeApprovedGroup(t.db, { name: `Saint Circle ${String(i).padStart(2, '0')}`, city: 'St. John & Sons' });
  const first = await request(t.app).get('/groups').query({ city: 'St. John & Sons' }).expect(200);
  const next = unescapeHtml(/rel="next" href="([^"]+)"/.exec(first.text)![1]!);
  const second = await request(t.app).get(next).expect(200);
  expect(second.text.match(/Saint Circle \d\d/g)).toEqual(['Saint Circle 20']);
});
