import path from 'node:path';
import type { Express } from 'express';
import { create } from 'express-handlebars';
import type { HelperOptions } from 'handlebars';
import { fixedMessage, INTL_LOCALE, isLocale, type Locale, translatorFor } from '../i18n/i18n';
import { DEFAULT_CHARITY_TIME_ZONE } from '../calendar/charity-calendar';
import { VIEWS_DIR } from '../paths';

function localeOf(options: HelperOptions): Locale {
  const locale: unknown = options.data?.root?.locale;
  return isLocale(locale) ? locale : 'en';
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

/** The one place cents become dollars: formatted per locale (en-CA $1,234.56, fr-CA 1 234,56 $, Korean as en-CA). */
export function formatMoney(cents: number, locale: Locale, options: { whole?: boolean } = {}): string {
  const key = `${locale}:${options.whole ? 'whole' : 'cents'}`;
  let format = moneyFormats.get(key);
  if (!format) {
    const digits = options.whole ? 0 : 2;
    // Korean pages write Canadian dollars as "$50" (en-CA's form): ko-KR would write "CA$50.00", and never ₩.
    format = new Intl.NumberFormat(locale === 'ko' ? INTL_LOCALE.en : INTL_LOCALE[locale], {
      style: 'currency',
      currency: 'CAD',
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    moneyFormats.set(key, format);
  }
  return format.format(cents / 100);
}

// Intl formatters are costly to build (a page formats many values): one per locale, made once.
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<Locale, Intl.NumberFormat>();

/**
 * A calendar date ('YYYY-MM-DD') is shown as that date wherever the reader is; an instant is
 * shown as the charity's date of it (CHARITY_TIME_ZONE).
 */
export function formatDate(value: Date | string, locale: Locale, timeZone = DEFAULT_CHARITY_TIME_ZONE): string {
  const calendarDate = typeof value === 'string' && value.length === 10;
  const date = calendarDate ? new Date(`${value}T12:00:00Z`) : typeof value === 'string' ? new Date(value) : value;
  const zone = calendarDate ? 'UTC' : timeZone;
  const key = `${locale} ${zone}`;
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(INTL_LOCALE[locale], { dateStyle: 'long', timeZone: zone });
    dateFormats.set(key, format);
  }
  return frenchFirstOfMonth(format.format(date), locale);
}

/** French writes the first of the month as an ordinal: « 1er mars 2026 » (Intl gives « 1 mars 2026 »). */
function frenchFirstOfMonth(text: string, locale: Locale): string {
  return locale === 'fr' ? text.replace(/^1(?=\s)/, '1er') : text;
}

const relativeFormats = new Map<Locale, Intl.RelativeTimeFormat>();
// Each unit and how many seconds it is; a difference is told in the largest unit it reaches.
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

/** How long before `now` an instant was, in the locale's words: "2 hours ago", « il y a 2 heures », "2시간 전" (Intl.RelativeTimeFormat). */
export function formatTimeAgo(at: Date, now: Date, locale: Locale): string {
  let format = relativeFormats.get(locale);
  if (!format) {
    format = new Intl.RelativeTimeFormat(INTL_LOCALE[locale], { numeric: 'auto' });
    relativeFormats.set(locale, format);
  }
  // A gift dated a moment ahead of this server's clock is "now", never "in 3 seconds".
  const seconds = Math.max(0, (now.getTime() - at.getTime()) / 1000);
  const [unit, size] = UNITS.find(([, s]) => seconds >= s) ?? ['second', 1];
  return format.format(-Math.floor(seconds / size), unit);
}

export function formatNumber(value: number, locale: Locale): string {
  let format = numberFormats.get(locale);
  if (!format) {
    format = new Intl.NumberFormat(INTL_LOCALE[locale]);
    numberFormats.set(locale, format);
  }
  return format.format(value);
}

const percentFormats = new Map<Locale, Intl.NumberFormat>();

/** A fraction as a percent in the page's language: 1.21 → "121%" (en-CA, ko-KR), "121 %" (fr-CA, with a no-break space). */
export function formatPercent(fraction: number, locale: Locale): string {
  let format = percentFormats.get(locale);
  if (!format) {
    format = new Intl.NumberFormat(INTL_LOCALE[locale], { style: 'percent', maximumFractionDigits: 2 });
    percentFormats.set(locale, format);
  }
  return format.format(fraction);
}

const languageNames = new Map<Locale, Intl.DisplayNames>();

/**
 * A language code (ISO 639, as a family's profile holds them: 'ko', 'en', 'ru'…) as the page's
 * language names it: 'ko' reads "Korean", « coréen », "한국어". A code Intl does not know stays as typed.
 */
export function formatLanguage(code: string, locale: Locale): string {
  let names = languageNames.get(locale);
  if (!names) {
    names = new Intl.DisplayNames([INTL_LOCALE[locale]], { type: 'language', fallback: 'code' });
    languageNames.set(locale, names);
  }
  try {
    return names.of(code) ?? code;
  } catch {
    return code;
  }
}

/** Helpers shared by pages and e-mails; each reads the locale from the template's root context. */
export const viewHelpers = {
  /** {{t "ns:key" name=value}} */
  t(key: string, options: HelperOptions): string {
    const hash = options.hash as Record<string, unknown> | undefined;
    if (!hash || Object.keys(hash).length === 0) return fixedMessage(localeOf(options), key);
    return String(translatorFor(localeOf(options))(key, hash));
  },
  /** {{money cents}} or {{money cents whole=true}} */
  money(cents: number, options: HelperOptions): string {
    return formatMoney(Number(cents), localeOf(options), { whole: Boolean(options.hash?.whole) });
  },
  date(value: Date | string, options: HelperOptions): string {
    const timeZone: unknown = options.data?.root?.charityTimeZone;
    return value ? formatDate(value, localeOf(options), typeof timeZone === 'string' ? timeZone : undefined) : '';
  },
  number(value: number, options: HelperOptions): string {
    return formatNumber(Number(value), localeOf(options));
  },
  /** {{percent fraction}}: 0.42 as "42%" (fr: "42 %"). */
  percent(fraction: number, options: HelperOptions): string {
    return formatPercent(Number(fraction), localeOf(options));
  },
  /** {{timeAgo instant}}: against the request's time (res.locals.requestTime, from the app's clock). */
  timeAgo(value: Date | string, options: HelperOptions): string {
    const now: unknown = options.data?.root?.requestTime;
    return value ? formatTimeAgo(new Date(value), now instanceof Date ? now : new Date(), localeOf(options)) : '';
  },
  /** {{isoTime instant}}: for <time datetime>. */
  isoTime(value: Date | string): string {
    return value ? new Date(value).toISOString() : '';
  },
  /** {{urlencode text}}: one query-string value (encodeURIComponent). */
  urlencode(value: unknown): string {
    return encodeURIComponent(String(value ?? ''));
  },
  /** {{wholePercent 121}}: a number of percent (0–100 and beyond), written as the page's language writes percents ({{percent}} takes a fraction). */
  wholePercent(value: number, options: HelperOptions): string {
    return formatPercent(Number(value) / 100, localeOf(options));
  },
  /** {{language "ko"}}: a language code in the page's words. */
  language(code: string, options: HelperOptions): string {
    return formatLanguage(String(code), localeOf(options));
  },
  eq(a: unknown, b: unknown): boolean {
    return a === b;
  },
  /** {{concat "schedules:kinds." kind}}: builds a message key or a path. */
  concat(...args: unknown[]): string {
    return args.slice(0, -1).map(String).join('');
  },
  subtract(a: number, b: number): number {
    return Number(a) - Number(b);
  },
};

export function configureViews(app: Express): void {
  const engine = create({
    extname: '.hbs',
    defaultLayout: 'main',
    layoutsDir: path.join(VIEWS_DIR, 'layouts'),
    partialsDir: path.join(VIEWS_DIR, 'partials'),
    helpers: viewHelpers,
  });
  app.engine('.hbs', engine.engine);
  app.set('view engine', '.hbs');
  app.set('views', VIEWS_DIR);
}
