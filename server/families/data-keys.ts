import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { parseDataKey } from '../config';
import type { Logger } from '../logger';

/**
 * The keys that protect family_identities. `current` encrypts every write; any key in `byId`
 * decrypts rows written under it, so a rotation is: set the new FAMILY_DATA_KEY, move the old
 * one to FAMILY_DATA_PREVIOUS_KEYS, and re-save identities (writes always use the current key).
 * A key id is a truncated SHA-256 of the key: it names the key without revealing it.
 */
export type FamilyKeyring = {
  current: { id: string; key: Buffer };
  byId: Map<string, Buffer>;
};

export function keyIdOf(key: Buffer): string {
  return `k-${createHash('sha256').update('haven family data key').update(key).digest('hex').slice(0, 16)}`;
}

export function keyringOf(current: Buffer, previous: Buffer[] = []): FamilyKeyring {
  const byId = new Map<string, Buffer>();
  for (const key of [current, ...previous]) byId.set(keyIdOf(key), key);
  return { current: { id: keyIdOf(current), key: current }, byId };
}

export const GENERATED_KEY_FILE = 'family-data.key';

/**
 * FAMILY_DATA_KEY when set (required in production, see config.ts). Tests without one get a
 * random key for the process. Otherwise (a local trial) a key is generated once and kept in
 * DATA_DIR/family-data.key (mode 0600), with a warning: losing that file loses the identities.
 */
export function loadFamilyKeyring(config: Config, logger: Logger): FamilyKeyring {
  if (config.familyDataKey) return keyringOf(config.familyDataKey, config.familyDataPreviousKeys);
  if (config.env === 'production') throw new Error('FAMILY_DATA_KEY is required in production');
  if (config.env === 'test') return keyringOf(randomBytes(32), config.familyDataPreviousKeys);
  const file = path.join(config.dataDir, GENERATED_KEY_FILE);
  let key: Buffer | undefined;
  if (fs.existsSync(file)) {
    key = parseDataKey(fs.readFileSync(file, 'utf8'));
    if (!key) throw new Error(`${file} does not hold a 32-byte key`);
  } else {
    fs.mkdirSync(config.dataDir, { recursive: true });
    key = randomBytes(32);
    fs.writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  logger.warn(
    { file },
    'FAMILY_DATA_KEY is not set: family identities are encrypted with a key kept beside the data; set FAMILY_DATA_KEY for anything beyond a local trial',
  );
  return keyringOf(key, config.familyDataPreviousKeys);
}
