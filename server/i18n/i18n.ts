import fs from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type Resource, type TFunction } from 'i18next';
import { LOCALES_DIR } from '../paths';

export const LOCALES = ['en', 'fr', 'ko'] as const;
export type Locale = (typeof LOCALES)[number];

/**
 * Intl locale per language: amounts and dates are formatted for Canada (fr-CA: 1 234,56 $). Korean
 * dates are ko-KR's (2026년 12월 1일); Korean amounts are Canadian dollars written as English
 * Canada writes them ($50), never won (see formatMoney in server/http/views.ts).
 */
export const INTL_LOCALE: Record<Locale, string> = { en: 'en-CA', fr: 'fr-CA', ko: 'ko-KR' };

/** Official receipts are issued in English or French only (CRA); every other language's donors choose one of the two. */
export const RECEIPT_LOCALES = ['en', 'fr'] as const;
export type ReceiptLocale = (typeof RECEIPT_LOCALES)[number];

/** The receipt language a donor gets without choosing: their own where it is one, else English. */
export function defaultReceiptLocale(locale: Locale): ReceiptLocale {
  return locale === 'fr' ? 'fr' : 'en';
}

/** Each language's own name, as the language switch shows it. */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', fr: 'Français', ko: '한국어' };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * Messages live in locales/<language>/<namespace>.json, one namespace per module, and are
 * read once at start-up. Keys are written `namespace:key` in views and code.
 */
function loadResources(): Resource {
  const resources: Resource = {};
  for (const locale of LOCALES) {
    resources[locale] = {};
    for (const file of fs.readdirSync(path.join(LOCALES_DIR, locale))) {
      if (!file.endsWith('.json')) continue;
      resources[locale][path.basename(file, '.json')] = JSON.parse(fs.readFileSync(path.join(LOCALES_DIR, locale, file), 'utf8'));
    }
  }
  return resources;
}

let instance: i18n | undefined;
const missingKeys = new Set<string>();

/**
 * Keys looked up but found in no language (`namespace:key`), since start-up or the last clear.
 * The French and Korean page tests assert this stays empty; a key missing only in one language is
 * caught by the test comparing locales/en with locales/fr and locales/ko.
 */
export function missingTranslationKeys(options: { clear?: boolean } = {}): string[] {
  const keys = [...missingKeys].sort();
  if (options.clear) missingKeys.clear();
  return keys;
}

export function translations(): i18n {
  if (!instance) {
    const resources = loadResources();
    instance = i18next.createInstance();
    void instance.init({
      initAsync: false,
      resources,
      lng: 'en',
      fallbackLng: 'en',
      supportedLngs: [...LOCALES],
      ns: Object.keys(resources.en ?? {}),
      defaultNS: 'common',
      // Handlebars escapes what the t helper returns; escaping here too would double-escape.
      interpolation: { escapeValue: false },
      returnNull: false,
      showSupportNotice: false,
      // Not saved anywhere: only recorded so a missing key is detectable (see missingTranslationKeys).
      saveMissing: true,
      missingKeyHandler: (_languages: readonly string[], namespace: string, key: string) => {
        if (missingKeys.size < 1000) missingKeys.add(`${namespace}:${key}`);
      },
    });
  }
  return instance;
}

const translators = new Map<Locale, TFunction>();

/** One fixed translator per language, made once: the t helper asks for it on every message. */
export function translatorFor(locale: Locale): TFunction {
  let t = translators.get(locale);
  if (!t) {
    t = translations().getFixedT(locale);
    translators.set(locale, t);
  }
  return t;
}

const fixedMessages = new Map<string, string>();
const FIXED_MESSAGES_MAX = 10_000;

/**
 * A message without interpolation, looked up once per language and key, then reused: pages ask
 * for the same few hundred labels on every request, and i18next's lookup was a sixth of the
 * home page's CPU time. A key that does not exist is not kept, so it is reported as missing
 * every time it is asked for (see missingTranslationKeys).
 */
export function fixedMessage(locale: Locale, key: string): string {
  const cacheKey = `${locale}\u0000${key}`;
  let message = fixedMessages.get(cacheKey);
  if (message === undefined) {
    message = String(translatorFor(locale)(key));
    if (fixedMessages.size < FIXED_MESSAGES_MAX && translations().exists(key, { lng: locale })) fixedMessages.set(cacheKey, message);
  }
  return message;
}
