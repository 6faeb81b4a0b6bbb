import { totpCode as codeAt } from '../../support/rfc6238';
import { createEnrolmentLink } from '../../../server/accounts/enrolment-links';
import { createUser } from '../../../server/accounts/users';
import type { UserRole } from '../../../server/db/schema';
import type { Stack } from './stack';
import type { Visitor } from './browser';

/**
 * The people of a flow, made through the accounts module, and signing in as a person would:
 * through the sign-in form, then the second step. Haven runs with NODE_ENV=production, so staff
 * sign in with a password and a passkey: `enrolStaff` sets one up from a set-up link (as
 * `npm run create-staff` prints) with Chromium's virtual authenticator, and `signIn` answers the
 * passkey step with it. A sponsor whose group is matched sets up an authenticator app
 * (`setUpAuthenticatorApp`); `signIn` then types a code made from its secret.
 */
export const E2E_PASSWORD = 'correct horse battery staple';
let counter = 0;

export type Person = {
  email: string;
  password: string;
  name: string;
  role: UserRole;
  /** Set once the person has a passkey on their visitor's virtual authenticator. */
  passkeyOn?: Visitor;
  /** Set once the person has an authenticator app: its base32 secret. */
  totpSecret?: string;
  recoveryCodes?: string[];
};

export async function createPerson(stack: Stack, role: UserRole, name?: string): Promise<Person> {
  counter += 1;
  const person = { email: `e2e-${role}-${counter}-${Date.now()}@example.org`, password: E2E_PASSWORD, name: name ?? `E2E ${role} ${counter}`, role };
  await createUser(stack.db, person);
  return person;
}

/**
 * A code from the person's app for the next 30-second step: Haven accepts one step either side
 * and each step once, so a sign-in right after the set-up (which used the current step) works.
 */
export function totpCode(person: Person, offsetSteps = 1): string {
  return codeAt(person.totpSecret!, Date.now() + offsetSteps * 30_000);
}

async function readRecoveryCodes(visitor: Visitor): Promise<string[]> {
  const codes = await visitor.page.locator('[data-recovery-codes] code').allInnerTexts();
  if (codes.length !== 10) throw new Error(`expected 10 recovery codes, saw ${codes.length}`);
  return codes;
}

/** On the second-step page with a set-up grant: creates a passkey on a new virtual authenticator, saves the codes. */
export async function createPasskeyHere(visitor: Visitor, person: Person, deviceName = 'E2E laptop'): Promise<void> {
  await visitor.addPasskeyDevice();
  const { page } = visitor;
  await page.locator('#passkey-name').fill(deviceName);
  await Promise.all([page.waitForURL((url) => url.pathname === '/account/recovery-codes'), page.locator('form[data-passkey="register"] button[type="submit"]').click()]);
  await visitor.check('passkey created: recovery codes');
  person.recoveryCodes = await readRecoveryCodes(visitor);
  person.passkeyOn = visitor;
  await Promise.all([page.waitForURL((url) => url.pathname === '/account/security'), page.getByRole('link', { name: 'I have saved my codes' }).click()]);
  await visitor.check('sign-in security');
}

/** A staff member's first passkey, from a set-up link (what `npm run create-staff` prints), on this visitor's browser. They end signed in. */
export async function enrolStaff(stack: Stack, visitor: Visitor, person: Person): Promise<void> {
  const user = await stack.db.selectFrom('users').select('id').where('email', '=', person.email).executeTakeFirstOrThrow();
  const token = await stack.db.transaction().execute((trx) => createEnrolmentLink(trx, { userId: user.id, kind: 'new_account', issuedBy: null }));
  await visitor.visit(`/enrol?token=${token}`, 'set-up link');
  const { page } = visitor;
  await page.locator('#password').fill(person.password);
  await page.locator('#confirm').fill(person.password);
  await Promise.all([page.waitForURL((url) => url.pathname === '/sign-in/verify'), page.locator('form[action="/enrol"] button[type="submit"]').click()]);
  await visitor.check('set up the second step');
  await createPasskeyHere(visitor, person);
}

