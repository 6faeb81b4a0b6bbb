import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createKysely, type Db } from '../../server/db/database';
import { startEmbeddedPostgres } from '../../server/db/embedded';
import { migrateToLatest } from '../../server/db/migrator';

export type TestDatabase = {
  db: Db;
  url: string;
  mode: 'server' | 'embedded';
  destroy(): Promise<void>;
};

/** The PostgreSQL server the suite runs on, or undefined for embedded PGlite. */
export function serverUrl(): string | undefined {
  return process.env.DATABASE_URL || undefined;
}

export function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function adminQuery(sqlText: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated database for one test file. On a server: a copy of the template that
 * global-setup migrated once (CREATE DATABASE … TEMPLATE is fast). Embedded: a new in-memory PGlite.
 */
export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const url = serverUrl();
  if (url) {
    const template = process.env.HAVEN_TEST_TEMPLATE;
    if (!template) throw new Error('HAVEN_TEST_TEMPLATE is not set: run the tests through jest (global-setup makes the template)');
    const name = `haven_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(`create database ${name} template ${template}`);
    const dbUrl = withDatabaseName(url, name);
    const db = createKysely(dbUrl, options.poolSize ?? 5);
    return {
      db,
      url: dbUrl,
      mode: 'server',
      async destroy() {
        await db.destroy();
        await adminQuery(`drop database if exists ${name} with (force)`);
      },
    };
  }
  const embedded = await startEmbeddedPostgres({});
  const db = createKysely(embedded.url, 1); // as the app does: PGlite is one session (server/db/database.ts)
  await migrateToLatest(db);
  return {
    db,
    url: embedded.url,
    mode: 'embedded',
    async destroy() {
      await db.destroy();
      await embedded.stop();
    },
  };
}
