import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Transaction } from 'kysely';
import { createKysely, type Db } from '../../server/db/database';
import { LOCK_FILE } from '../../server/db/data-dir-lock';
import { startEmbeddedPostgres } from '../../server/db/embedded';
import { migrateToLatest } from '../../server/db/migrator';
import type { Database } from '../../server/db/schema';
import { keyIdOf, keyringOf } from '../../server/families/data-keys';
import { setFamilyStatus } from '../../server/families/families';
import { IDENTITY_FIELDS, rekeyFamilyIdentities, viewFamilyIdentity } from '../../server/families/identities';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { availableFamily, SENTINELS, staffA } from './factories';

/**
 * Key rotation: every row sealed under an old key is sealed again under FAMILY_DATA_KEY, so the
 * old key can be removed and everything still opens with the new key alone. Checked both through
 * the module's function and through the command (`npm run rotate-family-key`) as an operator runs it.
 */
const ROOT = path.resolve(__dirname, '../..');
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.destroy());

const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => t.db.transaction().execute(fn);
const actor = { userId: null, label: 'rotation test' };

async function familiesUnder(key: Buffer, count: number, db: Db = t.db) {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push((await availableFamily(db, keyringOf(key), {}, { ...SENTINELS, notes: `SENTINEL-NOTES-${i}` })).id);
  return ids;
}

async function keyIdsOf(ids: number[], db: Db = t.db) {
  // The key id is not secret: it names the key, by a truncated hash.
  const { rows } = await sql<{ family_id: number; key_id: string }>`select family_id, key_id from family_identities where family_id = any(${ids}) order by family_id`.execute(db);
  return rows.map((r) => r.key_id);
}

const openAll = (ids: number[], keyring: ReturnType<typeof keyringOf>, db: Db = t.db) =>
  Promise.all(ids.map((id) => db.transaction().execute((trx) => viewFamilyIdentity(trx, keyring, staffA, id, { purpose: 'staff_reveal', fields: IDENTITY_FIELDS, reason: 'Rotation check' }))));

test('rotation re-encrypts every row in batches, and afterwards the new key alone opens them all', async () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const ids = await familiesUnder(oldKey, 5);
  expect(await keyIdsOf(ids)).toEqual(ids.map(() => keyIdOf(oldKey)));
  const rotating = keyringOf(newKey, [oldKey]);

  let after: number | undefined = 0;
  let total = 0;
  let batches = 0;
  while (after !== undefined) {
    const from: number = after;
    const batch = await tx((trx) => rekeyFamilyIdentities(trx, rotating, actor, from, 2));
    expect(batch.unopenable).toEqual([]);
    total += batch.rekeyed;
    batches += 1;
    after = batch.nextAfter;
  }
  expect(total).toBeGreaterThanOrEqual(5);
  expect(batches).toBeGreaterThanOrEqual(3);
  expect(await keyIdsOf(ids)).toEqual(ids.map(() => keyIdOf(newKey)));
  // The old key is gone from the configuration: everything still opens.
  const opened = await openAll(ids, keyringOf(newKey));
  expect(opened.map((o) => o.notes)).toEqual(ids.map((_, i) => `SENTINEL-NOTES-${i}`));
  expect(opened[0]).toMatchObject({ names: SENTINELS.names, contact: SENTINELS.contact });
  // Each re-keying is audited with key ids only, and a second run has nothing to do.
  const audits = await t.db.selectFrom('audit_log').select('details').where('action', '=', 'family_identity.rekeyed').where('subject', 'in', ids.map((id) => `family:${id}`)).execute();
  expect(audits).toHaveLength(5);
  expect(audits[0]!.details).toEqual({ fromKeyId: keyIdOf(oldKey), toKeyId: keyIdOf(newKey) });
  expect(await tx((trx) => rekeyFamilyIdentities(trx, keyringOf(newKey), actor))).toEqual({ rekeyed: 0, unopenable: [], nextAfter: undefined });
});

