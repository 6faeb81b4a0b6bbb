import { migrateToLatest } from '../db/migrator';
import { loadFamilyKeyring } from '../families/data-keys';
import { rekeyFamilyIdentities } from '../families/identities';
import { createLogger } from '../logger';
import type { Command } from './command';

/**
 * npm run rotate-family-key: seals every family identity again under FAMILY_DATA_KEY.
 * Rotation: put the new key in FAMILY_DATA_KEY and the old one in FAMILY_DATA_PREVIOUS_KEYS,
 * restart Haven (new writes use the new key), run this, then remove the old key from
 * FAMILY_DATA_PREVIOUS_KEYS (and every copy of it). Safe to run while Haven runs, and again
 * (on the embedded database the running server runs it, with its own keys).
 * Exits 1, naming the families (by number) and key ids, if a row could not be opened.
 */
export const rotateFamilyKeyCommand: Command = {
  parse: (argv) => (argv.length === 0 ? { ok: true } : { ok: false, usage: 'Usage: npm run rotate-family-key' }),
  async run(db, config) {
    if (config.env === 'test' && !config.familyDataKey) return { lines: ['rotate-family-key needs FAMILY_DATA_KEY (the new key)'], exitCode: 1 };
    const keyring = loadFamilyKeyring(config, createLogger({ ...config, logLevel: 'warn' }));
    await migrateToLatest(db);
    const actor = { userId: null, label: 'npm run rotate-family-key' };
    let rekeyed = 0;
    const unopenable: { familyId: number; keyId: string }[] = [];
    let after: number | undefined = 0;
    while (after !== undefined) {
      const from: number = after;
      const batch = await db.transaction().execute((trx) => rekeyFamilyIdentities(trx, keyring, actor, from));
      rekeyed += batch.rekeyed;
      unopenable.push(...batch.unopenable);
      after = batch.nextAfter;
    }
    const lines = [`Re-encrypted ${rekeyed} family ${rekeyed === 1 ? 'identity' : 'identities'} under key ${keyring.current.id}.`];
    if (unopenable.length === 0) {
      lines.push('Every family identity is now under FAMILY_DATA_KEY: the keys in FAMILY_DATA_PREVIOUS_KEYS can be removed.');
      return { lines, exitCode: 0 };
    }
    lines.push(`${unopenable.length} could not be opened with the configured keys; keep the old keys until they are:`);
    for (const row of unopenable) lines.push(`  family ${row.familyId}: sealed under ${row.keyId}`);
    return { lines, exitCode: 1 };
  },
};
