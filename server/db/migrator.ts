import fs from 'node:fs';
import path from 'node:path';
import { type Migration, type MigrationProvider, type MigrationResultSet, Migrator } from 'kysely';
import type { Db } from './database';

/** migrations/ beside server/, both in the source tree and in dist/ after a build. */
export const MIGRATIONS_DIR = path.resolve(__dirname, '../../migrations');

/**
 * Loads migration files with require() so the same provider works under tsx, Jest and the
 * compiled build (Kysely's FileMigrationProvider uses import(), which Jest's CommonJS VM refuses).
 */
class RequireMigrationProvider implements MigrationProvider {
  constructor(private readonly dir: string) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const file of fs.readdirSync(this.dir).sort()) {
      const match = /^(.+)\.(ts|js)$/.exec(file);
      if (!match || file.endsWith('.d.ts')) continue;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      migrations[match[1]!] = require(path.join(this.dir, file)) as Migration;
    }
    return migrations;
  }
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Brings the database to the latest migration; running it again is a no-op. */
export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: new RequireMigrationProvider(MIGRATIONS_DIR) });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new MigrationError(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${reason}`);
  }
  return result;
}
