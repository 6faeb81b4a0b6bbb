import type { Browser } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import { createStaffAccount } from '../../server/accounts/first-staff';
import { createUser } from '../../server/accounts/users';
import { keyringOf } from '../../server/families/data-keys';
import { linkMemberAccount } from '../../server/groups/membership';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { loadConfig } from '../../server/config';
import { availableFamily, staffA, staffB } from '../families/factories';
import { readyGroup } from '../matching/factories';
import { launchBrowser, Visitor } from './support/browser';
import { createPasskeyHere, E2E_PASSWORD, linkFromOutbox, type Person, setUpAuthenticatorApp, signIn, totpCode } from './support/people';
import { type Stack, startStack } from './support/stack';

/**
 * Phishing-resistant sign-in in a real browser, against Haven in production mode (passkeys
 * required for staff): Chromium's virtual authenticator (DevTools protocol WebAuthn.enable and
 * WebAuthn.addVirtualAuthenticator through playwright-core's CDP session) stands in for a
 * laptop's fingerprint reader; @simplewebauthn/server checks what it signs.
 */
let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const path = (visitor: Visitor) => new URL(visitor.page.url()).pathname;

test('a new staff member enrols a passkey from the create-staff link and signs in with it; a password alone opens nothing; recovery codes work once', async () => {
  // What `npm run create-staff` does, through the same function.
  const created = await stack.db.transaction().execute((trx) => createStaffAccount(trx, { email: `e2e-passkey-${Date.now()}@example.org`, name: 'Ji-woo Passkey', publicUrl: stack.baseUrl }));
  const person: Person = { email: (await stack.db.selectFrom('users').select('email').where('id', '=', created.userId).executeTakeFirstOrThrow()).email, password: E2E_PASSWORD, name: 'Ji-woo Passkey', role: 'staff' };
  const laptop = await Visitor.open(browser, stack.baseUrl, 'staff-passkey-enrol-and-sign-in');
  const stranger = await Visitor.open(browser, stack.baseUrl, 'staff-password-only');
  try {
    const link = new URL(created.link);
    await laptop.visit(`${link.pathname}${link.search}`, 'set-up link');
    await laptop.page.locator('#password').fill(person.password);
    await laptop.page.locator('#confirm').fill(person.password);
    await Promise.all([laptop.page.waitForURL((u) => u.pathname === '/sign-in/verify'), laptop.page.locator('form[action="/enrol"] button[type="submit"]').click()]);
    await laptop.check('second step: set up a passkey');
    expect(await laptop.text('main')).toContain('Staff sign in with a password and a passkey');
    await createPasskeyHere(laptop, person, 'Test laptop');
    expect(person.recoveryCodes).toHaveLength(10);
    expect(await laptop.text('main')).toContain('Test laptop');
    const stored = await stack.db.selectFrom('passkeys').select(['credential_id', 'name']).where('user_id', '=', created.userId).execute();
    expect(stored).toEqual([expect.objectContaining({ name: 'Test laptop' })]);

    // Sign out, and back in: password, then the passkey.
    await Promise.all([laptop.page.waitForURL((u) => u.pathname === '/sign-in'), laptop.page.locator('form[action="/sign-out"] button').first().click()]);
    await laptop.check('signed out');
    await signIn(laptop, person, '/staff/families');
    expect(path(laptop)).toBe('/staff/families');
    const used = await stack.db.selectFrom('passkeys').select('last_used_at').where('user_id', '=', created.userId).executeTakeFirstOrThrow();
    expect(used.last_used_at).not.toBeNull();

    // Someone with the password alone (another browser, no passkey): the staff area stays shut.
    await stranger.visit('/sign-in', 'sign-in form');
    await stranger.page.locator('#email').fill(person.email);
    await stranger.page.locator('#password').fill(person.password);
    await Promise.all([stranger.page.waitForURL((u) => u.pathname === '/sign-in/verify'), stranger.page.locator('form[action="/sign-in"] button[type="submit"]').click()]);
    await stranger.check('password accepted, passkey asked');
    for (const url of ['/staff', '/staff/families', '/staff/audit', '/account/security']) {
      await stranger.visit(url, `refused ${url}`);
      expect(path(stranger)).toBe('/sign-in/verify');
    }
    // Nor can it enrol a passkey of its own.
    expect(await stranger.page.locator('form[data-passkey="register"]').count()).toBe(0);
    const csrf = await stranger.page.locator('meta[name="csrf-token"]').getAttribute('content');
    const enrol = await stranger.page.evaluate(async (token) => {
      const res = await fetch('/account/passkeys/options', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token! }, body: '{}' });
      return res.status;
    }, csrf);
    expect(enrol).toBe(403);
    // That refusal was the point: not a page error.
    stranger.consoleErrors.splice(0);

    // A recovery code opens it, once.
    const [first, second] = person.recoveryCodes!;
    await stranger.page.getByText('Lost your passkey or phone?').click();
    await stranger.page.locator('#recovery-code').fill(first!);
    await Promise.all([stranger.page.waitForURL((u) => u.pathname === '/account/security'), stranger.page.locator('form[action="/sign-in/recovery"] button[type="submit"]').click()]);
    await stranger.check('signed in with a recovery code');
    expect(await stranger.text('main')).toContain('9 are left');
    await stranger.visit('/staff', 'staff area after a recovery code');
    expect(path(stranger)).toBe('/staff');
    await Promise.all([stranger.page.waitForURL((u) => u.pathname === '/sign-in'), stranger.page.locator('form[action="/sign-out"] button').first().click()]);
    await stranger.check('signed out');

    await stranger.visit('/sign-in', 'sign-in again');
    await stranger.page.locator('#email').fill(person.email);
    await stranger.page.locator('#password').fill(person.password);
    await Promise.all([stranger.page.waitForURL((u) => u.pathname === '/sign-in/verify'), stranger.page.locator('form[action="/sign-in"] button[type="submit"]').click()]);
    await stranger.page.getByText('Lost your passkey or phone?').click();
    await stranger.page.locator('#recovery-code').fill(first!);
    await Promise.all([stranger.page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/sign-in/recovery'), stranger.page.locator('form[action="/sign-in/recovery"] button[type="submit"]').click()]);
    await stranger.page.waitForLoadState('load');
    await stranger.check('a used recovery code is refused');
    expect(await stranger.text('main')).toContain('That recovery code is not right, or was already used.');
    expect(path(stranger)).toBe('/sign-in/recovery');
    await stranger.page.locator('#recovery-code').fill(second!.toLowerCase().replace('-', ' '));
    await Promise.all([stranger.page.waitForURL((u) => u.pathname === '/account/security'), stranger.page.locator('form[action="/sign-in/recovery"] button[type="submit"]').click()]);
    await stranger.check('the second code works');
  } finally {
    await laptop.close();
    await stranger.close();
  }
});

