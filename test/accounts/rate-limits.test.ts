import request from 'supertest';
import { SIGN_IN_LIMITS } from '../../server/accounts/sign-in';
import { createUser } from '../../server/accounts/users';
import { createApp } from '../../server/app';
import { consumeRateLimit } from '../../server/http/rate-limit';
import { createLogger } from '../../server/logger';
import { createTestApp, type TestApp, testConfig } from '../support/app';
import { anonymous, TEST_PASSWORD } from '../support/session';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

test('sign-in is limited per account: past the limit the password is not checked, even the right one (a link is e-mailed instead)', async () => {
  await createUser(t.db, { email: 'target@example.org', name: 'Target', role: 'staff', password: TEST_PASSWORD });
  const v = await anonymous(t);
  for (let i = 0; i < SIGN_IN_LIMITS.perAccount.max; i++) {
    expect((await v.postForm('/sign-in', { email: 'target@example.org', password: `guess ${i}` })).status).toBe(400);
  }
  const limited = await v.postForm('/sign-in', { email: 'TARGET@example.org', password: TEST_PASSWORD });
  expect(limited.status).toBe(429);
  expect(limited.text).toContain('This account has had too many sign-in attempts');
  expect(([] as string[]).concat(limited.headers['set-cookie'] ?? []).some((c) => c.startsWith('haven_session='))).toBe(false);
  // In French too.
  const fr = await v.agent.get('/sign-in?lang=fr');
  expect(fr.status).toBe(200);
  const limitedFr = await v.postForm('/sign-in', { email: 'target@example.org', password: TEST_PASSWORD });
  expect(limitedFr.text).toContain('trop de tentatives de connexion');
});

test('the counters live in PostgreSQL: a second app process sees the same limit', async () => {
  const other = createApp({ config: t.config, db: t.db, logger: createLogger(t.config) });
  await createUser(t.db, { email: 'shared@example.org', name: 'Shared', role: 'sponsor', password: TEST_PASSWORD });
  const v = await anonymous(t);
  for (let i = 0; i < SIGN_IN_LIMITS.perAccount.max; i++) await v.postForm('/sign-in', { email: 'shared@example.org', password: 'wrong password' });
  const agent = request.agent(other);
  const page = await agent.get('/sign-in');
  const token = /name="csrf-token" content="([^"]+)"/.exec(page.text)![1]!;
  const res = await agent.post('/sign-in').type('form').send({ _csrf: token, email: 'shared@example.org', password: TEST_PASSWORD });
  expect(res.status).toBe(429);
});

test('sign-in is limited per IP address across accounts (behind a trusted proxy on loopback, by X-Forwarded-For)', async () => {
  const proxied = createApp({ config: testConfig({ TRUST_PROXY: 'loopback' }), db: t.db, logger: createLogger(t.config) });
  const agent = request.agent(proxied);
  const from = async (ip: string, i: number) => {
    const page = await agent.get('/sign-in');
    const token = /name="csrf-token" content="([^"]+)"/.exec(page.text)![1]!;
    return agent.post('/sign-in').set('X-Forwarded-For', ip).type('form').send({ _csrf: token, email: `visitor${i}@example.org`, password: 'whatever it is' });
  };
  for (let i = 0; i < SIGN_IN_LIMITS.perIp.max; i++) expect((await from('203.0.113.9', i)).status).toBe(400);
  const limited = await from('203.0.113.9', 999);
  expect(limited.status).toBe(429);
  expect(limited.text).toContain('Too many attempts');
  // Another address is not affected.
  expect((await from('198.51.100.7', 999)).status).toBe(400);
});

test('a window that has passed starts again', async () => {
  const limit = { name: 'test', max: 2, windowSeconds: 60 };
  expect((await consumeRateLimit(t.db, limit, 'x')).limited).toBe(false);
  expect((await consumeRateLimit(t.db, limit, 'x')).limited).toBe(false);
  const third = await consumeRateLimit(t.db, limit, 'x');
  expect(third.limited).toBe(true);
  expect(third.retryAfterSeconds).toBeGreaterThan(0);
  expect(third.retryAfterSeconds).toBeLessThanOrEqual(60);
  expect((await consumeRateLimit(t.db, limit, 'y')).limited).toBe(false);
  await t.db.updateTable('rate_limits').set({ window_started_at: new Date(Date.now() - 61_000) }).execute();
  expect((await consumeRateLimit(t.db, limit, 'x')).limited).toBe(false);
  // Subjects (e-mail addresses) are not stored in the clear.
  const keys = await t.db.selectFrom('rate_limits').select('key').execute();
  expect(JSON.stringify(keys)).not.toContain('target@example.org');
});

test('housekeeping drops expired sessions and old windows, and keeps live ones', async () => {
  const { pruneExpiredAccountsData } = await import('../../server/accounts/housekeeping');
  const { createSession } = await import('../../server/accounts/sessions');
  const userId = await createUser(t.db, { email: 'house@example.org', name: 'House', role: 'staff' });
  await createSession(t.db, userId);
  await createSession(t.db, userId);
  await t.db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000) }).where('user_id', '=', userId).execute();
  await createSession(t.db, userId);
  await consumeRateLimit(t.db, { name: 'old', max: 1, windowSeconds: 60 }, 'z');
  await t.db.updateTable('rate_limits').set({ window_started_at: new Date(Date.now() - 2 * 86_400_000) }).execute();
  await pruneExpiredAccountsData(t.db);
  expect(await t.db.selectFrom('sessions').select('token_hash').where('user_id', '=', userId).execute()).toHaveLength(1);
  expect(await t.db.selectFrom('rate_limits').select('key').execute()).toEqual([]);
});
