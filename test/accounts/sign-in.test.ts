import request from 'supertest';
import { createUser } from '../../server/accounts/users';
import { createTestApp, type TestApp } from '../support/app';
import { anonymous, signInAs, TEST_PASSWORD } from '../support/session';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

function sessionCookie(res: request.Response): string | undefined {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return cookies.find((c) => c.startsWith('haven_session='));
}

test('the sign-in page has a form with a CSRF token and is not indexed', async () => {
  const res = await request(t.app).get('/sign-in').expect(200);
  expect(res.text).toMatch(/<input type="hidden" name="_csrf" value="[A-Za-z0-9_-]{43}">/);
  expect(res.text).toContain('noindex');
  const fr = await request(t.app).get('/sign-in?lang=fr').expect(200);
  expect(fr.text).toContain('Connexion');
});

test('signing in with the right password starts a session, with a new id each time', async () => {
  await createUser(t.db, { email: 'Staff.Person@Example.org', name: 'Staff Person', role: 'staff', password: TEST_PASSWORD });
  const v = await anonymous(t);
  // E-mail is matched case-insensitively.
  const res = await v.postForm('/sign-in', { email: 'staff.person@EXAMPLE.org', password: TEST_PASSWORD }).then((r) => r);
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/staff');
  const cookie = sessionCookie(res)!;
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Lax/);
  expect(cookie).not.toMatch(/Secure/);
  const first = /haven_session=([^;]+)/.exec(cookie)![1];
  await v.agent.get('/staff').expect(200);

  // Signing in again from the same browser replaces the session: the old id stops working.
  const again = await v.postForm('/sign-in', { email: 'staff.person@example.org', password: TEST_PASSWORD });
  const second = /haven_session=([^;]+)/.exec(sessionCookie(again)!)![1];
  expect(second).not.toBe(first);
  const sessions = await t.db.selectFrom('sessions').innerJoin('users', 'users.id', 'sessions.user_id').select('token_hash').where('users.email', '=', 'staff.person@example.org').execute();
  expect(sessions).toHaveLength(1);
  await request(t.app).get('/staff').set('Cookie', `haven_session=${first}`).expect(303);
});

test('a next path is followed, but never to another site', async () => {
  await createUser(t.db, { email: 'next@example.org', name: 'Next', role: 'staff', password: TEST_PASSWORD });
  const v = await anonymous(t);
  const res = await v.postForm('/sign-in', { email: 'next@example.org', password: TEST_PASSWORD, next: '/staff/audit' });
  expect(res.headers.location).toBe('/staff/audit');
  const evil = await v.postForm('/sign-in', { email: 'next@example.org', password: TEST_PASSWORD, next: '//evil.example/x' });
  expect(evil.headers.location).toBe('/staff');
});

test('a staff page asks an anonymous visitor to sign in, and comes back after', async () => {
  const res = await request(t.app).get('/staff/audit?action=user').expect(303);
  expect(res.headers.location).toBe('/sign-in?next=%2Fstaff%2Faudit%3Faction%3Duser');
  const page = await request(t.app).get(res.headers.location!).expect(200);
  expect(page.text).toContain('name="next" value="/staff/audit?action&#x3D;user"');
});

test('a wrong password and an unknown e-mail get the same message, and no session', async () => {
  await createUser(t.db, { email: 'known@example.org', name: 'Known', role: 'sponsor', password: TEST_PASSWORD });
  const v = await anonymous(t);
  const wrong = await v.postForm('/sign-in', { email: 'known@example.org', password: 'not the password' });
  const unknown = await v.postForm('/sign-in', { email: 'nobody@example.org', password: 'not the password' });
  expect(wrong.status).toBe(400);
  expect(unknown.status).toBe(400);
  for (const res of [wrong, unknown]) {
    expect(res.text).toContain('do not match an account');
    expect(sessionCookie(res)).toBeUndefined();
  }
  // The typed e-mail is kept; the password is not.
  expect(wrong.text).toContain('value="known@example.org"');
  expect(wrong.text).not.toContain('not the password');
});

test('an empty or oversized form is a 400 with a message, never a 500', async () => {
  const v = await anonymous(t);
  const empty = await v.postForm('/sign-in', {});
  expect(empty.status).toBe(400);
  expect(empty.text).toContain('Please enter your e-mail address and your password.');
  const huge = await v.postForm('/sign-in', { email: 'a@b.c', password: 'x'.repeat(5000) });
  expect(huge.status).toBe(400);
  const arrays = await v.agent.post('/sign-in').type('form').send(`_csrf=${await v.csrfToken()}&email=a&email=b&password[x]=1`);
  expect(arrays.status).toBe(400);
});

test('a NUL byte in any field or query parameter is a 400, not a database error', async () => {
  const v = await anonymous(t);
  expect((await v.postForm('/sign-in', { email: 'a\u0000@example.org', password: 'whatever it is' })).status).toBe(400);
  expect((await v.postForm('/accept-invitation', { token: 'x', name: 'A\u0000', password: 'p', confirm: 'p' })).status).toBe(400);
  const staff = await signInAs(t, 'staff');
  expect((await staff.agent.get('/staff/audit?subject=a%00b')).status).toBe(400);
});

