import { Kysely, type LogEvent, PostgresDialect, type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { DataDirLock } from './data-dir-lock';
import { startEmbeddedPostgres } from './embedded';
import type { Database } from './schema';

export type Db = Kysely<Database>;

export type OpenDatabase = {
  db: Db;
  /** DATABASE_READ_URL's replica, for the public pages; db itself when unset. */
  readDb: Db;
  mode: 'server' | 'embedded';
  /** Embedded mode: DATA_DIR's lock, which main.ts tells where its command channel listens. */
  dataDirLock?: DataDirLock;
  /** Destroys the pool and, in embedded mode, stops PGlite after flushing it to disk. */
  close(): Promise<void>;
};

const INT8_OID = 20;
const DATE_OID = 1082;

/**
 * bigint columns (money in cents, ids) become JS numbers, and a value that a double
 * cannot hold exactly is an error rather than a silently rounded amount.
 */
/**
 * `column = any($1)`: the values as one array parameter. A batch query over thousands of ids
 * (matching loads every group) spends most of its time binding and planning an IN list of as
 * many parameters: four times slower than the array on the embedded database at 2,000 ids.
 */
export function isAnyOf(column: string, values: readonly number[] | readonly string[]): RawBuilder<boolean> {
  const type = typeof values[0] === 'string' ? sql.raw('text[]') : sql.raw('bigint[]');
  return sql<boolean>`${sql.ref(column)} = any(${[...values]}::${type})`;
}

export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} is outside the safe integer range`);
  return value;
}

pg.types.setTypeParser(INT8_OID, parseInt8);
// Calendar dates stay 'YYYY-MM-DD' strings: a JS Date would shift them by the time zone.
pg.types.setTypeParser(DATE_OID, (text: string) => text);

export type KyselyOptions = {
  /** Called with each statement's SQL and duration after it ran: how tests and benches count queries per page or per event. */
  onQuery?: (sql: string, durationMs: number) => void;
};

export function createKysely(connectionString: string, poolSize: number, options: KyselyOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
  });
  // A client whose server went away emits 'error': the pool listens on idle ones, and this
  // listener covers checked-out ones (between two queries of a transaction). Without it the
  // process crashes; with it the pending query fails, the route answers 503, and the pool
  // discards the broken client when it is released.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const { onQuery } = options;
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    ...(onQuery ? { log: (event: LogEvent) => onQuery(event.query.sql, event.queryDurationMillis) } : {}),
  });
}

/**
 * DATABASE_URL set: that PostgreSQL server. Unset: PGlite under DATA_DIR, served over the
 * PostgreSQL wire protocol on a loopback port, so both modes share one pg-based code path. The
 * embedded database is this process's alone (DataDirBusyError if another holds DATA_DIR);
 * `holder` names this process in DATA_DIR's lock (`server`, or the npm script).
 */
export async function openDatabase(config: Config, logger: Logger, options: { holder?: string } = {}): Promise<OpenDatabase> {
  if (config.databaseUrl) {
    const db = createKysely(config.databaseUrl, config.databasePoolSize);
    const readDb = config.databaseReadUrl ? createKysely(config.databaseReadUrl, config.databasePoolSize) : db;
    return {
      db,
      readDb,
      mode: 'server',
      async close() {
        if (readDb !== db) await readDb.destroy();
        await db.destroy();
      },
    };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, holder: options.holder ?? 'server' });
  logger.info({ dataDir: config.dataDir }, 'using the embedded database (set DATABASE_URL to use a PostgreSQL server)');
  // One connection: PGlite is one database session, and pglite-socket queues statements from
  // several connections into it, so a second connection's statements would run inside the first
  // one's transaction (and, seen here, could even be answered with its results).
  const db = createKysely(embedded.url, 1);
  return {
    db,
    readDb: db,
    mode: 'embedded',
    dataDirLock: embedded.lock,
    async close() {
      await db.destroy();
      await embedded.stop();
    },
  };
}
