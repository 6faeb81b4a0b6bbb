import { randomBytes } from 'node:crypto';
import * as passwords from '../../server/accounts/passwords';
import { LINK_LIMITS } from '../../server/accounts/password-resets';
import { createTestApp, type TestApp } from '../support/app';
import { anonymous } from '../support/session';

/**
 * POST /reset-password and /accept-invitation hashed the new password (argon2id, about 80 ms of
 * CPU) before looking at the token: eight connections posting forged tokens slowed every page
 * 4-16×. Now the token is checked first (one query), and each IP address has 20 tries in 15 minutes.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());
afterEach(() => jest.restoreAllMocks());

const forged = () => randomBytes(32).toString('base64url');
const newPassword = { password: 'a long enough password', confirm: 'a long enough password', name: 'Mallory' };

test.each(['/reset-password', '/accept-invitation'])('%s with a forged token is refused without hashing anything', async (path) => {
  const hash = jest.spyOn(passwords, 'hashPassword');
  const visitor = await anonymous(t);
  const res = await visitor.postForm(path, { token: forged(), ...newPassword });
  expect(res.status).toBe(400);
  expect(res.text).toMatch(/link .*(expired|used)|no longer/i);
  expect(hash).not.toHaveBeenCalled();
});

test('one address gets 20 tries in 15 minutes, on both forms together, then a 429 with Retry-After', async () => {
  await t.db.deleteFrom('rate_limits').execute(); // the tries above came from the same address
  const visitor = await anonymous(t);
  for (let i = 0; i < LINK_LIMITS.perIp.max; i++) {
    const res = await visitor.postForm(i % 2 ? '/reset-password' : '/accept-invitation', { token: forged(), ...newPassword });
    expect(res.status).toBe(400);
  }
  const limited = await visitor.postForm('/reset-password', { token: forged(), ...newPassword });
  expect(limited.status).toBe(429);
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  expect(limited.text).toContain('Too many attempts');
});
