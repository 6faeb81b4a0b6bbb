import { sql } from 'kysely';
import { balanceOf, postTransaction, postTransactions } from '../../server/ledger/ledger';
import { createTestDatabase, type TestDatabase } from '../support/database';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.destroy());

test('the database rejects an unbalanced transaction inserted with raw SQL', async () => {
  const attempt = t.db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: number }>`insert into ledger_transactions (kind, description) values ('test', 'raw') returning id`.execute(trx);
    const id = rows[0]!.id;
    await sql`insert into ledger_entries (transaction_id, account, amount_cents) values (${id}, 'bank', 1000), (${id}, 'fund:general', -999)`.execute(trx);
  });
  await expect(attempt).rejects.toThrow(/unbalanced/);
  const { rows } = await sql<{ n: number }>`select count(*)::bigint as n from ledger_entries`.execute(t.db);
  expect(rows[0]!.n).toBe(0);
});

test('the database rejects a transaction with a single entry or none', async () => {
  const oneLeg = t.db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: number }>`insert into ledger_transactions (kind, description) values ('test', 'one leg') returning id`.execute(trx);
    await sql`insert into ledger_entries (transaction_id, account, amount_cents) values (${rows[0]!.id}, 'bank', 0 + 1)`.execute(trx);
  });
  await expect(oneLeg).rejects.toThrow(/unbalanced/);
  const noLegs = sql`insert into ledger_transactions (kind, description) values ('test', 'empty')`.execute(t.db);
  await expect(noLegs).rejects.toThrow(/unbalanced/);
});

test('a balanced posting is kept, updates the balances of the account and its prefixes, and cannot be edited', async () => {
  await t.db.transaction().execute((trx) =>
    postTransaction(trx, {
      kind: 'test',
      description: 'gift',
      entries: [
        { account: 'stripe', amountCents: 9_700 },
        { account: 'expense:group:7:fees', amountCents: 300 },
        { account: 'fund:group:7', amountCents: -10_000 },
      ],
    }),
  );
  expect(await balanceOf(t.db, 'fund:group:7')).toBe(-10_000);
  expect(await balanceOf(t.db, 'fund:group')).toBe(-10_000);
  expect(await balanceOf(t.db, 'fund')).toBe(-10_000);
  expect(await balanceOf(t.db, 'expense:group:7')).toBe(300);
  expect(await balanceOf(t.db, 'fund:group:70')).toBe(0);

  await expect(sql`update ledger_entries set amount_cents = 1 where account = 'stripe'`.execute(t.db)).rejects.toThrow(/append-only/);
  await expect(sql`delete from ledger_entries`.execute(t.db)).rejects.toThrow(/append-only/);
});

test('postTransaction refuses unbalanced input before it reaches the database', async () => {
  const attempt = t.db.transaction().execute((trx) =>
    postTransaction(trx, { kind: 'test', description: 'bad', entries: [{ account: 'bank', amountCents: 5 }, { account: 'fund:general', amountCents: -4 }] }),
  );
  await expect(attempt).rejects.toThrow(/unbalanced by 1 cents/);
});

test('postTransactions posts several transactions in one statement, each with its own entries in order, and refuses the lot if one is unbalanced', async () => {
  const queries: string[] = [];
  const ids = await t.db.transaction().execute(async (trx) => {
    const counted = trx.withPlugin({ transformQuery: (args) => (queries.push(args.node.kind), args.node), transformResult: async (args) => args.result });
    return postTransactions(counted as typeof trx, [
      { kind: 'test', description: 'first', entries: [{ account: 'stripe', amountCents: 1_000 }, { account: 'fund:group:8', amountCents: -1_000 }] },
      { kind: 'test', description: 'second', paymentId: null, entries: [{ account: 'stripe', amountCents: 2_000 }, { account: 'fund:group:9', amountCents: 0 }, { account: 'fund:group:9', amountCents: -2_000 }] },
    ]);
  });
  expect(queries).toHaveLength(1);
  expect(ids).toHaveLength(2);
  expect(ids[1]).toBeGreaterThan(ids[0]!);
  const entries = await t.db.selectFrom('ledger_entries').innerJoin('ledger_transactions as lt', 'lt.id', 'ledger_entries.transaction_id').select(['lt.id', 'lt.description', 'account', 'amount_cents']).where('lt.id', 'in', ids).orderBy('ledger_entries.id').execute();
  expect(entries).toEqual([
    { id: ids[0], description: 'first', account: 'stripe', amount_cents: 1_000 },
    { id: ids[0], description: 'first', account: 'fund:group:8', amount_cents: -1_000 },
    { id: ids[1], description: 'second', account: 'stripe', amount_cents: 2_000 },
    { id: ids[1], description: 'second', account: 'fund:group:9', amount_cents: -2_000 },
  ]);
  expect(await balanceOf(t.db, 'fund:group:8')).toBe(-1_000);
  expect(await balanceOf(t.db, 'fund:group:9')).toBe(-2_000);

  const attempt = t.db.transaction().execute((trx) =>
    postTransactions(trx, [
      { kind: 'test', description: 'fine', entries: [{ account: 'bank', amountCents: 5 }, { account: 'fund:general', amountCents: -5 }] },
      { kind: 'test', description: 'bad', entries: [{ account: 'bank', amountCents: 5 }, { account: 'fund:general', amountCents: -4 }] },
    ]),
  );
  await expect(attempt).rejects.toThrow(/unbalanced by 1 cents/);
  expect(await t.db.selectFrom('ledger_transactions').select('id').where('description', '=', 'fine').execute()).toEqual([]);
});
