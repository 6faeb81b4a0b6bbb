import pg from 'pg';
import { createKysely } from '../../server/db/database';
import { migrateToLatest } from '../../server/db/migrator';

/**
 * On a PostgreSQL server, migrate one template database per run; each test file copies it.
 * Embedded runs need nothing here: each file starts its own PGlite.
 */
export default async function globalSetup(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) return;
  const template = `haven_template_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create database ${template}`);
  } finally {
    await admin.end();
  }
  const u = new URL(url);
  u.pathname = `/${template}`;
  const db = createKysely(u.toString(), 1);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  process.env.HAVEN_TEST_TEMPLATE = template;
}