test('a row under a key that is no longer configured is reported and left as it is', async () => {
  const lost = randomBytes(32);
  const [id] = await familiesUnder(lost, 1);
  const current = randomBytes(32);
  const batch = await tx((trx) => rekeyFamilyIdentities(trx, keyringOf(current), actor));
  expect(batch.unopenable).toContainEqual({ familyId: id, keyId: keyIdOf(lost) });
  expect(await keyIdsOf([id!])).toEqual([keyIdOf(lost)]);
  expect((await openAll([id!], keyringOf(randomBytes(32), [lost])))[0]!.names).toBe(SENTINELS.names);
});

/** Runs a command as `npm run` does (tsx), on this file's server database, or with `embedded` on DATA_DIR's own PGlite (no DATABASE_URL). */
function run(script: string, args: string[], env: Record<string, string>, database: { embedded: string } | undefined = undefined): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const where = database ? { DATA_DIR: database.embedded } : { DATA_DIR: path.join(os.tmpdir(), 'haven-cli-test'), DATABASE_URL: t.url };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', LOG_LEVEL: 'silent', ...where, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// On a server the commands connect to this file's database as a second client. This file's embedded
// PGlite is in memory and one session (only its own connection may use it), so on the embedded
// database the commands are checked below on a DATA_DIR of their own, as an operator runs them there.
const onServer = process.env.DATABASE_URL ? test : test.skip;

onServer('npm run rotate-family-key re-encrypts everything under FAMILY_DATA_KEY, then the old key can be dropped', async () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const ids = await familiesUnder(oldKey, 2);
  const result = await run('server/families/rotate-key-cli.ts', [], {
    FAMILY_DATA_KEY: newKey.toString('hex'),
    // The lost key of the test above stays lost: the command reports it and exits 1.
    FAMILY_DATA_PREVIOUS_KEYS: oldKey.toString('base64'),
  });
  // A failed command prints all its lines on stderr (server/commands/run-command.ts).
  expect(result.stderr).toMatch(/Re-encrypted \d+ family identities under key k-/);
  expect(result.stderr).toMatch(/could not be opened/);
  expect(result.code).toBe(1);
  expect(await keyIdsOf(ids)).toEqual(ids.map(() => keyIdOf(newKey)));
  expect((await openAll(ids, keyringOf(newKey))).map((o) => o.names)).toEqual([SENTINELS.names, SENTINELS.names]);
  for (const value of Object.values(SENTINELS)) expect(result.stdout + result.stderr).not.toContain(value);
}, 60_000);

onServer('npm run purge-family-identities --dry-run lists what is due by family number and deletes nothing', async () => {
  const key = randomBytes(32);
  const [id] = await familiesUnder(key, 1);
  await tx((trx) => setFamilyStatus(trx, staffA, id!, 'closed', '2020-01-01'));
  const result = await run('server/families/retention-cli.ts', ['--dry-run'], { FAMILY_DATA_KEY: key.toString('hex') });
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`family ${id}: support ended 2020-01-01 (closed)`);
  expect(result.stdout).toContain('dry run: nothing done');
  const family = await t.db.selectFrom('families').select(['identity_purged_at', 'identity_purge_warned_on', 'case_code']).where('id', '=', id!).executeTakeFirstOrThrow();
  expect(family).toMatchObject({ identity_purged_at: null, identity_purge_warned_on: null });
  expect(result.stdout).not.toContain(family.case_code);
  const real = await run('server/families/retention-cli.ts', [], { FAMILY_DATA_KEY: key.toString('hex') });
  expect(real.code).toBe(0);
  expect(real.stdout).toContain(`family ${id}: support ended 2020-01-01 (closed)`);
  expect(real.stdout).toContain('staff warned now');
}, 60_000);

/**
 * The embedded database as an operator has it: PGlite files under DATA_DIR, no server running, so
 * the command opens DATA_DIR itself (server/commands/run-command.ts). `seed` fills it through this
 * process first, which then lets DATA_DIR go, and `check` looks at it again after the command.
 */