/** On the second-step page with a set-up grant: sets up an authenticator app from the QR page's key, saves the codes. */
export async function setUpAuthenticatorApp(visitor: Visitor, person: Person): Promise<void> {
  const { page } = visitor;
  await Promise.all([page.waitForURL((url) => url.pathname === '/account/totp'), page.getByRole('link', { name: 'Set up an authenticator app' }).first().click()]);
  await visitor.check('authenticator app set-up');
  person.totpSecret = (await page.locator('[data-totp-secret]').innerText()).replace(/\s/g, '');
  await page.locator('#code').fill(totpCode(person, 0));
  await Promise.all([page.waitForURL((url) => url.pathname === '/account/recovery-codes'), page.locator('form[action="/account/totp"] button[type="submit"]').click()]);
  await visitor.check('app set up: recovery codes');
  person.recoveryCodes = await readRecoveryCodes(visitor);
  await Promise.all([page.waitForURL((url) => url.pathname === '/account/security'), page.getByRole('link', { name: 'I have saved my codes' }).click()]);
  await visitor.check('sign-in security');
}

/**
 * Fills and submits the sign-in form, then the second step the person has (their passkey on this
 * visitor's authenticator, or a code from their app); resolves on the page it lands on, checked.
 * A staff member without a passkey is enrolled first (a set-up link), which signs them in.
 */
export async function signIn(visitor: Visitor, person: Person, next?: string, stack?: Stack): Promise<void> {
  if (person.role === 'staff' && !person.passkeyOn) {
    if (!stack) throw new Error(`${person.email} has no passkey yet: pass the stack so signIn can enrol one`);
    await enrolStaff(stack, visitor, person);
    if (next) await visitor.visit(next, 'signed in');
    return;
  }
  await visitor.visit(next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in', 'sign-in form');
  const { page } = visitor;
  await page.locator('#email').fill(person.email);
  await page.locator('#password').fill(person.password);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/sign-in'), page.locator('form[action="/sign-in"] button[type="submit"]').click()]);
  if (new URL(page.url()).pathname === '/sign-in/verify') {
    await visitor.check('second step');
    if (person.passkeyOn) {
      if (person.passkeyOn !== visitor) throw new Error(`${person.email}'s passkey is on another browser`);
      await Promise.all([page.waitForURL((url) => url.pathname !== '/sign-in/verify'), page.locator('form[data-passkey="authenticate"] button[type="submit"]').click()]);
    } else if (person.totpSecret) {
      await page.locator('#code').fill(totpCode(person));
      await Promise.all([page.waitForURL((url) => url.pathname !== '/sign-in/verify'), page.locator('form[action="/sign-in/totp"] button[type="submit"]').click()]);
    }
  }
  await visitor.check('signed in');
}

/** The link of the latest e-mail of `template` queued for `email` (read from the outbox, as the dispatcher would send it). */
export async function linkFromOutbox(stack: Stack, email: string, template: string): Promise<URL> {
  const rows = await stack.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').execute();
  const mail = rows
    .map((row) => (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as { to?: string; template?: string; data?: { link?: string } })
    .find((payload) => payload.to === email && payload.template === template);
  if (!mail?.data?.link) throw new Error(`no ${template} e-mail queued for ${email}`);
  return new URL(mail.data.link);
}

/**
 * Opens the invitation link from the e-mail queued for `email`, sets a name and password on the
 * form, and returns the person. A member of a matched group lands on the second step, which the
 * invitation lets them set up: `setUpApp` sets up an authenticator app there.
 */
export async function acceptInvitationFromOutbox(stack: Stack, visitor: Visitor, email: string, name: string, options: { setUpApp?: boolean } = {}): Promise<Person> {
  const url = await linkFromOutbox(stack, email, 'accounts/invitation');
  await visitor.visit(`${url.pathname}${url.search}`, 'invitation form');
  const { page } = visitor;
  await page.locator('#name').fill(name);
  await page.locator('#password').fill(E2E_PASSWORD);
  await page.locator('#confirm').fill(E2E_PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname !== '/accept-invitation'), page.locator('form[action="/accept-invitation"] button[type="submit"]').click()]);
  await visitor.check('invitation accepted');
  const person: Person = { email, password: E2E_PASSWORD, name, role: 'sponsor' };
  if (options.setUpApp) await setUpAuthenticatorApp(visitor, person);
  return person;
}
