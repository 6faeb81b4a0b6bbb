import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TFunction } from 'i18next';
import type { Config } from '../config';
import { DomainError } from '../domain-error';

/**
 * CSRF protection for every state-changing request: a random secret in an httpOnly cookie, and a
 * token that is an HMAC of that secret and of the signed-in session (so signing in or out changes
 * it). Pages get it as res.locals.csrfToken; forms post it as `_csrf`, scripts as X-CSRF-Token.
 *
 * Multipart forms (file uploads) are parsed by their route, after this check: they carry the
 * token in the action's query string instead (`action="/x?_csrf={{csrfToken}}"`); request logs
 * drop query strings and the Referrer-Policy is no-referrer.
 *
 * Exempt: POST /webhooks/* (authenticated by signature) and /api/* requests that are not form
 * encoded (a cross-site form cannot send JSON without a CORS preflight, which Haven never grants).
 */
export const CSRF_COOKIE = 'haven_csrf';
export const CSRF_FIELD = '_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function isExempt(req: Request): boolean {
  if (req.path.startsWith('/webhooks/')) return true;
  if (req.path.startsWith('/api/')) return !req.is(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);
  return false;
}

export function csrfProtection(config: Pick<Config, 'sessionSecret' | 'publicUrl'>, sessionCookie: string): RequestHandler {
  // With SESSION_SECRET every process derives the same key; without it (development, tests) a per-process one.
  const key = config.sessionSecret ? createHmac('sha256', config.sessionSecret).update('haven csrf v1').digest() : randomBytes(32);
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure: config.publicUrl.startsWith('https:'), path: '/' };

  const tokenFor = (secret: string, session: string) => createHmac('sha256', key).update(`${secret}|${session}`).digest('base64url');

  return (req: Request, res: Response, next: NextFunction) => {
    let secret: unknown = req.cookies?.[CSRF_COOKIE];
    if (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{32}$/.test(secret)) {
      secret = randomBytes(24).toString('base64url');
      res.cookie(CSRF_COOKIE, secret, cookieOptions);
    }
    // Bound to the session only when it is live (the session middleware ran first and set the user).
    const rawSession: unknown = req.cookies?.[sessionCookie];
    const session = res.locals.user && typeof rawSession === 'string' ? rawSession : '';
    const expected = tokenFor(secret as string, session);
    res.locals.csrfToken = expected;

    if (SAFE_METHODS.has(req.method) || isExempt(req)) return next();
    const body: unknown = req.body;
    const fromQuery = req.is('multipart/form-data') ? req.query[CSRF_FIELD] : undefined;
    const sent: unknown = (body && typeof body === 'object' ? (body as Record<string, unknown>)[CSRF_FIELD] : undefined) ?? req.get('x-csrf-token') ?? fromQuery;
    if (typeof sent === 'string' && sent.length === expected.length && timingSafeEqual(Buffer.from(sent), Buffer.from(expected))) {
      return next();
    }
    const t = res.locals.t as TFunction;
    return next(new DomainError('forbidden', t('accounts:csrf.failed')));
  };
}
