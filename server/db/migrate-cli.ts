import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { openDatabase } from './database';
import { migrateToLatest } from './migrator';

/** npm run migrate: brings the configured database (server or embedded) to the latest migration. */
async function main() {
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  const database = await openDatabase(config, logger);
  try {
    const { results = [] } = await migrateToLatest(database.db);
    if (results.length === 0) console.log('Database is up to date.');
    for (const r of results) console.log(`${r.status === 'Success' ? 'applied' : r.status}: ${r.migrationName}`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `Migration failed: ${(error as Error).message}`);
  process.exit(1);
});
