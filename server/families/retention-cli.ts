import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { migrateToLatest } from '../db/migrator';
import { createLogger } from '../logger';
import { charityCalendar } from '../calendar/charity-calendar';
import { applyIdentityRetention, retentionSettings } from './retention';

const USAGE = 'Usage: npm run purge-family-identities [-- --dry-run]';

/**
 * npm run purge-family-identities: the retention job that Haven also runs hourly (retention.ts):
 * deletes the identities whose day has come and warns staff of those due within 30 days.
 * --dry-run lists them and changes nothing. Prints family numbers and dates only.
 */
async function main() {
  const { values } = parseArgs({ options: { 'dry-run': { type: 'boolean' }, help: { type: 'boolean' } }, strict: true });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const config = loadConfig(process.env);
  const logger = createLogger({ ...config, logLevel: 'warn' });
  const database = await openDatabase(config, logger);
  try {
    await migrateToLatest(database.db);
    const today = charityCalendar(config.charityTimeZone).today();
    const run = await applyIdentityRetention(
      database.db,
      retentionSettings(config),
      today,
      { actor: { userId: null, label: 'npm run purge-family-identities' }, dryRun: values['dry-run'] },
    );
    console.log(`Identities are kept ${config.familyIdentityRetentionMonths} months after a family's support ends. Today is ${today}.`);
    if (run.due.length === 0) console.log('No family identity is due for deletion within 30 days.');
    for (const family of run.due) {
      const done = run.purged.includes(family.familyId) ? 'deleted now' : run.warned.includes(family.familyId) ? 'staff warned now' : values['dry-run'] ? 'dry run: nothing done' : family.warned ? 'staff already warned' : '';
      console.log(`  family ${family.familyId}: support ended ${family.supportEndedOn} (${family.reason}), deletion on ${family.purgeOn}${done ? ` — ${done}` : ''}`);
    }
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `purge-family-identities failed: ${(error as Error).message}`);
  process.exit(1);
});
