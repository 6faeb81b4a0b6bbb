import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import request from 'supertest';
import { createSession } from '../../server/accounts/sessions';
import { createUser } from '../../server/accounts/users';
import { ConfigError, loadConfig } from '../../server/config';
import { keyringOf } from '../../server/families/data-keys';
import { linkMemberAccount } from '../../server/groups/membership';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { availableFamily, staffA, staffB } from '../families/factories';
import { readyGroup } from '../matching/factories';
import { createTestApp, type TestApp } from '../support/app';
import { totpCode } from '../support/rfc6238';
import { listRoutes } from '../support/route-policy';
import { anonymous, signInAs, TEST_PASSWORD, type TestVisitor, useSession } from '../support/session';

/**
 * The second sign-in step, with STAFF_PASSKEYS=required as in production. (The browser test,
 * test/e2e/passkeys.e2e.ts, enrols and uses a real passkey through Chromium's virtual
 * authenticator; codes here come from test/support/rfc6238.ts, an RFC 6238 authenticator written apart from the server's otpauth and checked against the RFC's test vectors.)
 */
const familyKey = randomBytes(32);
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ STAFF_PASSKEYS: 'required', FAMILY_DATA_KEY: familyKey.toString('hex') });
});
afterAll(() => t.destroy());

async function passwordSignIn(email: string, password = TEST_PASSWORD): Promise<TestVisitor> {
  const visitor = await anonymous(t);
  const res = await visitor.postForm('/sign-in', { email, password });
  expect(res.status).toBe(303);
  expect(res.headers.location).toMatch(/^\/sign-in\/verify/);
  return visitor;
}

async function outboxLink(to: string, template: string): Promise<URL> {
  const rows = await t.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').execute();
  const mail = rows.map((r) => r.payload as { to: string; template: string; data: { link: string } }).find((p) => p.to === to && p.template === template);
  if (!mail) throw new Error(`no ${template} to ${to}`);
  return new URL(mail.data.link);
}

describe('configuration', () => {
  const production = { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), CHARITY_REGISTRATION_NUMBER: '123456789 RR 0001', CHARITY_ADDRESS: '1 Test Street, Toronto ON  M5V 1A1', CONTACT_EMAIL: 'giving@haven.test', FAMILY_DATA_KEY: randomBytes(32).toString('hex') } as const;
  test('production requires passkeys, and refuses to be told otherwise', () => {
    expect(loadConfig(production).staffPasskeys).toBe('required');
    expect(() => loadConfig({ ...production, STAFF_PASSKEYS: 'optional' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...production, STAFF_PASSKEYS: 'optional' })).toThrow(/STAFF_PASSKEYS cannot be optional/);
    expect(loadConfig({ NODE_ENV: 'test' }).staffPasskeys).toBe('optional');
  });
});

test('a staff password alone opens no staff page and no staff action, and cannot enrol a passkey', async () => {
  const staff = await signInAs(t, 'staff', { email: 'password.only@hanvoice.test' });
  const visitor = await passwordSignIn('password.only@hanvoice.test');
  const staffGets = listRoutes(t.app).filter((r) => r.method === 'get' && r.rule === 'staff');
  expect(staffGets.length).toBeGreaterThan(15);
  for (const route of staffGets) {
    const path = route.path.replace(/:[A-Za-z_]+/g, '1');
    const res = await visitor.agent.get(path).redirects(0);
    expect([res.status, res.headers.location]).toEqual([303, `/sign-in/verify?next=${encodeURIComponent(path)}`]);
  }
  const post = await visitor.postForm('/staff/invitations', { email: 'someone@example.org', role: 'staff' });
  expect(post.status).toBe(401);
  const verify = await visitor.agent.get('/sign-in/verify');
  expect(verify.text).toContain('a password alone does not open the staff area');
  expect(verify.text).not.toContain('data-passkey="register"');
  const token = await visitor.csrfToken();
  const options = await visitor.agent.post('/account/passkeys/options').set('X-CSRF-Token', token).send({});
  expect(options.status).toBe(403);
  // The same holds for a session made without the sign-in form (as the test helpers make them).
  expect((await staff.agent.get('/staff').redirects(0)).headers.location).toBe('/sign-in/verify?next=%2Fstaff');
  expect(await t.db.selectFrom('passkeys').select('id').where('user_id', '=', staff.user.id).execute()).toEqual([]);
});

