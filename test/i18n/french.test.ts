import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { missingTranslationKeys } from '../../server/i18n/i18n';
import { renderEmail } from '../../server/notifications/emails';
import { VIEWS_DIR } from '../../server/paths';
import { createTestApp, type TestApp } from '../support/app';
import { englishFragments, messagesOf, RAW_KEY } from '../support/messages';
import { listRoutes, unprotectedRoutes } from '../support/route-policy';

/**
 * Every public page (a GET route whose first handler is allow.anyone), discovered from the app's
 * router so routes added later are covered, rendered with ?lang=fr: the expected status, French
 * markup, no message key left raw, no key missing, and no English message text.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

/** Sample values for route parameters; a route with parameters is expected to answer 404 for them unless listed in EXPECTED_STATUS. */
const SAMPLE_PARAMS: Record<string, string> = { token: 'a-download-token-that-does-not-exist-xxxxxxxxx' };
const EXPECTED_STATUS: Record<string, number> = {
  // Without the e-mailed token these pages say the link has expired (400).
  '/reset-password': 400,
  '/accept-invitation': 400,
  '/sign-in/link': 400,
  '/enrol': 400,
  // The second sign-in step and the app set-up need a session after the password: others go to /sign-in.
  '/sign-in/verify': 303,
  '/account/totp': 303,
};

/** Attribute values as a browser reads them (Handlebars escapes = and & in attributes). */
function decodeEntities(html: string): string {
  return html.replace(/&#x3D;/g, '=').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

const publicPages = () =>
  listRoutes(t.app)
    .filter((r) => r.method === 'get' && r.rule === 'anyone')
    .map((r) => r.path);

test('every route declares its policy, and the public pages include the campaign page', () => {
  expect(unprotectedRoutes(listRoutes(t.app))).toEqual([]);
  expect(publicPages()).toEqual(expect.arrayContaining(['/', '/receipts/:token']));
});

test('every English message has a French one, and no French message is left empty', () => {
  const en = messagesOf('en');
  const fr = messagesOf('fr');
  expect([...en.keys()].filter((k) => !fr.has(k))).toEqual([]);
  expect([...fr.keys()].filter((k) => !en.has(k))).toEqual([]);
  expect([...fr].filter(([, v]) => v.trim() === '').map(([k]) => k)).toEqual([]);
});

test('every public page renders in French with no English message keys left', async () => {
  const fragments = englishFragments();
  missingTranslationKeys({ clear: true });
  const pages = publicPages();
  expect(pages.length).toBeGreaterThan(0);
  const problems: string[] = [];
  for (const routePath of pages) {
    const params = [...routePath.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const url = routePath.replace(/:(\w+)/g, (_m, name: string) => encodeURIComponent(SAMPLE_PARAMS[name] ?? 'sample'));
    const res = await request(t.app).get(`${url}?lang=fr`).redirects(0);
    const expected = EXPECTED_STATUS[routePath] ?? (params.length > 0 ? 404 : 200);
    if (res.status !== expected) problems.push(`${routePath}: status ${res.status}, expected ${expected}`);
    if (!/text\/html/.test(String(res.headers['content-type']))) continue;
    const lang = /<html lang="([a-z]+)">/.exec(res.text)?.[1];
    if (lang !== 'fr') problems.push(`${routePath}: html lang="${lang}"`);
    const rawKey = RAW_KEY.exec(res.text)?.[0];
    if (rawKey) problems.push(`${routePath}: raw message key ${rawKey}`);
    for (const english of fragments.filter((f) => res.text.includes(f))) problems.push(`${routePath}: English text "${english}"`);
    // The switch leads to the same page in English.
    if (!decodeEntities(res.text).includes(`href="${url}?lang=en"`)) problems.push(`${routePath}: the language switch does not keep the page`);
  }
  expect(problems).toEqual([]);
  expect(missingTranslationKeys()).toEqual([]);
});

test('the campaign’s own words are shown in French', async () => {
  const res = await request(t.app).get('/?lang=fr').expect(200);
  expect(res.text).toContain('Mettre cinq familles en sécurité');
  expect(res.text).not.toContain('Bring five families to safety');
});

test('the language switch keeps the page and its query, and is remembered', async () => {
  const res = await request(t.app).get('/?lang=fr&ref=newsletter').expect(200);
  expect(decodeEntities(res.text)).toContain('href="/?lang=en&ref=newsletter"');
  const cookie = res.headers['set-cookie']![0]!.split(';')[0]!;
  const again = await request(t.app).get('/nowhere?x=1').set('Cookie', cookie).expect(404);
  expect(again.text).toContain('<html lang="fr">');
  expect(decodeEntities(again.text)).toContain('href="/nowhere?x=1&lang=en"');
  // A browser that prefers French gets French without asking.
  const browser = await request(t.app).get('/').set('Accept-Language', 'fr-CA,fr;q=0.9,en;q=0.5').expect(200);
  expect(browser.text).toContain('<html lang="fr">');
  // Never a link to another site.
  const odd = await request(t.app).get('//evil.example/x?lang=fr');
  expect(decodeEntities(odd.text)).not.toContain('href="//evil.example');
});

test('every donor e-mail renders in French with no key missing', () => {
  const templates: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.hbs')) templates.push(path.relative(path.join(VIEWS_DIR, 'emails'), full).replace(/\.hbs$/, '').split(path.sep).join('/'));
    }
  };
  if (fs.existsSync(path.join(VIEWS_DIR, 'emails'))) walk(path.join(VIEWS_DIR, 'emails'));
  const fragments = englishFragments();
  missingTranslationKeys({ clear: true });
  for (const template of templates) {
    const email = renderEmail({ to: 'x@example.org', template, locale: 'fr', data: { name: 'Soo-ah', inviter: 'Staff', role: 'staff', days: 7, minutes: 60, serial: 'HV-2026-000001', amountCents: 100, eligibleAmountCents: 100, link: 'http://haven.test/x' } });
    expect({ template, rawKey: RAW_KEY.exec(email.text + email.subject)?.[0] }).toEqual({ template, rawKey: undefined });
    expect({ template, english: fragments.filter((f) => (email.text + email.subject).includes(f)) }).toEqual({ template, english: [] });
  }
  expect(missingTranslationKeys()).toEqual([]);
});
