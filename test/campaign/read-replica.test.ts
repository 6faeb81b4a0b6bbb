import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import request from 'supertest';
import { loadConfig } from '../../server/config';
import { readyGroup } from '../matching/factories';
import { createTestApp, type TestApp } from '../support/app';
import { giveForm, postGive } from '../support/giving';
import { signInAs } from '../support/session';

/** Records the tables each query names, so a test can tell which connection a page read through. */
class TablesSeen implements KyselyPlugin {
  readonly tables: string[] = [];
  readonly kinds: string[] = [];
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.kinds.push(args.node.kind);
    for (const match of JSON.stringify(args.node).matchAll(/"kind":"TableNode","table":\{"kind":"SchemableIdentifierNode",(?:"schema":\{[^}]*\},)?"identifier":\{"kind":"IdentifierNode","name":"([^"]+)"/g)) this.tables.push(match[1]!);
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
  clear() {
    this.tables.length = 0;
    this.kinds.length = 0;
  }
}

const primary = new TablesSeen();
const replica = new TablesSeen();
let t: TestApp;
let slug: string;
beforeAll(async () => {
  // The "replica" is the same database seen through another Kysely: what matters is which one each page asks.
  t = await createTestApp({}, (deps) => ({ ...deps, db: deps.db.withPlugin(primary), readDb: deps.db.withPlugin(replica) }));
  slug = (await readyGroup(t.db)).slug;
});
afterAll(() => t.destroy());
beforeEach(() => {
  primary.clear();
  replica.clear();
});

test('public pages (campaign, /api/campaign, groups, a group page, the donor wall) read through DATABASE_READ_URL’s connection, not the primary', async () => {
  for (const path of ['/', '/api/campaign', '/groups', `/groups/${slug}`, '/api/donor-wall']) {
    primary.clear();
    replica.clear();
    await request(t.app).get(path).expect(200);
    expect({ path, replica: replica.tables.length > 0 }).toEqual({ path, replica: true });
    expect({ path, primary: primary.tables }).toEqual({ path, primary: [] });
  }
  expect(replica.kinds.every((k) => k === 'SelectQueryNode')).toBe(true);
});

test('a gift (money) and a session are read and written on the primary only', async () => {
  primary.clear();
  replica.clear();
  await postGive(t.app, giveForm({ method: 'cheque' }), 303);
  expect(primary.tables).toEqual(expect.arrayContaining(['pledges']));
  expect(replica.tables).toEqual([]);
  // A signed-in person's session is read on the primary, even on a public page.
  const staff = await signInAs(t, 'staff');
  primary.clear();
  replica.clear();
  await staff.agent.get('/').expect(200);
  expect(primary.tables).toContain('sessions');
  expect(replica.tables).not.toContain('sessions');
});

test('DATABASE_READ_URL without DATABASE_URL is refused at start-up (the embedded database has no replica)', () => {
  expect(() => loadConfig({ NODE_ENV: 'test', DATABASE_READ_URL: 'postgres://replica/haven' })).toThrow(/DATABASE_READ_URL needs DATABASE_URL/);
  expect(loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://primary/haven', DATABASE_READ_URL: 'postgres://replica/haven' }).databaseReadUrl).toBe('postgres://replica/haven');
  expect(() => loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://primary/haven', DATABASE_READ_URL: 'mysql://replica' })).toThrow(/DATABASE_READ_URL/);
});
