import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock';

export type EmbeddedPostgres = {
  /** A postgres:// URL for the pg driver. */
  url: string;
  /** DATA_DIR's lock, held until stop() (none in memory). */
  lock: DataDirLock | undefined;
  stop(): Promise<void>;
};

/**
 * Starts PGlite (PostgreSQL compiled to WebAssembly) and serves it on a free loopback port.
 * dataDir undefined keeps the database in memory (tests); otherwise it is kept between runs, and
 * this process holds DATA_DIR's lock (data-dir-lock.ts) from before PGlite opens until it stops:
 * `holder` names it in the lock (`server`, `npm run seed`).
 */
export async function startEmbeddedPostgres(options: { dataDir?: string; holder?: string }): Promise<EmbeddedPostgres> {
  let dataDir: string | undefined;
  let lock: DataDirLock | undefined;
  if (options.dataDir) {
    lock = acquireDataDirLock(options.dataDir, options.holder ?? 'server');
    dataDir = path.join(options.dataDir, 'pglite');
    fs.mkdirSync(dataDir, { recursive: true });
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dataDir ? { dataDir } : {});
  } catch (error) {
    lock?.release();
    throw error;
  }
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  const [, port] = server.getServerConn().split(':');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    lock,
    async stop() {
      await server.stop();
      await pglite.close();
      lock?.release();
    },
  };
}
