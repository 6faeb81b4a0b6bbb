import { ConfigError, loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { migrateToLatest } from '../db/migrator';
import { createLogger } from '../logger';
import { loadFamilyKeyring } from './data-keys';
import { rekeyFamilyIdentities } from './identities';

/**
 * npm run rotate-family-key: seals every family identity again under FAMILY_DATA_KEY.
 * Rotation: put the new key in FAMILY_DATA_KEY and the old one in FAMILY_DATA_PREVIOUS_KEYS,
 * restart Haven (new writes use the new key), run this, then remove the old key from
 * FAMILY_DATA_PREVIOUS_KEYS (and every copy of it). Safe to run while Haven runs, and again.
 * Exits 1, naming the families (by number) and key ids, if a row could not be opened.
 */
async function main() {
  const config = loadConfig(process.env);
  if (config.env === 'test' && !config.familyDataKey) throw new ConfigError('rotate-family-key needs FAMILY_DATA_KEY (the new key)');
  const logger = createLogger({ ...config, logLevel: 'warn' });
  const keyring = loadFamilyKeyring(config, logger);
  const database = await openDatabase(config, logger);
  const actor = { userId: null, label: 'npm run rotate-family-key' };
  try {
    await migrateToLatest(database.db);
    let rekeyed = 0;
    const unopenable: { familyId: number; keyId: string }[] = [];
    let after: number | undefined = 0;
    while (after !== undefined) {
      const from: number = after;
      const batch = await database.db.transaction().execute((trx) => rekeyFamilyIdentities(trx, keyring, actor, from));
      rekeyed += batch.rekeyed;
      unopenable.push(...batch.unopenable);
      after = batch.nextAfter;
    }
    console.log(`Re-encrypted ${rekeyed} family ${rekeyed === 1 ? 'identity' : 'identities'} under key ${keyring.current.id}.`);
    if (unopenable.length > 0) {
      console.error(`${unopenable.length} could not be opened with the configured keys; keep the old keys until they are:`);
      for (const row of unopenable) console.error(`  family ${row.familyId}: sealed under ${row.keyId}`);
      process.exitCode = 1;
    } else {
      console.log('Every family identity is now under FAMILY_DATA_KEY: the keys in FAMILY_DATA_PREVIOUS_KEYS can be removed.');
    }
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `rotate-family-key failed: ${(error as Error).message}`);
  process.exit(1);
});
