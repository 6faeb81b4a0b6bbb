import type { Browser } from 'playwright-core';
import type { EmailMessage } from '../../server/notifications/outbox';
import { launchBrowser, Visitor } from './support/browser';
import { type Stack, startStack } from './support/stack';

/**
 * A donor's own page in a real browser, with axe on every page: give by card, ask for the link,
 * follow it, see the gift and receipt, change the mailing address (bad input first), open the
 * Billing Portal and come back, stop the monthly gift, sign out.
 */
let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack({ stripe: true }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function linkFromOutbox(email: string, template: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const rows = await stack.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').execute();
    const mail = rows.map((r) => r.payload as EmailMessage).find((m) => m.to === email && m.template === template);
    if (mail) return String(mail.data.url);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${template} e-mail to ${email}`);
}

test('a donor signs in by e-mailed link, sees their monthly gift and receipt choice, changes their address, visits the card portal and stops the gift', async () => {
  const email = 'donor-page@example.org';
  const visitor = await Visitor.open(browser, stack.baseUrl, 'donor-page');
  try {
    const { page } = visitor;
    await visitor.visit('/give', 'giving form');
    await page.locator('input[name="amount"][value="25"]').check();
    await page.locator('input[name="frequency"][value="monthly"]').check();
    await page.locator('input[name="method"][value="card"]').check();
    await page.locator('#name').fill('김지우 (Ji-woo Kim)');
    await page.locator('#email').fill(email);
    await page.locator('#addressLine1').fill('10 Bloor Street West');
    await page.locator('#city').fill('Toronto');
    await page.locator('#province').selectOption('ON');
    await page.locator('#postalCode').fill('M4W 1A8');
    await Promise.all([page.waitForURL(/\/checkout\//), page.locator('form[action="/give"] button[type="submit"]').click()]);
    await Promise.all([page.waitForURL((url) => url.pathname.startsWith('/give/thanks')), page.getByRole('button', { name: 'Pay' }).click()]);
    await stack.waitForStripeEvents();

    await visitor.visit('/donor', 'your giving');
    await page.locator('#email').fill(email);
    await page.getByRole('button', { name: 'E-mail me a link' }).click();
    await page.waitForLoadState('load');
    await visitor.check('link sent');
    expect(await visitor.text('main')).toContain('a link is on its way');

    const url = new URL(await linkFromOutbox(email, 'giving/donor-sign-in'));
    await visitor.visit(url.pathname, 'sign-in link');
    await Promise.all([page.waitForURL(/\/donor\/account$/), page.getByRole('button', { name: 'Continue' }).click()]);
    await visitor.check('account');
    const account = await visitor.text('main');
    expect(account).toContain('$25.00 a month');
    expect(account).toContain('Signed in as donor-page@example.org');

    // A name with an invisible character is refused beside the field, keeping what was typed.
    await page.locator('#d-name').fill('김지우\u200b (Ji-woo Kim)');
    await page.locator('#d-addressLine1').fill('20 Spadina Avenue');
    await page.getByRole('button', { name: 'Save my details' }).click();
    await page.waitForLoadState('load');
    await visitor.check('details refused');
    expect(await visitor.text('#d-name-error')).toContain('invisible or control character');
    expect(await page.locator('#d-addressLine1').inputValue()).toBe('20 Spadina Avenue');

    await page.locator('#d-name').fill('김지우 (Ji-woo Kim)');
    await page.getByRole('button', { name: 'Save my details' }).click();
    await page.waitForURL(/done=details/);
    await visitor.check('details saved');
    expect(await visitor.text('[role="status"]')).toContain('Your details were saved');
    const record = await stack.db.selectFrom('donors').select(['name', 'address_line1']).where('email', '=', email).executeTakeFirstOrThrow();
    expect(record).toEqual({ name: '김지우 (Ji-woo Kim)', address_line1: '20 Spadina Avenue' });

    // The card: off to the (stand-in) Billing Portal and back.
    await Promise.all([page.waitForURL(/\/billing\/bps_/), page.getByRole('button', { name: 'Update the card' }).click()]);
    await visitor.screenshot('billing portal (stand-in)');
    await Promise.all([page.waitForURL(/\/donor\/account$/), page.getByRole('link', { name: 'Return to HanVoice' }).click()]);
    await visitor.check('back from the portal');

    await page.getByRole('button', { name: 'Stop my monthly gift' }).click();
    await page.waitForURL(/done=cancelled/);
    await visitor.check('gift stopped');
    expect(await visitor.text('main')).toContain('stopped');

    // On a phone.
    await page.setViewportSize({ width: 375, height: 800 });
    await visitor.check('account on a phone');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/donor\?signedOut=1$/);
    await visitor.check('signed out');
    await visitor.visit('/donor/account', 'account after signing out');
    expect(await visitor.text('main')).toContain('E-mail me a link');
    expect(await visitor.text('main')).not.toContain('Ji-woo');
  } finally {
    await visitor.close();
  }
});
