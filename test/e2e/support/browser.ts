import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ROOT } from '../../support/haven-process';

/**
 * Debian's Chromium driven by playwright-core, with the flags this machine needs (no sandbox as
 * root, no GPU, no background calls to Google's hosts on a closed network).
 */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}

const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const SCREENSHOTS_DIR = path.join(ROOT, 'test-results/e2e');

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: { target: unknown[]; html: string }[] };

/**
 * One person's visit: a browser context (its own cookies) and a page that takes a numbered
 * screenshot at every step, runs axe-core on every page it lands on, and collects console
 * errors (a Content-Security-Policy violation is one).
 */
export class Visitor {
  private step = 0;
  readonly consoleErrors: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly baseUrl: string,
    private readonly folder: string,
  ) {
    page.on('console', (message) => {
      // A failed load is reported below, with its address; the page's own status is the test's to check.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) this.consoleErrors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.request().isNavigationRequest()) {
        this.consoleErrors.push(`${response.status()} for ${response.request().resourceType()} ${response.url()}`);
      }
    });
    page.on('requestfailed', (request) => {
      // net::ERR_ABORTED is Chromium cancelling a load because the page moved on (a click that
      // navigates before the favicon arrived); the server never failed it. Anything else counts.
      const reason = request.failure()?.errorText ?? 'failed';
      if (reason !== 'net::ERR_ABORTED') this.consoleErrors.push(`${reason}: ${request.url()}`);
    });
    page.on('pageerror', (error) => this.consoleErrors.push(error.message));
  }

  static async open(browser: Browser, baseUrl: string, name: string, options: { locale?: string; width?: number } = {}): Promise<Visitor> {
    const context = await browser.newContext({ baseURL: baseUrl, locale: options.locale ?? 'en-CA', viewport: { width: options.width ?? 1280, height: 900 } });
    const page = await context.newPage();
    const folder = path.join(SCREENSHOTS_DIR, name.replace(/[^a-z0-9]+/gi, '-').toLowerCase());
    fs.rmSync(folder, { recursive: true, force: true });
    fs.mkdirSync(folder, { recursive: true });
    return new Visitor(context, page, baseUrl, folder);
  }

  /** Goes to a path; returns the response status. Checks the page like every other step. */
  async visit(pathname: string, step: string): Promise<number> {
    const response = await this.page.goto(pathname, { waitUntil: 'load' });
    await this.check(step);
    return response?.status() ?? 0;
  }

  /** After an action that lands on a new page (a click, a submitted form): screenshot and axe. */
  async check(step: string): Promise<void> {
    await this.screenshot(step);
    await this.assertAccessible(step);
    if (this.consoleErrors.length) throw new Error(`console errors on ${this.page.url()} (${step}):\n${this.consoleErrors.join('\n')}`);
  }

  async screenshot(step: string): Promise<string> {
    this.step += 1;
    const file = path.join(this.folder, `${String(this.step).padStart(2, '0')}-${step.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    return file;
  }

  /** axe-core, evaluated through the DevTools protocol (the page's CSP forbids injected scripts, rightly). */
  async axe(): Promise<AxeViolation[]> {
    const loaded = await this.page.evaluate('typeof window.axe === "object"');
    if (!loaded) await this.page.evaluate(AXE_SOURCE);
    return this.page.evaluate(async () => {
      const page = globalThis as any;
      const result: { violations: AxeViolation[] } = await page.axe.run(page.document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, html: n.html })) }));
    });
  }

  async assertAccessible(step: string): Promise<void> {
    const serious = (await this.axe()).filter((v) => v.impact === 'serious' || v.impact === 'critical');
    if (serious.length) {
      const detail = serious.map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${JSON.stringify(n.target)} ${n.html.slice(0, 160)}`).join('\n')}`).join('\n');
      throw new Error(`accessibility violations on ${this.page.url()} (${step}):\n${detail}`);
    }
  }

  /** The visible text of an element, with every kind of space (fr-CA uses narrow no-break ones) as a plain space. */
  async text(selector: string): Promise<string> {
    return (await this.page.locator(selector).innerText()).replace(/\s+/g, ' ');
  }

  /**
   * A passkey device for this visitor: Chromium's virtual authenticator (DevTools protocol
   * `WebAuthn.enable` + `WebAuthn.addVirtualAuthenticator`, through a CDP session on the page),
   * CTAP2 with user verification, answering every request as a person touching it would.
   */
  async addPasskeyDevice(): Promise<{ credentials(): Promise<{ credentialId: string; signCount: number; rpId?: string }[]> }> {
    const cdp = await this.context.newCDPSession(this.page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    return {
      async credentials() {
        const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
        return credentials;
      },
    };
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
