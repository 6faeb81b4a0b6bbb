import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../server/config';
import { GENERATED_KEY_FILE, keyIdOf, loadFamilyKeyring } from '../../server/families/data-keys';

const silent = pino({ level: 'silent' });

test('FAMILY_DATA_KEY accepts 32 bytes as hex or base64, refuses anything else without echoing it, and is required in production', () => {
  const key = randomBytes(32);
  expect(loadConfig({ FAMILY_DATA_KEY: key.toString('hex') }).familyDataKey).toEqual(key);
  expect(loadConfig({ FAMILY_DATA_KEY: key.toString('base64') }).familyDataKey).toEqual(key);
  expect(() => loadConfig({ FAMILY_DATA_KEY: 'too-short-secret' })).toThrow(/^Invalid configuration: FAMILY_DATA_KEY .*\(value hidden\)$/);
  expect(() => loadConfig({ FAMILY_DATA_KEY: randomBytes(16).toString('hex') })).toThrow(/FAMILY_DATA_KEY/);
  expect(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), CHARITY_REGISTRATION_NUMBER: '123456789 RR 0001' })).toThrow(/FAMILY_DATA_KEY is required/);
  const previous = [randomBytes(32), randomBytes(32)];
  const config = loadConfig({ FAMILY_DATA_KEY: key.toString('hex'), FAMILY_DATA_PREVIOUS_KEYS: previous.map((k) => k.toString('hex')).join(', ') });
  const ring = loadFamilyKeyring(config, silent);
  expect(ring.current.id).toBe(keyIdOf(key));
  expect([...ring.byId.keys()].sort()).toEqual([key, ...previous].map(keyIdOf).sort());
});

test('a local trial without a key generates one under DATA_DIR (0600) and keeps using it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-keys-'));
  try {
    const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    const first = loadFamilyKeyring(config, silent);
    const file = path.join(dir, GENERATED_KEY_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadFamilyKeyring(config, silent).current.id).toBe(first.current.id);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
