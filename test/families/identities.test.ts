import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { keyringOf } from '../../server/families/data-keys';
import { CASE_CODE_ALPHABET, newCaseCode, registerFamily } from '../../server/families/families';
import { IDENTITY_FIELDS, mentionsIdentity, openIdentity, saveFamilyIdentity, sealIdentity, viewFamilyIdentity } from '../../server/families/identities';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { profile, SENTINELS, staffA } from './factories';

const keyring = keyringOf(randomBytes(32));
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.destroy());

describe('AES-256-GCM sealing', () => {
  test('round-trips an identity', () => {
    const sealed = sealIdentity(keyring, 7, SENTINELS);
    expect(sealed.iv).toHaveLength(12);
    expect(sealed.auth_tag).toHaveLength(16);
    expect(sealed.ciphertext.toString('utf8')).not.toContain('SENTINEL');
    expect(openIdentity(keyring, 7, sealed)).toEqual(SENTINELS);
  });

  test('uses a fresh IV for every write', () => {
    const a = sealIdentity(keyring, 7, SENTINELS);
    const b = sealIdentity(keyring, 7, SENTINELS);
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
  });

  test('refuses a tampered ciphertext, tag or IV', () => {
    const sealed = sealIdentity(keyring, 7, SENTINELS);
    const flip = (b: Buffer, i = 0) => {
      const c = Buffer.from(b);
      c[i] = c[i]! ^ 1;
      return c;
    };
    expect(() => openIdentity(keyring, 7, { ...sealed, ciphertext: flip(sealed.ciphertext, 5) })).toThrow();
    expect(() => openIdentity(keyring, 7, { ...sealed, auth_tag: flip(sealed.auth_tag) })).toThrow();
    expect(() => openIdentity(keyring, 7, { ...sealed, iv: flip(sealed.iv) })).toThrow();
  });

  test('is bound to its family: the same ciphertext under another family id is refused', () => {
    const sealed = sealIdentity(keyring, 7, SENTINELS);
    expect(() => openIdentity(keyring, 8, sealed)).toThrow();
  });

  test('refuses the wrong key, and opens rows under a previous key after rotation', () => {
    const oldKey = randomBytes(32);
    const sealed = sealIdentity(keyringOf(oldKey), 7, SENTINELS);
    expect(() => openIdentity(keyring, 7, sealed)).toThrow(/not configured/);
    const rotated = keyringOf(randomBytes(32), [oldKey]);
    expect(openIdentity(rotated, 7, sealed)).toEqual(SENTINELS);
    expect(sealIdentity(rotated, 7, SENTINELS).key_id).toBe(rotated.current.id);
  });
});

test('case codes are random draws from the unambiguous alphabet', () => {
  const codes = new Set(Array.from({ length: 500 }, () => newCaseCode()));
  expect(codes.size).toBe(500);
  for (const code of codes) expect(code).toMatch(new RegExp(`^HV-[${CASE_CODE_ALPHABET}]{6}$`));
});

test('registering a family stores the identity only as ciphertext, audits the change, and one function reads it with an audit row', async () => {
  const family = await t.db.transaction().execute((trx) => registerFamily(trx, keyring, staffA, profile(), SENTINELS));
  const stored = await t.db.selectFrom('family_identities').select(['key_id', 'ciphertext']).where('family_id', '=', family.id).executeTakeFirstOrThrow();
  expect(stored.key_id).toBe(keyring.current.id);
  expect(stored.ciphertext.toString('latin1')).not.toContain('SENTINEL');

  const seen = await t.db.transaction().execute((trx) => viewFamilyIdentity(trx, keyring, staffA, family.id, { purpose: 'staff_reveal', fields: IDENTITY_FIELDS, reason: 'File review' }));
  expect(seen).toEqual(SENTINELS);
  const shared = await t.db
    .transaction()
    .execute((trx) => viewFamilyIdentity(trx, keyring, { userId: 5, label: 'sponsor:5' }, family.id, { purpose: 'matched_group', matchId: 1, groupId: 3, fields: ['names'] }));
  expect(shared.names).toBe(SENTINELS.names);
  expect(shared.notes).toBe('');
  expect(shared.governmentFileNumbers).toBe('');

  const audit = await t.db.selectFrom('audit_log').select(['action', 'actor_user_id', 'details']).where('subject', '=', `family:${family.id}`).orderBy('id').execute();
  expect(audit.map((a) => a.action)).toEqual(['family.registered', 'family_identity.changed', 'family_identity.viewed', 'family_identity.viewed']);
  expect(JSON.stringify(audit)).not.toContain('SENTINEL');
});

test('a changed identity is re-sealed with a new IV and audited', async () => {
  const family = await t.db.transaction().execute((trx) => registerFamily(trx, keyring, staffA, profile(), SENTINELS));
  const before = await t.db.selectFrom('family_identities').select('iv').where('family_id', '=', family.id).executeTakeFirstOrThrow();
  await t.db.transaction().execute((trx) => saveFamilyIdentity(trx, keyring, staffA, family.id, { ...SENTINELS, notes: 'SENTINEL-NOTES-changed' }));
  const after = await t.db.selectFrom('family_identities').select('iv').where('family_id', '=', family.id).executeTakeFirstOrThrow();
  expect(after.iv.equals(before.iv)).toBe(false);
  const changes = await sql<{ n: number }>`select count(*)::bigint as n from audit_log where subject = ${`family:${family.id}`} and action = 'family_identity.changed'`.execute(t.db);
  expect(changes.rows[0]!.n).toBe(2);
});

describe('a reveal reason that repeats the identity', () => {
  const identity = { ...SENTINELS, names: 'Kim Eun-ji (mother)\n박민준', contact: '+1 416 555 0199', currentLocation: 'Parkdale' };
  test.each([
    ['Call Kim about the lease', true],
    ['call KIM about the lease', true],
    ['박민준 학교 등록', true],
    ['박민준에게 전화', true],
    ['Phone +1 416 555 0199 back', true],
    ['Housing in Parkdale', true],
    ['Checking the school enrolment', false],
    ['Kimchi order for the welcome dinner', false],
    ['Booking an interpreter', false],
  ])('%s → %s', (reason, refused) => {
    expect(mentionsIdentity(reason, identity)).toBe(refused);
  });
});