async function withDataDir(seed: (db: Db) => Promise<void>, command: (dataDir: string) => Promise<void>, check: (db: Db) => Promise<void>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-family-commands-'));
  const open = async <T>(fn: (db: Db) => Promise<T>) => {
    const embedded = await startEmbeddedPostgres({ dataDir, holder: 'key-rotation test' });
    const db = createKysely(embedded.url, 1);
    try {
      return await fn(db);
    } finally {
      await db.destroy();
      await embedded.stop();
    }
  };
  try {
    await open(async (db) => {
      await migrateToLatest(db);
      await seed(db);
    });
    await command(dataDir);
    // The command let DATA_DIR go when it finished.
    expect(fs.existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);
    await open(check);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

test('on the embedded database, npm run rotate-family-key opens DATA_DIR itself and re-encrypts every row; the new key alone then opens them', async () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  let ids: number[] = [];
  await withDataDir(
    async (db) => {
      ids = await familiesUnder(oldKey, 3, db);
      expect(await keyIdsOf(ids, db)).toEqual(ids.map(() => keyIdOf(oldKey)));
    },
    async (dataDir) => {
      const result = await run('server/families/rotate-key-cli.ts', [], { FAMILY_DATA_KEY: newKey.toString('hex'), FAMILY_DATA_PREVIOUS_KEYS: oldKey.toString('base64') }, { embedded: dataDir });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toContain(`Re-encrypted 3 family identities under key ${keyIdOf(newKey)}.`);
      expect(result.stdout).toContain('the keys in FAMILY_DATA_PREVIOUS_KEYS can be removed');
      for (const value of Object.values(SENTINELS)) expect(result.stdout).not.toContain(value);
      // No key file appeared beside the data: the command used the keys it was given.
      expect(fs.existsSync(path.join(dataDir, 'family-data.key'))).toBe(false);
    },
    async (db) => {
      expect(await keyIdsOf(ids, db)).toEqual(ids.map(() => keyIdOf(newKey)));
      const opened = await openAll(ids, keyringOf(newKey), db);
      expect(opened.map((o) => o.notes)).toEqual(['SENTINEL-NOTES-0', 'SENTINEL-NOTES-1', 'SENTINEL-NOTES-2']);
      const audits = await db.selectFrom('audit_log').select(['actor_label', 'details']).where('action', '=', 'family_identity.rekeyed').execute();
      expect(audits).toHaveLength(3);
      expect(audits[0]).toEqual({ actor_label: 'npm run rotate-family-key', details: { fromKeyId: keyIdOf(oldKey), toKeyId: keyIdOf(newKey) } });
    },
  );
}, 180_000);

test('on the embedded database, npm run purge-family-identities opens DATA_DIR itself: it deletes an identity whose day has come, audited', async () => {
  const key = randomBytes(32);
  let id = 0;
  await withDataDir(
    async (db) => {
      [id] = (await familiesUnder(key, 1, db)) as [number];
      // Closed long ago and warned more than 30 days ago (as the hourly job would have): due now.
      await db.transaction().execute((trx) => setFamilyStatus(trx, staffA, id, 'closed', '2020-01-01'));
      await db.updateTable('families').set({ identity_purge_warned_on: '2020-12-02' }).where('id', '=', id).execute();
    },
    async (dataDir) => {
      const result = await run('server/families/retention-cli.ts', [], { FAMILY_DATA_KEY: key.toString('hex') }, { embedded: dataDir });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toContain(`family ${id}: support ended 2020-01-01 (closed), deletion on 2021-01-01 — deleted now`);
    },
    async (db) => {
      expect(await db.selectFrom('family_identities').select('family_id').where('family_id', '=', id).execute()).toEqual([]);
      expect(await db.selectFrom('audit_log').select('actor_label').where('action', '=', 'family_identity.purged').where('subject', '=', `family:${id}`).execute()).toEqual([
        { actor_label: 'npm run purge-family-identities' },
      ]);
    },
  );
}, 180_000);
