import fs from 'node:fs';
import path from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { LOCALES, type Locale, missingTranslationKeys } from '../../server/i18n/i18n';
import { renderEmail } from '../../server/notifications/emails';
import { LOCALES_DIR, VIEWS_DIR } from '../../server/paths';
import { listRoutes } from '../support/route-policy';

/**
 * The method of the language tests (French, Korean): every public page (a GET route whose first
 * handler is allow.anyone), discovered from the app's router so routes added later are covered,
 * rendered in the language: the expected status, the language's markup, no message key left raw,
 * no key missing, no English message text, and a language switch that keeps the page.
 */

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

export const NAMESPACES = fs.readdirSync(path.join(LOCALES_DIR, 'en')).map((f) => path.basename(f, '.json'));
export const RAW_KEY = new RegExp(`\\b(${NAMESPACES.join('|')}):[A-Za-z_]+(\\.[A-Za-z_]+)+`);

type Messages = { [key: string]: string | Messages };

function flatten(messages: Messages, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(messages)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(name, value);
    else for (const [k, v] of flatten(value, name)) out.set(k, v);
  }
  return out;
}

/** Every message of a language, as `namespace:key` → text, read from locales/<lang>/ (every file there, so a stray one is seen). */
export function messagesOf(locale: Locale): Map<string, string> {
  const all = new Map<string, string>();
  const dir = path.join(LOCALES_DIR, locale);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  for (const file of files) {
    const ns = path.basename(file, '.json');
    for (const [k, v] of flatten(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Messages)) all.set(`${ns}:${k}`, v);
  }
  return all;
}

/** Keys one language has and another lacks, per pair of languages, and empty messages: all empty when the locales agree. */
export function parityProblems(): string[] {
  const problems: string[] = [];
  const all = new Map(LOCALES.map((l) => [l, messagesOf(l)] as const));
  for (const a of LOCALES) {
    for (const b of LOCALES) {
      if (a === b) continue;
      for (const key of all.get(a)!.keys()) if (!all.get(b)!.has(key)) problems.push(`${key} is in ${a} but not in ${b}`);
    }
    for (const [key, text] of all.get(a)!) if (text.trim() === '') problems.push(`${key} is empty in ${a}`);
  }
  return problems;
}

/** Pieces of English message text that would give away an untranslated message on a page in `locale`. */
export function englishFragments(locale: Locale): string[] {
  const en = messagesOf('en');
  const other = messagesOf(locale);
  const fragments = new Set<string>();
  for (const [key, text] of en) {
    if (other.get(key) === text) continue;
    for (const piece of text.split(/\{\{[^}]+\}\}/)) {
      const trimmed = piece.trim();
      if (trimmed.length >= 10 && trimmed.includes(' ') && !/[<>&"']/.test(trimmed)) fragments.add(trimmed);
    }
  }
  return [...fragments];
}

/** Attribute values as a browser reads them (Handlebars escapes = and & in attributes). */
export function decodeEntities(html: string): string {
  return html.replace(/&#x3D;/g, '=').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}

export const publicPages = (app: Express) =>
  listRoutes(app)
    .filter((r) => r.method === 'get' && r.rule === 'anyone')
    .map((r) => r.path);

/**
 * Renders every public page with ?lang=<locale> and lists what is wrong: status, lang attribute,
 * raw keys, English text, a switch that loses the page, and `extra(html)`'s own findings.
 */
export async function publicPageProblems(app: Express, locale: Exclude<Locale, 'en'>, extra: (routePath: string, html: string) => string[] = () => []): Promise<{ problems: string[]; missing: string[]; pages: number }> {
  const fragments = englishFragments(locale);
  missingTranslationKeys({ clear: true });
  const pages = publicPages(app);
  const problems: string[] = [];
  for (const routePath of pages) {
    const params = [...routePath.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const url = routePath.replace(/:(\w+)/g, (_m, name: string) => encodeURIComponent(SAMPLE_PARAMS[name] ?? 'sample'));
    const res = await request(app).get(`${url}?lang=${locale}`).redirects(0);
    const expected = EXPECTED_STATUS[routePath] ?? (params.length > 0 ? 404 : 200);
    if (res.status !== expected) problems.push(`${routePath}: status ${res.status}, expected ${expected}`);
    if (!/text\/html/.test(String(res.headers['content-type']))) continue;
    const lang = /<html lang="([a-z]+)">/.exec(res.text)?.[1];
    if (lang !== locale) problems.push(`${routePath}: html lang="${lang}"`);
    const rawKey = RAW_KEY.exec(res.text)?.[0];
    if (rawKey) problems.push(`${routePath}: raw message key ${rawKey}`);
    for (const english of fragments.filter((f) => res.text.includes(f))) problems.push(`${routePath}: English text "${english}"`);
    // The switch leads to the same page in English (and in every other language).
    if (!decodeEntities(res.text).includes(`href="${url}?lang=en"`)) problems.push(`${routePath}: the language switch does not keep the page`);
    problems.push(...extra(routePath, res.text));
  }
  return { problems, missing: missingTranslationKeys(), pages: pages.length };
}

/** Every e-mail template under views/emails, as renderEmail names it ('receipts/issued'). */
export function emailTemplates(): string[] {
  const templates: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.hbs')) templates.push(path.relative(path.join(VIEWS_DIR, 'emails'), full).replace(/\.hbs$/, '').split(path.sep).join('/'));
    }
  };
  if (fs.existsSync(path.join(VIEWS_DIR, 'emails'))) walk(path.join(VIEWS_DIR, 'emails'));
  return templates;
}

/** Sample data every template can take (each reads what it needs). */
export const EMAIL_SAMPLE_DATA = {
  name: 'Soo-ah',
  inviter: 'Staff',
  role: 'staff',
  days: 7,
  minutes: 60,
  serial: 'HV-2026-000001',
  amountCents: 100,
  eligibleAmountCents: 100,
  link: 'http://haven.test/x',
  receiptInOtherLanguage: true,
  replacesSerial: 'HV-2026-000000',
  annual: true,
  taxYear: 2026,
};

export function renderAll(locale: Locale, data: Record<string, unknown> = EMAIL_SAMPLE_DATA) {
  return emailTemplates().map((template) => ({ template, ...renderEmail({ to: 'x@example.org', template, locale, data }) }));
}
