import type { Browser } from 'playwright-core';
import { launchBrowser, Visitor } from './support/browser';
import { createPerson, enrolStaff } from './support/people';
import { type Stack, startStack } from './support/stack';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

test('staff sign in from the staff area link with their password and passkey, land on it, and sign out', async () => {
  const staff = await createPerson(stack, 'staff', 'Eun-ji Staff');
  const visitor = await Visitor.open(browser, stack.baseUrl, 'staff-sign-in');
  try {
    // Their passkey, from a set-up link (as npm run create-staff prints); then signed out.
    await enrolStaff(stack, visitor, staff);
    await Promise.all([visitor.page.waitForURL((url) => url.pathname === '/sign-in'), visitor.page.locator('form[action="/sign-out"] button').first().click()]);
    // The signed-out page finishes loading (its icon too) before the next visit.
    await visitor.check('signed out after enrolling');
    // An anonymous visit to the staff area is sent to sign in, and back after.
    await visitor.visit('/staff', 'staff area asks to sign in');
    expect(new URL(visitor.page.url()).pathname).toBe('/sign-in');
    await visitor.page.locator('#email').fill(staff.email);
    await visitor.page.locator('#password').fill(staff.password);
    await Promise.all([visitor.page.waitForURL(/\/sign-in\/verify/), visitor.page.locator('form[action="/sign-in"] button[type="submit"]').click()]);
    await visitor.check('passkey step');
    await Promise.all([visitor.page.waitForURL(/\/staff$/), visitor.page.locator('form[data-passkey="authenticate"] button[type="submit"]').click()]);
    await visitor.check('staff area');
    expect(await visitor.text('body')).toContain('Eun-ji Staff');

    const signOut = visitor.page.locator('form[action="/sign-out"] button');
    await Promise.all([visitor.page.waitForURL((url) => url.pathname !== '/staff'), signOut.first().click()]);
    await visitor.check('signed out');
    await visitor.visit('/staff', 'staff area asks again');
    expect(new URL(visitor.page.url()).pathname).toBe('/sign-in');
  } finally {
    await visitor.close();
  }
});

test('a wrong password keeps the visitor on the form with a message, in French too', async () => {
  const staff = await createPerson(stack, 'staff');
  const visitor = await Visitor.open(browser, stack.baseUrl, 'sign-in-wrong-password', { locale: 'fr-CA' });
  try {
    await visitor.visit('/sign-in', 'sign-in form');
    const { page } = visitor;
    await page.locator('#email').fill(staff.email);
    await page.locator('#password').fill('not the password at all');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/sign-in'),
      page.locator('form[action="/sign-in"] button[type="submit"]').click(),
    ]);
    await page.waitForLoadState('load');
    expect(response.status()).toBe(400);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await visitor.check('refused');
    expect(await page.locator('[role="alert"], .error, .form__error, .notice').count()).toBeGreaterThan(0);
    await expect(visitor.page.locator('html').getAttribute('lang')).resolves.toBe('fr');
  } finally {
    await visitor.close();
  }
});
