import type { Browser } from 'playwright-core';
import { receive, makePledge } from '../support/gifts';
import { launchBrowser, Visitor } from './support/browser';
import { type Stack, startStack } from './support/stack';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  // A gift received and a pledge not yet paid, so the progress bar shows both tones.
  await receive(stack.db, await makePledge(stack.db, { amountCents: 1_250_000 }), 1_250_000, { reference: 'E2E-1' });
  await makePledge(stack.db, { amountCents: 500_000 });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

test('a visitor reads the campaign page in English, with its progress', async () => {
  const visitor = await Visitor.open(browser, stack.baseUrl, 'campaign-en');
  try {
    expect(await visitor.visit('/', 'campaign page')).toBe(200);
    const { page } = visitor;
    await expect(page.locator('h1').innerText()).resolves.toBe('Bring five families to safety');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    const totals = await visitor.text('.totals');
    expect(totals).toContain('$12,500');
    expect(totals).toContain('$250,000');
    expect(await page.locator('.progress__received').getAttribute('width')).toBe('50');
    expect(await page.locator('.progress__pledged').getAttribute('width')).toBe('20');
  } finally {
    await visitor.close();
  }
});

test('"Copy link" copies the page address without leaving the page; the share block fits a phone', async () => {
  const visitor = await Visitor.open(browser, stack.baseUrl, 'campaign-copy-link', { width: 390 });
  try {
    await visitor.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.baseUrl });
    await visitor.visit('/', 'campaign page on a phone');
    const { page } = visitor;
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);
    const copy = page.locator('a[data-copy-link]');
    const href = await copy.getAttribute('href');
    await copy.click();
    await page.waitForFunction('document.querySelector("a[data-copy-link]").textContent === "Link copied"', undefined, { timeout: 5_000 });
    await visitor.check('link copied');
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(href);
    expect(await page.locator('[data-copy-status]').innerText()).toBe('Link copied');
  } finally {
    await visitor.close();
  }
});

test('the language switch shows the page in French and remembers the choice', async () => {
  const visitor = await Visitor.open(browser, stack.baseUrl, 'campaign-fr');
  try {
    await visitor.visit('/', 'campaign page in english');
    const { page } = visitor;
    await page.locator('.lang-switch a[lang="fr"]').click();
    await page.waitForURL(/lang=fr/);
    await visitor.check('switched to french');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('fr');
    expect(await visitor.text('.totals')).toContain('12 500 $');
    await visitor.visit('/', 'french remembered');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('fr');
  } finally {
    await visitor.close();
  }
});

test('a browser asking for French gets French at first visit', async () => {
  const visitor = await Visitor.open(browser, stack.baseUrl, 'campaign-fr-accept-language', { locale: 'fr-CA' });
  try {
    await visitor.visit('/', 'campaign page');
    await expect(visitor.page.locator('html').getAttribute('lang')).resolves.toBe('fr');
  } finally {
    await visitor.close();
  }
});

test('an unknown address shows the 404 page with a way home', async () => {
  const visitor = await Visitor.open(browser, stack.baseUrl, 'not-found');
  try {
    expect(await visitor.visit('/no/such/page', '404 page')).toBe(404);
    const { page } = visitor;
    await expect(page.locator('h1').innerText()).resolves.toBe('Page not found');
    await page.getByRole('link', { name: /home|campaign/i }).last().click();
    await page.waitForURL(`${stack.baseUrl}/`);
    await visitor.check('back home');
  } finally {
    await visitor.close();
  }
});
