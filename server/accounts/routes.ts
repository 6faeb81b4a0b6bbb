import { type Request, type Response, Router } from 'express';
import type { TFunction } from 'i18next';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { allow, type SessionUser } from '../http/policy';
import { consumeRateLimit } from '../http/rate-limit';
import { noStore } from '../http/security-headers';
import type { Locale } from '../i18n/i18n';
import { acceptInvitation, findOpenInvitation } from './invitations';
import { findOpenReset, LINK_LIMITS, requestPasswordReset, RESET_LIMITS, resetPassword } from './password-resets';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords';
import { ENROL_MINUTES } from './enrolment-links';
import { createSession, endSession, lookUpSession, SESSION_COOKIE, sessionCookieOptions, sessionToken } from './sessions';
import { signIn } from './sign-in';
import { isOpenSignInLink, SIGN_IN_LINK_MINUTES, useSignInLink } from './sign-in-links';
import { normalizeEmail } from './users';

/** Where a person lands after signing in, unless they were on their way somewhere. */
export function homeFor(user: SessionUser): string {
  if (user.role === 'staff') return '/staff';
  if (user.groupId !== null) return '/group';
  return '/';
}

/** Only paths on this site: `next=https://evil.example` or `//evil.example` fall back to home. */
export function safeNext(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) && value.length <= 500 ? value : undefined;
}

