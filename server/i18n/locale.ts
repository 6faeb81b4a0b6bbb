import type { NextFunction, Request, Response } from 'express';
import { isLocale, type Locale, translatorFor } from './i18n';

const COOKIE = 'lang';
const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * Chooses the page language: `?lang=` (the visible switch, remembered in a cookie), then the
 * cookie, then the browser's Accept-Language, then English.
 */
export function chooseLocale(req: Request, res: Response, next: NextFunction): void {
  let locale: Locale | undefined;
  const requested = req.query.lang;
  if (isLocale(requested)) {
    locale = requested;
    res.cookie(COOKIE, locale, { maxAge: ONE_YEAR_MS, httpOnly: true, sameSite: 'lax' });
  }
  const remembered: unknown = req.cookies?.[COOKIE];
  locale ??= isLocale(remembered) ? remembered : undefined;
  const accepted = req.acceptsLanguages('en', 'fr');
  locale ??= isLocale(accepted) ? accepted : 'en';
  res.locals.locale = locale;
  res.locals.t = translatorFor(locale);
  res.locals.otherLocale = locale === 'en' ? 'fr' : 'en';
  next();
}
