import type { Browser } from 'playwright-core';
import { accounts } from '../../server/ledger/accounts';
import { balanceOf } from '../../server/ledger/ledger';
import { launchBrowser, Visitor } from './support/browser';
import { type Stack, startStack } from './support/stack';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack({ stripe: true }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const DONOR = { name: 'Min-seo Park', addressLine1: '100 Queen St W', city: 'Toronto', province: 'ON', postalCode: 'M5H 2N2' };

async function fillDonor(visitor: Visitor, email: string) {
  const { page } = visitor;
  await page.locator('#name').fill(DONOR.name);
  await page.locator('#email').fill(email);
  await page.locator('#addressLine1').fill(DONOR.addressLine1);
  await page.locator('#city').fill(DONOR.city);
  await page.locator('#province').selectOption(DONOR.province);
  await page.locator('#postalCode').fill(DONOR.postalCode);
}

async function paymentsOf(email: string) {
  return stack.db
    .selectFrom('payments')
    .innerJoin('pledges', 'pledges.id', 'payments.pledge_id')
    .innerJoin('donors', 'donors.id', 'pledges.donor_id')
    .select(['payments.amount_cents', 'payments.method', 'pledges.status'])
    .where('donors.email', '=', email)
    .execute();
}

async function pledgeOf(email: string) {
  return stack.db
    .selectFrom('pledges')
    .innerJoin('donors', 'donors.id', 'pledges.donor_id')
    .select(['pledges.amount_cents', 'pledges.method', 'pledges.status'])
    .where('donors.email', '=', email)
    .executeTakeFirstOrThrow();
}

test('a donor gives $50 by card: the giving form, the Stripe checkout page, the signed webhook, the thank-you page and the campaign total', async () => {
  const email = 'card-donor@example.org';
  const visitor = await Visitor.open(browser, stack.baseUrl, 'give-by-card');
  try {
    await visitor.visit('/give', 'giving form');
    const { page } = visitor;
    await page.locator('input[name="amount"][value="50"]').check();
    await page.locator('input[name="method"][value="card"]').check();
    await fillDonor(visitor, email);
    await visitor.screenshot('form filled');
    await Promise.all([page.waitForURL(/\/checkout\//), page.locator('form[action="/give"] button[type="submit"]').click()]);
    // The stand-in's checkout page is not Haven's: screenshot it, but axe and console checks are Haven's pages' business.
    await visitor.screenshot('stripe checkout (stand-in)');
    await Promise.all([page.waitForURL((url) => url.origin === stack.baseUrl && url.pathname.startsWith('/give/thanks')), page.getByRole('button', { name: 'Pay' }).click()]);
    await visitor.check('thank-you page');

    // The stand-in sends the webhook before redirecting; Haven applies it a moment after answering.
    await stack.waitForStripeEvents();
    expect(await paymentsOf(email)).toEqual([{ amount_cents: 5_000, method: 'card', status: 'fulfilled' }]);
    expect(-(await balanceOf(stack.db, accounts.allFunds))).toBe(5_000);
    await visitor.visit('/', 'campaign page shows the gift');
    expect(await visitor.text('.totals')).toContain('$50');
  } finally {
    await visitor.close();
  }
});

test('a donor pledges $100 to pay later by cheque: instructions page, the pledge counted as pledged-but-unpaid', async () => {
  const email = 'cheque-donor@example.org';
  const visitor = await Visitor.open(browser, stack.baseUrl, 'give-pay-later');
  try {
    await visitor.visit('/give', 'giving form');
    const { page } = visitor;
    await page.locator('input[name="amount"][value="100"]').check();
    await page.locator('input[name="method"][value="cheque"]').check();
    await fillDonor(visitor, email);
    await Promise.all([page.waitForURL(/\/give\/pledged/), page.locator('form[action="/give"] button[type="submit"]').click()]);
    await visitor.check('pledge instructions');
    expect(await pledgeOf(email)).toEqual({ amount_cents: 10_000, method: 'cheque', status: 'active' });
    expect(await balanceOf(stack.db, accounts.allReceivables)).toBeGreaterThanOrEqual(10_000);
  } finally {
    await visitor.close();
  }
});

test('"Another amount" shows its field only when chosen: a donor who picks it and types $123.45 pledges $123.45', async () => {
  const email = 'typed-amount-donor@example.org';
  const visitor = await Visitor.open(browser, stack.baseUrl, 'give-typed-amount');
  try {
    await visitor.visit('/give', 'giving form');
    const { page } = visitor;
    // The $50 tile is chosen by default, and one-time: the typed amount and the months are hidden.
    expect(await page.locator('input[name="amount"][value="50"]').isChecked()).toBe(true);
    expect(await page.locator('#customAmount').isHidden()).toBe(true);
    expect(await page.locator('#months').isHidden()).toBe(true);
    await page.locator('input[name="frequency"][value="monthly"]').check();
    expect(await page.locator('#months').isVisible()).toBe(true);
    await page.locator('input[name="frequency"][value="once"]').check();
    expect(await page.locator('#months').isHidden()).toBe(true);
    await page.locator('input[name="amount"][value="other"]').check();
    await page.locator('#customAmount').fill('123.45');
    await visitor.screenshot('another amount');
    await page.locator('input[name="method"][value="cheque"]').check();
    await fillDonor(visitor, email);
    await Promise.all([page.waitForURL(/\/give\/pledged/), page.locator('form[action="/give"] button[type="submit"]').click()]);
    expect(await pledgeOf(email)).toEqual({ amount_cents: 12_345, method: 'cheque', status: 'active' });
  } finally {
    await visitor.close();
  }
});

test('the giving form can be completed with the keyboard alone', async () => {
  const email = 'keyboard-donor@example.org';
  const visitor = await Visitor.open(browser, stack.baseUrl, 'give-keyboard-only');
  try {
    await visitor.visit('/give', 'giving form');
    const { page } = visitor;
    const typed: Record<string, string> = { name: DONOR.name, email, addressLine1: DONOR.addressLine1, city: DONOR.city, province: DONOR.province, postalCode: DONOR.postalCode };
    const filled = new Set<string>();
    let submitted = false;
    for (let presses = 0; presses < 120 && !submitted; presses++) {
      await page.keyboard.press('Tab');
      const focus = await page.evaluate(() => {
        const el = (globalThis as any).document.activeElement;
        return { tag: el?.tagName as string, name: (el?.name ?? '') as string, type: (el?.type ?? '') as string, value: (el?.value ?? '') as string, inForm: Boolean(el?.closest?.('form[action="/give"]')) };
      });
      if (!focus.inForm) continue;
      if (focus.name === 'method' && focus.type === 'radio') {
        // Arrow keys move the choice within a radio group; pay later by cheque.
        for (let i = 0; i < 4 && (await page.evaluate(() => (globalThis as any).document.activeElement.value)) !== 'cheque'; i++) await page.keyboard.press('ArrowDown');
      } else if (typed[focus.name] !== undefined && !filled.has(focus.name)) {
        await page.keyboard.type(typed[focus.name]!);
        filled.add(focus.name);
      } else if (focus.tag === 'BUTTON' && focus.type === 'submit') {
        expect([...filled].sort()).toEqual(Object.keys(typed).sort());
        await visitor.screenshot('filled by keyboard');
        await Promise.all([page.waitForURL(/\/give\/pledged/), page.keyboard.press('Enter')]);
        submitted = true;
      }
    }
    expect(submitted).toBe(true);
    await visitor.check('pledge instructions');
    const pledges = await stack.db.selectFrom('pledges').innerJoin('donors', 'donors.id', 'pledges.donor_id').select('pledges.method').where('donors.email', '=', email).execute();
    expect(pledges).toEqual([{ method: 'cheque' }]);
  } finally {
    await visitor.close();
  }
});