test('a disabled account cannot sign in, and its open sessions stop working', async () => {
  const sponsor = await signInAs(t, 'sponsor', { email: 'disabled@example.org' });
  await sponsor.agent.get('/sign-in').expect(200).expect((res) => expect(res.text).toContain('Sign out'));
  await t.db.updateTable('users').set({ disabled_at: new Date() }).where('id', '=', sponsor.user.id).execute();
  const page = await sponsor.agent.get('/sign-in').expect(200);
  expect(page.text).not.toContain('Sign out');
  const v = await anonymous(t);
  const res = await v.postForm('/sign-in', { email: 'disabled@example.org', password: TEST_PASSWORD });
  expect(res.status).toBe(403);
  expect(res.text).toContain('This account has been disabled');
  expect(sessionCookie(res)).toBeUndefined();
});

test('signing out deletes the session row, so the cookie no longer works', async () => {
  const staff = await signInAs(t, 'staff');
  await staff.agent.get('/staff').expect(200);
  const res = await staff.postForm('/sign-out');
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/sign-in?notice=signedOut');
  const left = await t.db.selectFrom('sessions').select('token_hash').where('user_id', '=', staff.user.id).execute();
  expect(left).toEqual([]);
  // Replaying the old cookie does not sign anyone in.
  await request(t.app).get('/staff').set('Cookie', `haven_session=${staff.sessionToken}`).expect(303);
});

describe('CSRF', () => {
  test('a form post without a token, or with a forged one, is refused and changes nothing', async () => {
    const staff = await signInAs(t, 'staff');
    const none = await staff.agent.post('/sign-out').type('form').send({});
    expect(none.status).toBe(403);
    expect(none.text).toContain('This form has expired');
    const fr = await staff.agent.post('/sign-out?lang=fr').type('form').send({});
    expect(fr.text).toContain('Ce formulaire a expiré');
    const forged = await staff.agent.post('/sign-out').type('form').send({ _csrf: 'A'.repeat(43) });
    expect(forged.status).toBe(403);
    // Still signed in.
    await staff.agent.get('/staff').expect(200);
  });

  test("another browser's token does not work with this browser's cookies", async () => {
    const staff = await signInAs(t, 'staff');
    const other = await anonymous(t);
    const token = await other.csrfToken();
    const res = await staff.agent.post('/sign-out').type('form').send({ _csrf: token });
    expect(res.status).toBe(403);
  });

  test('the token changes when the browser signs in (no fixation from before sign-in)', async () => {
    await createUser(t.db, { email: 'fixation@example.org', name: 'Fix', role: 'staff', password: TEST_PASSWORD });
    const v = await anonymous(t);
    const before = await v.csrfToken();
    await v.agent.post('/sign-in').type('form').send({ _csrf: before, email: 'fixation@example.org', password: TEST_PASSWORD }).expect(303);
    const after = await v.csrfToken();
    expect(after).not.toBe(before);
    await v.agent.post('/sign-out').type('form').send({ _csrf: before }).expect(403);
    await v.agent.post('/sign-out').type('form').send({ _csrf: after }).expect(303);
  });

  test('a script may send the token as X-CSRF-Token, and a multipart form in the query string', async () => {
    const staff = await signInAs(t, 'staff');
    const token = await staff.csrfToken();
    await staff.agent.post('/sign-out?_csrf=' + token).type('form').send({}).expect(403);
    await staff.agent.post('/sign-out').set('X-CSRF-Token', token).expect(303);
    const again = await signInAs(t, 'staff');
    const token2 = await again.csrfToken();
    await again.agent.post(`/sign-out?_csrf=${token2}`).field('x', '1').expect(303);
  });

  test('JSON under /api and webhooks are not subject to the form token; a form post to /api is', async () => {
    const json = await request(t.app).post('/api/campaign').send({ a: 1 });
    expect(json.status).not.toBe(403);
    const hook = await request(t.app).post('/webhooks/nothing').set('Content-Type', 'application/json').send('{}');
    expect(hook.status).toBe(404);
    const form = await request(t.app).post('/api/campaign').type('form').send({ a: 1 });
    expect(form.status).toBe(403);
  });
});

test('cookies are Secure when PUBLIC_URL is https', async () => {
  const secure = await createTestApp({ PUBLIC_URL: 'https://haven.example' });
  try {
    await createUser(secure.db, { email: 'secure@example.org', name: 'S', role: 'staff', password: TEST_PASSWORD });
    const v = await anonymous(secure);
    const page = await v.agent.get('/sign-in');
    const csrfCookie = ([] as string[]).concat(page.headers['set-cookie'] ?? []).find((c) => c.startsWith('haven_csrf='));
    expect(csrfCookie).toMatch(/Secure/);
    expect(csrfCookie).toMatch(/HttpOnly/);
    expect(page.headers['strict-transport-security']).toBeDefined();
  } finally {
    await secure.destroy();
  }
});