test('a matched group’s coordinator needs an authenticator-app code: set up from an e-mailed link, then asked at every sign-in', async () => {
  const config = loadConfig({ NODE_ENV: 'test', PUBLIC_URL: stack.baseUrl });
  const group = await readyGroup(stack.db);
  const family = await availableFamily(stack.db, keyringOf(randomBytes(32)));
  const match = await stack.db.transaction().execute((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  await stack.db.transaction().execute((trx) => approveMatch(trx, config, staffB, match.id, ['names']));
  const coordinatorEmail = (await stack.db.selectFrom('group_members').select('email').where('group_id', '=', group.id).where('role', '=', 'coordinator').executeTakeFirstOrThrow()).email;
  const userId = await createUser(stack.db, { email: coordinatorEmail, name: 'Coordinator Totp', role: 'sponsor', password: E2E_PASSWORD });
  await stack.db.transaction().execute((trx) => linkMemberAccount(trx, group.id, coordinatorEmail, userId));
  const person: Person = { email: coordinatorEmail, password: E2E_PASSWORD, name: 'Coordinator Totp', role: 'sponsor' };

  const phone = await Visitor.open(browser, stack.baseUrl, 'coordinator-totp');
  try {
    // The password alone: the group's pages stay shut, and a set-up link can be e-mailed.
    await signIn(phone, person, '/group/family');
    expect(path(phone)).toBe('/sign-in/verify');
    expect(await phone.text('main')).toContain('Your group has been matched with a family');
    await phone.visit('/group', 'group area refused');
    expect(path(phone)).toBe('/sign-in/verify');
    await Promise.all([phone.page.waitForLoadState('load'), phone.page.locator('form[action="/sign-in/setup-link"] button[type="submit"]').click()]);
    await phone.check('set-up link sent');
    const link = await linkFromOutbox(stack, coordinatorEmail, 'accounts/setup-link');
    await phone.visit(`${link.pathname}${link.search}`, 'set-up link');
    await phone.page.locator('#password').fill(person.password);
    await Promise.all([phone.page.waitForURL((u) => u.pathname === '/sign-in/verify'), phone.page.locator('form[action="/enrol"] button[type="submit"]').click()]);
    await phone.check('choose a second step');
    await setUpAuthenticatorApp(phone, person);
    await phone.visit('/group/family', 'the family page, after the code');
    expect(path(phone)).toBe('/group/family');

    // Next time: password, then a code from the app.
    await Promise.all([phone.page.waitForURL((u) => u.pathname === '/sign-in'), phone.page.locator('form[action="/sign-out"] button').first().click()]);
    await phone.check('signed out');
    await phone.visit('/sign-in?next=%2Fgroup%2Ffamily', 'sign-in form');
    await phone.page.locator('#email').fill(person.email);
    await phone.page.locator('#password').fill(person.password);
    await Promise.all([phone.page.waitForURL((u) => u.pathname === '/sign-in/verify'), phone.page.locator('form[action="/sign-in"] button[type="submit"]').click()]);
    await phone.page.locator('#code').fill('000000');
    await Promise.all([phone.page.waitForLoadState('load'), phone.page.locator('form[action="/sign-in/totp"] button[type="submit"]').click()]);
    await phone.check('a wrong code is refused');
    expect(await phone.text('main')).toContain('That code is not right');
    await phone.page.locator('#code').fill(totpCode(person));
    await Promise.all([phone.page.waitForURL((u) => u.pathname === '/group/family'), phone.page.locator('form[action="/sign-in/totp"] button[type="submit"]').click()]);
    await phone.check('signed in with the app');
  } finally {
    await phone.close();
  }
});
