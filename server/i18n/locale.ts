import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Config } from '../config';
import { isLocale, type Locale, LOCALE_NAMES, LOCALES, translatorFor } from './i18n';

const COOKIE = 'lang';
const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * Chooses the page language: `?lang=` (the visible switch, remembered in a cookie, Secure under
 * an https PUBLIC_URL like every other cookie), then the cookie, then the browser's
 * Accept-Language, then English.
 */
export function chooseLocale(config: Pick<Config, 'publicUrl'>): RequestHandler {
  const cookieOptions = { maxAge: ONE_YEAR_MS, httpOnly: true, sameSite: 'lax' as const, secure: config.publicUrl.startsWith('https:') };
  return (req: Request, res: Response, next: NextFunction) => {
    const requested = req.query.lang;
    if (isLocale(requested)) res.cookie(COOKIE, requested, cookieOptions);
    localeFor(req, res, isLocale(requested) ? requested : undefined);
    next();
  };
}

function localeFor(req: Request, res: Response, requested: Locale | undefined): void {
  let locale = requested;
  const remembered: unknown = req.cookies?.[COOKIE];
  locale ??= isLocale(remembered) ? remembered : undefined;
  const accepted = req.acceptsLanguages(...LOCALES);
  locale ??= isLocale(accepted) ? accepted : 'en';
  res.locals.locale = locale;
  res.locals.t = translatorFor(locale);
  // The switch offers every other language, each named in itself (English, Français, 한국어).
  res.locals.otherLocales = LOCALES.filter((l) => l !== locale).map((l) => ({ locale: l, name: LOCALE_NAMES[l], href: switchLocaleHref(req, l) }));
}

/**
 * The language switch's link: the page being viewed, with its query, in the other language.
 * A page shown in answer to a form post links to the home page instead (its path is not a page).
 */
export function switchLocaleHref(req: Request, locale: Locale): string {
  if (req.method !== 'GET' && req.method !== 'HEAD') return `/?lang=${locale}`;
  const url = new URL(req.originalUrl, 'http://haven.invalid');
  url.searchParams.set('lang', locale);
  // Never a protocol-relative link ('//elsewhere'): collapse leading slashes.
  return `${url.pathname.replace(/^\/+/, '/')}${url.search}`;
}