test('a password-only session waits 15 minutes for its second step, then ends', async () => {
  await signInAs(t, 'staff', { email: 'slow@hanvoice.test' });
  const visitor = await passwordSignIn('slow@hanvoice.test');
  await t.db.updateTable('sessions').set({ created_at: sql<Date>`now() - interval '16 minutes'` } as never).where('user_id', '=', (await t.db.selectFrom('users').select('id').where('email', '=', 'slow@hanvoice.test').executeTakeFirstOrThrow()).id).execute();
  const res = await visitor.agent.get('/sign-in/verify').redirects(0);
  expect(res.headers.location).toBe('/sign-in');
});

test('a staff invitation lets the new staff member enrol right after choosing a password, and only then', async () => {
  const inviter = await signInAs(t, 'staff', { administrator: true }); // only administrators invite staff (issue 16)
  // Signed in with a passkey (what the browser test proves): the session records it.
  useSession(inviter.agent, await createSession(t.db, inviter.user.id, { secondFactor: 'passkey' }));
  expect((await inviter.postForm('/staff/invitations', { email: 'new.staff@hanvoice.test', role: 'staff' })).status).toBe(303);
  const link = await outboxLink('new.staff@hanvoice.test', 'accounts/invitation');
  const visitor = await anonymous(t);
  const accepted = await visitor.postForm('/accept-invitation', { token: link.searchParams.get('token')!, name: 'New Staff', password: TEST_PASSWORD, confirm: TEST_PASSWORD });
  expect(accepted.headers.location).toBe('/sign-in/verify');
  const verify = await visitor.agent.get('/sign-in/verify');
  expect(verify.text).toContain('data-passkey="register"');
  const token = await visitor.csrfToken();
  const options = await visitor.agent.post('/account/passkeys/options').set('X-CSRF-Token', token).send({});
  expect(options.status).toBe(200);
  expect(options.body).toMatchObject({ rp: { id: 'haven.test' }, authenticatorSelection: { userVerification: 'required' } });
  // The same person signing in again with the password has no such grant.
  const later = await passwordSignIn('new.staff@hanvoice.test');
  expect((await later.agent.get('/sign-in/verify')).text).not.toContain('data-passkey="register"');
});

test('another staff member’s reset removes the second factors and sessions, is audited, and e-mails a set-up link that works once', async () => {
  const helper = await signInAs(t, 'staff', { name: 'Helper Staff' });
  useSession(helper.agent, await createSession(t.db, helper.user.id, { secondFactor: 'passkey' }));
  const lost = await signInAs(t, 'staff', { email: 'lost.device@hanvoice.test', name: 'Lost Device' });
  await t.db.insertInto('recovery_codes').values({ user_id: lost.user.id, code_hash: 'x'.repeat(64) }).execute();
  expect((await helper.postForm(`/staff/users/${helper.user.id}/reset-sign-in`)).status).toBe(409);
  const reset = await helper.postForm(`/staff/users/${lost.user.id}/reset-sign-in`);
  expect([reset.status, reset.headers.location]).toEqual([303, '/staff/users?done=signInReset']);
  expect(await t.db.selectFrom('sessions').select('token_hash').where('user_id', '=', lost.user.id).execute()).toEqual([]);
  expect(await t.db.selectFrom('recovery_codes').select('id').where('user_id', '=', lost.user.id).execute()).toEqual([]);
  const audit = await t.db.selectFrom('audit_log').select(['actor_user_id', 'details']).where('action', '=', 'user.sign_in_reset').where('subject', '=', `user:${lost.user.id}`).execute();
  expect(audit).toEqual([{ actor_user_id: helper.user.id, details: { passkeysRemoved: 0, authenticatorAppRemoved: false } }]);

  const link = await outboxLink('lost.device@hanvoice.test', 'accounts/sign-in-reset');
  const visitor = await anonymous(t);
  expect((await visitor.agent.get(link.pathname + link.search)).text).toContain('choose your password');
  const used = await visitor.postForm('/enrol', { token: link.searchParams.get('token')!, password: 'a brand new password', confirm: 'a brand new password' });
  expect(used.headers.location).toBe('/sign-in/verify');
  expect((await visitor.agent.get('/sign-in/verify')).text).toContain('data-passkey="register"');
  const again = await (await anonymous(t)).postForm('/enrol', { token: link.searchParams.get('token')!, password: 'yet another password', confirm: 'yet another password' });
  expect(again.status).toBe(400);
  expect(again.text).toContain('expired or was already used');
  // The old password no longer works; the new one does (and still needs the passkey step).
  expect((await (await anonymous(t)).postForm('/sign-in', { email: 'lost.device@hanvoice.test', password: TEST_PASSWORD })).status).toBe(400);
  await passwordSignIn('lost.device@hanvoice.test', 'a brand new password');
});

