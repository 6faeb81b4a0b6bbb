import request from 'supertest';
import { missingTranslationKeys } from '../../server/i18n/i18n';
import { createTestApp, type TestApp } from '../support/app';
import { listRoutes, unprotectedRoutes } from '../support/route-policy';
import { decodeEntities, englishFragments, parityProblems, publicPageProblems, publicPages, RAW_KEY, renderAll } from './pages';

/**
 * Every public page, discovered from the app's router so routes added later are covered, rendered
 * with ?lang=fr: the expected status, French markup, no message key left raw, no key missing, and
 * no English message text (the method, shared with the Korean test, is in ./pages.ts).
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

test('every route declares its policy, and the public pages include the campaign page', () => {
  expect(unprotectedRoutes(listRoutes(t.app))).toEqual([]);
  expect(publicPages(t.app)).toEqual(expect.arrayContaining(['/', '/receipts/:token']));
});

test('English, French and Korean have the same message keys, and no message is left empty', () => {
  expect(parityProblems()).toEqual([]);
});

test('every public page renders in French with no English message keys left', async () => {
  const { problems, missing, pages } = await publicPageProblems(t.app, 'fr');
  expect(pages).toBeGreaterThan(0);
  expect(problems).toEqual([]);
  expect(missing).toEqual([]);
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
  const fragments = englishFragments('fr');
  missingTranslationKeys({ clear: true });
  for (const email of renderAll('fr')) {
    const { template } = email;
    expect({ template, rawKey: RAW_KEY.exec(email.text + email.subject)?.[0] }).toEqual({ template, rawKey: undefined });
    expect({ template, english: fragments.filter((f) => (email.text + email.subject).includes(f)) }).toEqual({ template, english: [] });
  }
  expect(missingTranslationKeys()).toEqual([]);
});
