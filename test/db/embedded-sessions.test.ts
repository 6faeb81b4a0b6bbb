import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../../server/db/database';
import { createLogger } from '../../server/logger';
import { testConfig } from '../support/app';

/**
 * The embedded database is one PGlite session behind a socket. With several pooled connections,
 * a transaction on one and plain statements on another were interleaved in that session, and
 * answers went to the wrong connection ("asked 1003, got 3002"). openDatabase gives embedded
 * mode one connection; this is the workload that showed the mix-up.
 */
test('embedded mode: transactions and plain statements at once each get their own answers', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-embedded-'));
  const config = testConfig({ DATA_DIR: dataDir });
  const database = await openDatabase({ ...config, databaseUrl: undefined }, createLogger(config));
  try {
    expect(database.mode).toBe('embedded');
    const wrong: string[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async (_, worker) => {
        for (let i = 0; i < 100; i++) {
          const n = worker * 1000 + i;
          const { rows } =
            worker % 2 === 0
              ? await database.db.transaction().execute((trx) => sql<{ n: number }>`select ${n}::int as n`.execute(trx))
              : await sql<{ n: number }>`select ${n}::int as n`.execute(database.db);
          if (rows[0]?.n !== n) wrong.push(`asked ${n}, got ${JSON.stringify(rows[0])}`);
        }
      }),
    );
    expect(wrong).toEqual([]);
  } finally {
    await database.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
