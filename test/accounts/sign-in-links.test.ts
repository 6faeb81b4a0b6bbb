import { SIGN_IN_LIMITS } from '../../server/accounts/sign-in';
import { SIGN_IN_LINK_LIMITS } from '../../server/accounts/sign-in-links';
import { createUser } from '../../server/accounts/users';
import { createTestApp, type TestApp } from '../support/app';
import { anonymous, TEST_PASSWORD } from '../support/session';

/**
 * Ten wrong passwords, from ten addresses, locked anyone out of their account (staff included)
 * for as long as the guessing went on. The limit stays (past it, no password is checked), but the
 * owner is let in by a one-time link e-mailed to the account's address.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ TRUST_PROXY: 'loopback' });
});
afterAll(() => t.destroy());

async function linksFor(email: string): Promise<URL[]> {
  const rows = await t.db.selectFrom('outbox').select('payload').orderBy('id').execute();
  return rows
    .map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as { to: string; template: string; data: { link: string } })
    .filter((m) => m.to === email && m.template === 'accounts/sign-in-link')
    .map((m) => new URL(m.data.link));
}

/** A sign-in attempt from its own address (behind a trusted proxy), as a botnet would make them. */
async function attempt(email: string, password: string, ip: string) {
  const v = await anonymous(t);
  const token = await v.csrfToken();
  return v.agent.post('/sign-in').set('X-Forwarded-For', ip).type('form').send({ _csrf: token, email, password });
}

test('after ten wrong passwords from ten addresses, the owner signs in with the link e-mailed to them', async () => {
  const userId = await createUser(t.db, { email: 'director@hanvoice.example', name: 'Director', role: 'staff', password: TEST_PASSWORD });
  for (let i = 0; i < SIGN_IN_LIMITS.perAccount.max; i++) expect((await attempt('director@hanvoice.example', `guess number ${i}`, `198.51.100.${i}`)).status).toBe(400);

  // The attacker's next guess, right or wrong, is not checked.
  const guess = await attempt('director@hanvoice.example', TEST_PASSWORD, '198.51.100.99');
  expect(guess.status).toBe(429);
  expect(guess.headers['set-cookie']?.toString() ?? '').not.toContain('haven_session=');

  // The owner, from their own address, is told to check their e-mail, and the link there signs them in once.
  const owner = await anonymous(t);
  const token = await owner.csrfToken();
  const told = await owner.agent.post('/sign-in').set('X-Forwarded-For', '203.0.113.5').type('form').send({ _csrf: token, email: 'director@hanvoice.example', password: TEST_PASSWORD });
  expect(told.status).toBe(429);
  expect(told.text).toContain('we have e-mailed you a link that signs you in once');
  const [link] = await linksFor('director@hanvoice.example');
  expect(link).toBeDefined();
  expect(link!.origin).toBe('http://haven.test');

  const page = await owner.agent.get(link!.pathname + link!.search);
  expect(page.status).toBe(200);
  expect(page.headers['cache-control']).toBe('private, no-store');
  const signedIn = await owner.postForm('/sign-in/link', { token: link!.searchParams.get('token')! });
  expect(signedIn.status).toBe(303);
  expect(signedIn.headers.location).toBe('/staff');
  await owner.agent.get('/staff').expect(200);

  // Once only.
  const again = await (await anonymous(t)).postForm('/sign-in/link', { token: link!.searchParams.get('token')! });
  expect(again.status).toBe(400);
  const audit = await t.db.selectFrom('audit_log').select('action').where('subject', '=', `user:${userId}`).execute();
  expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['user.sign_in_link_sent', 'user.signed_in_by_link']));
});

test('the lockout sends at most 3 links an hour, and nothing for an address without an account', async () => {
  await createUser(t.db, { email: 'member@hanvoice.example', name: 'Member', role: 'sponsor', password: TEST_PASSWORD });
  for (let i = 0; i < SIGN_IN_LIMITS.perAccount.max + 10; i++) await attempt('member@hanvoice.example', 'wrong password', `192.0.2.${i}`);
  expect(await linksFor('member@hanvoice.example')).toHaveLength(SIGN_IN_LINK_LIMITS.perAccount.max);
  for (let i = 0; i < SIGN_IN_LIMITS.perAccount.max + 2; i++) await attempt('nobody@hanvoice.example', 'wrong password', `192.0.2.${100 + i}`);
  expect(await linksFor('nobody@hanvoice.example')).toHaveLength(0);
});

test('a forged or malformed link is refused', async () => {
  const v = await anonymous(t);
  expect((await v.agent.get('/sign-in/link?token=abc')).status).toBe(400);
  expect((await v.postForm('/sign-in/link', { token: 'A'.repeat(43) })).status).toBe(400);
});