function field(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

const SignInForm = z.object({
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

const NOTICES = new Set(['signedOut', 'passwordSet', 'idle']);

/** Name + new password (+ confirmation) for invitations and resets; messages already translated. */
function parsePasswordForm(t: TFunction, body: unknown, withName: boolean) {
  const errors: Record<string, string> = {};
  const name = field(body, 'name').trim();
  const password = field(body, 'password');
  const confirm = field(body, 'confirm');
  if (withName && (name.length < 1 || name.length > 200)) errors.name = t('accounts:errors.name');
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    errors.password = t('accounts:errors.passwordLength', { min: MIN_PASSWORD_LENGTH, max: MAX_PASSWORD_LENGTH });
  } else if (password !== confirm) {
    errors.confirm = t('accounts:errors.passwordMismatch');
  }
  return { errors, name, password, ok: Object.keys(errors).length === 0 };
}

export function accountRoutes(deps: AppDeps): Router {
  const { db, config } = deps;
  const router = Router();
  const cookieOptions = sessionCookieOptions(config);

  async function startSession(res: Response, token: string, next: string | undefined) {
    res.cookie(SESSION_COOKIE, token, cookieOptions);
    const session = await lookUpSession(db, token, { staffPasskeys: config.staffPasskeys });
    // The password was right; a passkey or code may still be needed (security-routes.ts).
    if (session.pending) return res.redirect(303, `/sign-in/verify${next ? `?next=${encodeURIComponent(next)}` : ''}`);
    res.redirect(303, next ?? (session.user ? homeFor(session.user) : '/'));
  }

  function renderSignIn(req: Request, res: Response, status: number, extra: Record<string, unknown> = {}) {
    const t = res.locals.t as TFunction;
    const notice = typeof req.query.notice === 'string' && NOTICES.has(req.query.notice) ? t(`accounts:signIn.notices.${req.query.notice}`) : undefined;
    res.status(status).render('accounts/sign-in', {
      title: t('accounts:signIn.title'),
      noindex: true,
      notice,
      next: safeNext(req.body?.next ?? req.query.next),
      ...extra,
    });
  }

  router.get('/sign-in', allow.anyone, (req, res) => {
    renderSignIn(req, res, 200);
  });

  router.post('/sign-in', allow.anyone, async (req, res) => {
    const t = res.locals.t as TFunction;
    const values = { email: field(req.body, 'email') };
    const form = SignInForm.safeParse({ email: values.email, password: field(req.body, 'password') });
    if (!form.success) return renderSignIn(req, res, 400, { values, error: t('accounts:signIn.errors.missing') });
    const result = await signIn(db, {
      email: normalizeEmail(form.data.email),
      password: form.data.password,
      ip: req.ip ?? 'unknown',
      locale: res.locals.locale as Locale,
      publicUrl: config.publicUrl,
    });
    if (!result.ok) {
      if (result.reason === 'link_sent') return renderSignIn(req, res, 429, { values, error: t('accounts:signIn.errors.linkSent', { minutes: SIGN_IN_LINK_MINUTES }) });
      if (result.reason === 'rate_limited') {
        res.setHeader('Retry-After', String(result.retryAfterSeconds));
        return renderSignIn(req, res, 429, { values, error: t('accounts:rateLimited', { minutes: Math.ceil(result.retryAfterSeconds / 60) }) });
      }
      if (result.reason === 'disabled') return renderSignIn(req, res, 403, { values, error: t('accounts:signIn.errors.disabled') });
      return renderSignIn(req, res, 400, { values, error: t('accounts:signIn.errors.invalid') });
    }
    // A new session id on every sign-in; the one this browser had before (if any) is ended.
    const previous = sessionToken(req);
    if (previous) await endSession(db, previous);
    await startSession(res, result.token, safeNext(req.body?.next));
  });

  // The one-time link e-mailed once an account's sign-in attempts are used up. Opening it only
  // shows a button (mail scanners open links); the POST signs in.
  router.get('/sign-in/link', allow.anyone, noStore, async (req, res) => {
    const t = res.locals.t as TFunction;
    if (!(await isOpenSignInLink(db, req.query.token))) return renderExpired(res, t('accounts:signInLink.expired'), '/sign-in', t('accounts:signInLink.again'));
    res.render('accounts/sign-in-link', { title: t('accounts:signInLink.title'), noindex: true, token: req.query.token });
  });

  router.post('/sign-in/link', allow.anyone, noStore, async (req, res) => {
    const t = res.locals.t as TFunction;
    if (await refusedLinkAttempt(req, res)) return;
    const userId = await db.transaction().execute((trx) => useSignInLink(trx, field(req.body, 'token')));
    if (userId === undefined) return renderExpired(res, t('accounts:signInLink.expired'), '/sign-in', t('accounts:signInLink.again'));
    const previous = sessionToken(req);
    if (previous) await endSession(db, previous);
    await startSession(res, await createSession(db, userId, { locale: res.locals.locale as Locale }), undefined);
  });

  router.post('/sign-out', allow.anyone, async (req, res) => {
    const token = sessionToken(req);
    if (token) await endSession(db, token);
    res.clearCookie(SESSION_COOKIE, cookieOptions);
    res.redirect(303, '/sign-in?notice=signedOut');
  });

  // Forgot password: the answer is the same whether or not the address has an account.
  router.get('/forgot-password', allow.anyone, (_req, res) => {
    const t = res.locals.t as TFunction;
    res.render('accounts/forgot-password', { title: t('accounts:forgot.title'), noindex: true });
  });

  router.post('/forgot-password', allow.anyone, async (req, res) => {
    const t = res.locals.t as TFunction;
    const title = t('accounts:forgot.title');
    const email = z.string().trim().toLowerCase().max(254).pipe(z.email()).safeParse(field(req.body, 'email'));
    if (!email.success) {
      return res.status(400).render('accounts/forgot-password', { title, noindex: true, values: { email: field(req.body, 'email') }, error: t('accounts:errors.email') });
    }
    for (const [limit, subject] of [
      [RESET_LIMITS.perIp, req.ip ?? 'unknown'],
      [RESET_LIMITS.perAccount, email.data],
    ] as const) {
      const outcome = await consumeRateLimit(db, limit, subject);
      if (outcome.limited) {
        res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
        return res.status(429).render('accounts/forgot-password', {
          title,
          noindex: true,
          values: { email: email.data },
          error: t('accounts:rateLimited', { minutes: Math.ceil(outcome.retryAfterSeconds / 60) }),
        });
      }
    }
    await db.transaction().execute((trx) => requestPasswordReset(trx, { email: email.data, locale: res.locals.locale as Locale, publicUrl: config.publicUrl }));
    res.render('accounts/message', { title, noindex: true, message: t('accounts:forgot.sent') });
  });

  router.get('/reset-password', allow.anyone, noStore, async (req, res) => {
    const t = res.locals.t as TFunction;
    const reset = await findOpenReset(db, req.query.token);
    if (!reset) return renderExpired(res, t('accounts:reset.expired'), '/forgot-password', t('accounts:reset.again'));
    res.render('accounts/reset-password', { title: t('accounts:reset.title'), noindex: true, token: req.query.token, email: reset.email });
  });

  /**
   * Setting a password costs an argon2id hash: check the link first (a query), and limit how many
   * tries one address makes, so forged tokens cannot keep the server hashing.
   */
  async function refusedLinkAttempt(req: Request, res: Response): Promise<boolean> {
    const outcome = await consumeRateLimit(db, LINK_LIMITS.perIp, req.ip ?? 'unknown');
    if (!outcome.limited) return false;
    const t = res.locals.t as TFunction;
    res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
    renderExpired(res, t('accounts:rateLimited', { minutes: Math.ceil(outcome.retryAfterSeconds / 60) }), undefined, undefined, 429);
    return true;
  }

  router.post('/reset-password', allow.anyone, noStore, async (req, res) => {
    const t = res.locals.t as TFunction;
    const token = field(req.body, 'token');
    if (await refusedLinkAttempt(req, res)) return;
    const reset = await findOpenReset(db, token);
    if (!reset) return renderExpired(res, t('accounts:reset.expired'), '/forgot-password', t('accounts:reset.again'));
    const form = parsePasswordForm(t, req.body, false);
    if (!form.ok) return res.status(400).render('accounts/reset-password', { title: t('accounts:reset.title'), noindex: true, token, email: reset.email, errors: form.errors });
    const passwordHash = await hashPassword(form.password);
    const result = await db.transaction().execute((trx) => resetPassword(trx, { token, passwordHash }));
    if (!result.ok) return renderExpired(res, t('accounts:reset.expired'), '/forgot-password', t('accounts:reset.again'));
    res.redirect(303, '/sign-in?notice=passwordSet');
  });

  router.get('/accept-invitation', allow.anyone, noStore, async (req, res) => {
    const t = res.locals.t as TFunction;
    const invitation = await findOpenInvitation(db, req.query.token);
    if (!invitation) return renderExpired(res, t('accounts:invitation.expired'));
    res.render('accounts/accept-invitation', { title: t('accounts:invitation.title'), noindex: true, token: req.query.token, email: invitation.email });
  });

  router.post('/accept-invitation', allow.anyone, noStore, async (req, res) => {
    const t = res.locals.t as TFunction;
    const token = field(req.body, 'token');
    if (await refusedLinkAttempt(req, res)) return;
    const invitation = await findOpenInvitation(db, token);
    if (!invitation) return renderExpired(res, t('accounts:invitation.expired'));
    const form = parsePasswordForm(t, req.body, true);
    if (!form.ok) {
      return res.status(400).render('accounts/accept-invitation', {
        title: t('accounts:invitation.title'),
        noindex: true,
        token,
        email: invitation.email,
        values: { name: form.name },
        errors: form.errors,
      });
    }
    const passwordHash = await hashPassword(form.password);
    const result = await db.transaction().execute((trx) => acceptInvitation(trx, { token, name: form.name, passwordHash }));
    if (!result.ok) {
      if (result.reason === 'expired') return renderExpired(res, t('accounts:invitation.expired'));
      return renderExpired(res, t(`accounts:invitation.${result.reason === 'disabled' ? 'disabled' : 'roleConflict'}`), undefined, undefined, 409);
    }
    const previous = sessionToken(req);
    if (previous) await endSession(db, previous);
    // The invitation (a staff member's, to this address) lets this session set up a passkey or app.
    await startSession(res, await createSession(db, result.userId, { enrolMinutes: ENROL_MINUTES, locale: res.locals.locale as Locale }), undefined);
  });

  return router;
}

function renderExpired(res: Response, message: string, link?: string, linkText?: string, status = 400) {
  const t = res.locals.t as TFunction;
  res.status(status).render('accounts/message', { title: t('accounts:linkProblem'), noindex: true, message, link, linkText });
}
