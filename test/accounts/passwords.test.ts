import { hashPassword, verifyPassword } from '../../server/accounts/passwords';
import fixtures from './fixtures/argon2-node-argon2-hashes.json';

/**
 * Reference: PHC strings made by node-argon2 0.45.1 (the library Haven hashed with before
 * @node-rs/argon2), generated with that library before it was removed (fixtures/…json says how).
 * Existing accounts must keep signing in.
 */
describe('password hashes', () => {
  test.each(fixtures.hashes)('a hash made by node-argon2 still verifies: $hash', async ({ password, hash }) => {
    await expect(verifyPassword(hash, password)).resolves.toBe(true);
    await expect(verifyPassword(hash, `${password} `)).resolves.toBe(false);
    await expect(verifyPassword(hash, password.slice(1))).resolves.toBe(false);
  });

  test('new hashes are argon2id PHC strings with OWASP minimum parameters, and verify', async () => {
    const hash = await hashPassword('비밀번호는 길어야 합니다');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    await expect(verifyPassword(hash, '비밀번호는 길어야 합니다')).resolves.toBe(true);
    await expect(verifyPassword(hash, '비밀번호는 길어야 합니다!')).resolves.toBe(false);
  });

  test('a damaged or missing hash never matches and never throws', async () => {
    await expect(verifyPassword('$argon2id$v=19$m=19456,t=2,p=1$broken', 'anything at all')).resolves.toBe(false);
    await expect(verifyPassword(null, 'anything at all')).resolves.toBe(false);
  });
});
