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
