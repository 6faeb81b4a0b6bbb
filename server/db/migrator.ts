import fs from 'node:fs';
import path from 'node:path';
import { type Migration, type MigrationProvider, type MigrationResultSet, Migrator, sql } from 'kysely';
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
    for (const [name, file] of migrationFiles(this.dir)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      migrations[name] = require(path.join(this.dir, file)) as Migration;
    }
    return migrations;
  }
}

/** [name, file] of each migration in dir, in order. */
function migrationFiles(dir: string): [string, string][] {
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((file) => {
      const match = /^(.+)\.(ts|js)$/.exec(file);
      return match && !file.endsWith('.d.ts') ? [[match[1]!, file] as [string, string]] : [];
    });
}

/** Whether every migration file is already applied: one query, so a restart does not load the migrator and every migration. */
async function isUpToDate(db: Db): Promise<boolean> {
  try {
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
    const applied = new Set(rows.map((r) => r.name));
    const files = migrationFiles(MIGRATIONS_DIR);
    // Exactly the files: a migration applied but missing here (older code, newer database) goes to the migrator, which refuses it.
    return files.length === applied.size && files.every(([name]) => applied.has(name));
  } catch {
    return false; // a new database: no migration table yet
  }
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Brings the database to the latest migration; running it again is a no-op. */
export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
  if (await isUpToDate(db)) return { results: [] };
  const migrator = new Migrator({ db, provider: new RequireMigrationProvider(MIGRATIONS_DIR) });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new MigrationError(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${reason}`);
  }
  return result;
}
