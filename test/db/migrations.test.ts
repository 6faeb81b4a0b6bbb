import { sql } from 'kysely';
import { migrateToLatest } from '../../server/db/migrator';
import { createTestDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.destroy());

test('running the migrations again is a no-op', async () => {
  const before = await sql<{ n: number }>`select count(*)::bigint as n from kysely_migration`.execute(t.db);
  const again = await migrateToLatest(t.db);
  expect(again.results).toEqual([]);
  const after = await sql<{ n: number }>`select count(*)::bigint as n from kysely_migration`.execute(t.db);
  expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  const campaigns = await t.db.selectFrom('campaigns').select('slug').execute();
  expect(campaigns).toEqual([{ slug: 'five-families' }]);
});

test('the cost table is seeded with the 2018-05-01 edition', async () => {
  const rows = await t.db.selectFrom('cost_tables').select(['family_size', 'income_support_cents', 'startup_cents']).where('edition_on', '=', '2018-05-01').orderBy('family_size').execute();
  expect(rows).toHaveLength(7);
  expect(rows.find((r) => r.family_size === 4)).toEqual({ family_size: 4, income_support_cents: 2_120_000, startup_cents: 750_000 });
  expect(rows.find((r) => r.family_size === 0)).toEqual({ family_size: 0, income_support_cents: 160_000, startup_cents: 110_000 });
});

test('e-mails waiting in the outbox follow their templates from donations/ to giving/ (issue 22); sent ones keep theirs', async () => {
  const { up } = await import('../../migrations/20261201190000_giving_email_templates');
  const payload = (template: string) => JSON.stringify({ to: 'a@example.org', template, locale: 'en', data: {} });
  const waiting = await t.db.insertInto('outbox').values({ kind: 'email', payload: payload('donations/gift-confirmed') }).returning('id').executeTakeFirstOrThrow();
  const sent = await t.db.insertInto('outbox').values({ kind: 'email', payload: payload('donations/gift-confirmed'), sent_at: new Date() }).returning('id').executeTakeFirstOrThrow();
  const other = await t.db.insertInto('outbox').values({ kind: 'email', payload: payload('groups/invitation') }).returning('id').executeTakeFirstOrThrow();
  await up(t.db);
  const template = async (id: number) => ((await t.db.selectFrom('outbox').select('payload').where('id', '=', id).executeTakeFirstOrThrow()).payload as { template: string }).template;
  expect(await template(waiting.id)).toBe('giving/gift-confirmed');
  expect(await template(sent.id)).toBe('donations/gift-confirmed');
  expect(await template(other.id)).toBe('groups/invitation');
  await t.db.deleteFrom('outbox').where('id', 'in', [waiting.id, sent.id, other.id]).execute();
});
