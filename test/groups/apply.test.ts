import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { anonymous } from '../support/session';
import { postForm } from './factories';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

const valid = {
  name: 'Friends of Hamilton',
  city: 'Hamilton',
  province: 'ON',
  coordinatorName: 'Min-ji Park',
  coordinatorEmail: 'MINJI@example.org',
  languages: ['ko', 'en'],
  familySize: '3',
  story: 'We meet every Sunday.',
};

test('the application form lists provinces and Korean', async () => {
  const res = await request(t.app).get('/groups/apply').expect(200);
  expect(res.text).toContain('<option value="QC"');
  expect(res.text).toContain('Korean');
  expect(res.text).toContain('name="_csrf"');
});

test('applying creates an applied group, its coordinator, its requirement and a confirmation e-mail', async () => {
  const res = await postForm(await anonymous(t), '/groups/apply', valid);
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/groups/apply/thanks');
  const group = await t.db.selectFrom('sponsor_groups').selectAll().where('name', '=', 'Friends of Hamilton').executeTakeFirstOrThrow();
  expect(group).toMatchObject({ slug: 'friends-of-hamilton', status: 'applied', city: 'Hamilton', province: 'ON', family_size: 3, languages: ['ko', 'en'], coordinator_email: 'minji@example.org' });
  const members = await t.db.selectFrom('group_members').select(['name', 'email', 'role']).where('group_id', '=', group.id).execute();
  expect(members).toEqual([{ name: 'Min-ji Park', email: 'minji@example.org', role: 'coordinator' }]);
  const requirement = await t.db.selectFrom('group_requirements').selectAll().where('group_id', '=', group.id).executeTakeFirstOrThrow();
  expect(requirement).toMatchObject({ edition_on: '2018-05-01', family_size: 3, income_support_cents: 2_040_000, startup_cents: 630_000 });
  const mails = await t.db.selectFrom('outbox').select('payload').orderBy('id').execute();
  // Only the confirmation: the coordinator is invited once staff approve the group (test/groups/staff.test.ts).
  expect(mails.map((m) => m.payload)).toEqual([expect.objectContaining({ to: 'minji@example.org', template: 'groups/received' })]);
  expect(await t.db.selectFrom('invitations').select('id').execute()).toEqual([]);
});

test('an applied group has no public page', async () => {
  await request(t.app).get('/groups/friends-of-hamilton').expect(404);
});

test('a second group with a similar name gets its own slug; the same name is refused with nothing written', async () => {
  expect((await postForm(await anonymous(t), '/groups/apply', { ...valid, name: 'Friends of Hamilton!', coordinatorEmail: 'b@example.org' })).status).toBe(303);
  const slugs = (await t.db.selectFrom('sponsor_groups').select('slug').orderBy('id').execute()).map((r) => r.slug);
  expect(slugs).toEqual(['friends-of-hamilton', 'friends-of-hamilton-2']);

  const before = await t.db.selectFrom('sponsor_groups').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const res = await postForm(await anonymous(t), '/groups/apply', { ...valid, name: 'friends of hamilton', coordinatorEmail: 'c@example.org' });
  expect(res.status).toBe(409);
  expect(res.text).toContain('Another sponsor group already uses this name');
  const after = await t.db.selectFrom('sponsor_groups').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  expect(Number(after.n)).toBe(Number(before.n));
});

test('a group named "Apply" does not take the /groups/apply address', async () => {
  expect((await postForm(await anonymous(t), '/groups/apply', { ...valid, name: 'Apply', coordinatorEmail: 'd@example.org' })).status).toBe(303);
  const group = await t.db.selectFrom('sponsor_groups').select('slug').where('name', '=', 'Apply').executeTakeFirstOrThrow();
  expect(group.slug).toBe('apply-group');
});

test.each([
  ['an over-long name', { name: 'x'.repeat(121) }, 'name', 'This is too long.'],
  ['a bad e-mail', { coordinatorEmail: 'not-an-email' }, 'coordinatorEmail', 'valid e-mail'],
  ['an unknown province', { province: 'XX' }, 'province', 'province or territory'],
  ['a negative family size', { familySize: '-2' }, 'familySize', 'whole number from 1 to 20'],
  ['an absurd family size', { familySize: '400' }, 'familySize', 'whole number from 1 to 20'],
  ['a fractional family size', { familySize: '2.5' }, 'familySize', 'whole number from 1 to 20'],
  ['no language', { languages: [] }, 'languages', 'at least one language'],
  ['an over-long story', { story: 'x'.repeat(10_001) }, 'story', 'This is too long.'],
])('%s is refused with a message and nothing is written', async (_label, change, field, message) => {
  const before = await t.db.selectFrom('sponsor_groups').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const res = await postForm(await anonymous(t), '/groups/apply', { ...valid, name: `Another ${field}`, ...change });
  expect(res.status).toBe(400);
  expect(res.text).toContain(message);
  expect(res.text).toContain(`id="${field}-error"`);
  const after = await t.db.selectFrom('sponsor_groups').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  expect(Number(after.n)).toBe(Number(before.n));
});

test('the form is in French when asked', async () => {
  const res = await request(t.app).get('/groups/apply?lang=fr').expect(200);
  expect(res.text).toContain('Inscrire un groupe de parrainage');
  expect(res.text).toContain('Coréen');
});

test('applications are rate-limited per e-mail address (each one sends an e-mail)', async () => {
  const visitor = await anonymous(t);
  for (let i = 0; i < 3; i += 1) {
    const res = await postForm(visitor, '/groups/apply', { ...valid, name: `Limited ${i}`, coordinatorEmail: 'limited@example.org' });
    expect(res.status).toBe(303);
  }
  const res = await postForm(visitor, '/groups/apply', { ...valid, name: 'Limited 3', coordinatorEmail: 'limited@example.org' });
  expect(res.status).toBe(429);
  expect(res.headers['retry-after']).toBeDefined();
  expect(res.text).toContain('Too many applications');
  expect(await t.db.selectFrom('sponsor_groups').select('id').where('name', '=', 'Limited 3').executeTakeFirst()).toBeUndefined();
});
