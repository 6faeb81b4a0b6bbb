import { createUser } from '../../../server/accounts/users';
import type { UserRole } from '../../../server/db/schema';
import type { Stack } from './stack';
import type { Visitor } from './browser';

/**
 * The people of a flow, made through the accounts module, and signing in as a person would:
 * through the sign-in form. Later flows add theirs here (a sponsor group's coordinator, a donor).
 */
export const E2E_PASSWORD = 'correct horse battery staple';
let counter = 0;

export type Person = { email: string; password: string; name: string; role: UserRole };

export async function createPerson(stack: Stack, role: UserRole, name?: string): Promise<Person> {
  counter += 1;
  const person = { email: `e2e-${role}-${counter}-${Date.now()}@example.org`, password: E2E_PASSWORD, name: name ?? `E2E ${role} ${counter}`, role };
  await createUser(stack.db, person);
  return person;
}

/** Fills and submits the sign-in form; resolves on the page it lands on, checked. */
export async function signIn(visitor: Visitor, person: Person, next?: string): Promise<void> {
  await visitor.visit(next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in', 'sign-in form');
  const { page } = visitor;
  await page.locator('#email').fill(person.email);
  await page.locator('#password').fill(person.password);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/sign-in'), page.locator('form[action="/sign-in"] button[type="submit"]').click()]);
  await visitor.check('signed in');
}

/**
 * Opens the invitation link from the e-mail queued for `email` (read from the outbox, as the
 * dispatcher would send it), sets a name and password on the form, and returns the person.
 */
export async function acceptInvitationFromOutbox(stack: Stack, visitor: Visitor, email: string, name: string): Promise<Person> {
  const rows = await stack.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').execute();
  const invitation = rows
    .map((row) => (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as { to?: string; template?: string; data?: { link?: string } })
    .find((payload) => payload.to === email && payload.template === 'accounts/invitation');
  const link = invitation?.data?.link;
  if (!link) throw new Error(`no invitation e-mail queued for ${email}`);
  const url = new URL(link);
  await visitor.visit(`${url.pathname}${url.search}`, 'invitation form');
  const { page } = visitor;
  await page.locator('#name').fill(name);
  await page.locator('#password').fill(E2E_PASSWORD);
  await page.locator('#confirm').fill(E2E_PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname !== '/accept-invitation'), page.locator('form[action="/accept-invitation"] button[type="submit"]').click()]);
  await visitor.check('invitation accepted');
  return { email, password: E2E_PASSWORD, name, role: 'sponsor' };
}
