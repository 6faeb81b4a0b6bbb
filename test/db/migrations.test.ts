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
