import { migrateToLatest } from '../db/migrator';
import type { Command } from './command';

/** npm run migrate: brings the configured database (server or embedded) to the latest migration. */
export const migrateCommand: Command = {
  parse: (argv) => (argv.length === 0 ? { ok: true } : { ok: false, usage: 'Usage: npm run migrate' }),
  async run(db) {
    const { results = [] } = await migrateToLatest(db);
    if (results.length === 0) return { lines: ['Database is up to date.'], exitCode: 0 };
    return { lines: results.map((r) => `${r.status === 'Success' ? 'applied' : r.status}: ${r.migrationName}`), exitCode: 0 };
  },
};
