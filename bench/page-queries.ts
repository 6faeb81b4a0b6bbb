/**
 * Statements per uncached public page (PUBLIC_CACHE_SECONDS=0, a visitor not signed in): the
 * app runs in this process on a database of its own, with a Kysely log hook counting what each
 * request sends to PostgreSQL. Printed per page, with the statements, for npm run bench and by hand:
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/page-queries.ts
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../server/app';
import { loadConfig } from '../server/config';
import { createKysely } from '../server/db/database';
import { migrateToLatest } from '../server/db/migrator';
import { createLogger } from '../server/logger';
import { makeApprovedGroup } from '../test/groups/factories';
import { adminUrl, createServerDatabase } from '../test/support/haven-process';

export type PageQueries = { page: string; status: number; statements: string[] };

/** Requests each path twice (the first warms what a process keeps, e.g. the campaign row) and counts the second. */
export async function countPageQueries(databaseUrl: string, paths: (ctx: { groupSlug: string }) => Record<string, string>): Promise<PageQueries[]> {
  let statements: string[] = [];
  const db = createKysely(databaseUrl, 4, { onQuery: (q) => void statements.push(q) });
  const server = http.createServer();
  try {
    await migrateToLatest(db);
    const group = await makeApprovedGroup(db, { name: 'Query Count Neighbours', story: 'We are **neighbours** in [Toronto](https://example.org).\n\n- one\n- two' });
    const config = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), CHARITY_REGISTRATION_NUMBER: '123456789 RR 0001', CHARITY_ADDRESS: '1 Test Street, Toronto ON  M5V 1A1', CONTACT_EMAIL: 'giving@haven.test', FAMILY_DATA_KEY: 'ab'.repeat(32), DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', PUBLIC_URL: 'http://127.0.0.1', PUBLIC_CACHE_SECONDS: '0' });
    server.on('request', createApp({ config, db, logger: createLogger(config) }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const out: PageQueries[] = [];
    for (const [page, path] of Object.entries(paths({ groupSlug: group.slug }))) {
      await (await fetch(`${base}${path}`)).text();
      statements = [];
      const res = await fetch(`${base}${path}`);
      await res.text();
      out.push({ page, status: res.status, statements: [...statements] });
    }
    return out;
  } finally {
    server.close();
    await db.destroy();
  }
}

export const PUBLIC_PAGES = ({ groupSlug }: { groupSlug: string }) => ({ 'GET /': '/', 'GET /groups/:slug': `/groups/${groupSlug}`, 'GET /api/campaign': '/api/campaign' });

async function main() {
  const database = await createServerDatabase('haven_bench_queries', adminUrl(process.env.DATABASE_URL ?? process.env.BENCH_DATABASE_URL));
  try {
    for (const p of await countPageQueries(database.url, PUBLIC_PAGES)) {
      console.log(`${p.page}: ${p.statements.length} statements (status ${p.status})`);
      for (const s of p.statements) console.log(`    ${s.replace(/\s+/g, ' ').slice(0, 150)}`);
    }
  } finally {
    await database.drop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