describe('a matched group’s coordinator', () => {
  let email = '';
  let secret = '';
  const code = (offsetSteps: number) => totpCode(secret, Date.now() + offsetSteps * 30_000);
  // Each test's attempts are its own: the per-account limit is tested last.
  beforeEach(() => t.db.deleteFrom('rate_limits').execute());

  beforeAll(async () => {
    const group = await readyGroup(t.db);
    email = (await t.db.selectFrom('group_members').select('email').where('group_id', '=', group.id).where('role', '=', 'coordinator').executeTakeFirstOrThrow()).email;
    const userId = await createUser(t.db, { email, name: 'Matched Coordinator', role: 'sponsor', password: TEST_PASSWORD });
    await t.db.transaction().execute((trx) => linkMemberAccount(trx, group.id, email, userId));
    // Before the match, the password is enough.
    const before = await anonymous(t);
    expect((await before.postForm('/sign-in', { email, password: TEST_PASSWORD })).headers.location).toBe('/group');
    const family = await availableFamily(t.db, keyringOf(familyKey));
    const match = await t.db.transaction().execute((trx) => proposeMatch(trx, t.config, staffA, { familyId: family.id, groupId: group.id }));
    await t.db.transaction().execute((trx) => approveMatch(trx, t.config, staffB, match.id, ['names']));
    // The session opened before the match now needs the second step too.
    expect((await before.agent.get('/group/family').redirects(0)).headers.location).toBe('/sign-in/verify?next=%2Fgroup%2Ffamily');
  });

  test('sets up an authenticator app from an e-mailed link (password and mailbox), and gets ten recovery codes once', async () => {
    const visitor = await passwordSignIn(email);
    expect((await visitor.agent.get('/group/family').redirects(0)).headers.location).toBe('/sign-in/verify?next=%2Fgroup%2Ffamily');
    expect((await visitor.agent.get('/account/totp').redirects(0)).headers.location).toBe('/sign-in');
    expect((await visitor.postForm('/sign-in/setup-link')).text).toContain('A set-up link is on its way');
    const link = await outboxLink(email, 'accounts/setup-link');
    const wrong = await visitor.postForm('/enrol', { token: link.searchParams.get('token')!, password: 'not my password' });
    expect(wrong.status).toBe(400);
    expect((await visitor.postForm('/enrol', { token: link.searchParams.get('token')!, password: TEST_PASSWORD })).headers.location).toBe('/sign-in/verify');
    const setup = await visitor.agent.get('/account/totp');
    expect(setup.status).toBe(200);
    expect(setup.text).toContain('src="data:image/svg+xml;base64,');
    secret = /data-totp-secret>([A-Z2-7 ]+)</.exec(setup.text)![1]!.replace(/ /g, '');
    expect((await visitor.postForm('/account/totp', { code: '123456' })).status).toBe(400);
    const confirmed = await visitor.postForm('/account/totp', { code: code(0) });
    expect(confirmed.headers.location).toBe('/account/recovery-codes');
    const codesPage = await visitor.agent.get('/account/recovery-codes');
    const codes = [...codesPage.text.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    // Shown once: the next visit shows how many are left, not the codes.
    const again = await visitor.agent.get('/account/recovery-codes');
    expect(again.text).toContain('10 unused recovery codes left.');
    for (const c of codes) expect(again.text).not.toContain(c!);
    expect((await visitor.agent.get('/group/family')).status).toBe(200);
    const stored = await t.db.selectFrom('recovery_codes').select('code_hash').execute();
    for (const c of codes) expect(JSON.stringify(stored)).not.toContain(c!.replace('-', ''));
    (globalThis as { recoveryCodes?: string[] }).recoveryCodes = codes as string[];
  });

  test('signs in with password and a code; a code already used, or a wrong one, is refused', async () => {
    const visitor = await passwordSignIn(email);
    const wrong = await visitor.postForm('/sign-in/totp', { code: '000000', next: '/group/family' });
    expect(wrong.status).toBe(400);
    // The code the set-up used (its 30-second step) cannot be used again.
    const { last_time_step: used } = await t.db.selectFrom('totp_authenticators').select('last_time_step').executeTakeFirstOrThrow();
    const replay = await visitor.postForm('/sign-in/totp', { code: totpCode(secret, used * 30_000) });
    expect(replay.status).toBe(400);
    const ok = await visitor.postForm('/sign-in/totp', { code: code(1), next: '/group/family' });
    expect(ok.headers.location).toBe('/group/family');
    expect((await visitor.agent.get('/group/family')).status).toBe(200);
  });

  test('a recovery code works once', async () => {
    const [first, second] = (globalThis as { recoveryCodes?: string[] }).recoveryCodes!;
    const one = await passwordSignIn(email);
    const used = await one.postForm('/sign-in/recovery', { code: first!.toLowerCase() });
    expect(used.headers.location).toBe('/account/security?notice=recovered');
    expect((await one.agent.get(used.headers.location!)).text).toContain('9 are left');
    const two = await passwordSignIn(email);
    const refused = await two.postForm('/sign-in/recovery', { code: first! });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('That recovery code is not right, or was already used.');
    expect((await two.postForm('/sign-in/recovery', { code: second! })).status).toBe(303);
    // Two requests racing with one code: one wins.
    const third = (globalThis as { recoveryCodes?: string[] }).recoveryCodes![2]!;
    const [a, b] = await Promise.all([passwordSignIn(email), passwordSignIn(email)]);
    const results = await Promise.all([a.postForm('/sign-in/recovery', { code: third }), b.postForm('/sign-in/recovery', { code: third })]);
    expect(results.map((r) => r.status).sort()).toEqual([303, 400]);
  });

  test('the last second step cannot be removed while the group is matched', async () => {
    const visitor = await passwordSignIn(email);
    expect((await visitor.postForm('/sign-in/totp', { code: code(-1) })).status).toBe(400);
    const codes = (globalThis as { recoveryCodes?: string[] }).recoveryCodes!;
    expect((await visitor.postForm('/sign-in/recovery', { code: codes[3]! })).status).toBe(303);
    const remove = await visitor.postForm('/account/totp/remove');
    expect(remove.status).toBe(409);
    expect(remove.text).toContain('add another passkey or app before removing this one');
  });

  test('guessing codes is limited to 10 tries in 15 minutes per account', async () => {
    const visitor = await passwordSignIn(email);
    for (let i = 0; i < 10; i++) expect((await visitor.postForm('/sign-in/totp', { code: String(100000 + i) })).status).toBe(400);
    const limited = await visitor.postForm('/sign-in/totp', { code: code(0) });
    expect(limited.status).toBe(429);
    expect(limited.text).toContain('Too many attempts');
  });
});

test('a sponsor whose group is not matched signs in with the password alone', async () => {
  await signInAs(t, 'sponsor', { email: 'unmatched@hanvoice.test' });
  const visitor = await anonymous(t);
  expect((await visitor.postForm('/sign-in', { email: 'unmatched@hanvoice.test', password: TEST_PASSWORD })).headers.location).toBe('/');
  expect((await request(t.app).get('/sign-in/verify').redirects(0)).headers.location).toBe('/sign-in');
});
