import type { Request, Response } from 'express';
import type { TFunction } from 'i18next';
import type { AppDeps } from '../app-deps';
import type { SecondFactor, UserRole } from '../db/schema';
import { consumeRateLimit, type RateLimit } from '../http/rate-limit';
import type { Locale } from '../i18n/i18n';
import { queueEmail } from '../notifications/outbox';
import { relyingParty } from './passkeys';
import { homeFor } from './routes';
import type { PendingSignIn } from './second-factor';
import { createSession, endSession, lookUpSession, SESSION_COOKIE, sessionCookieOptions, type SessionState, sessionToken } from './sessions';
import { totpSealer } from './totp';

/**
 * What the sign-in security routes share (security-routes.ts mounts them): the limits on second
 * steps, who is behind a half-way session, and completing a step (a new session id).
 */
export const SECOND_STEP_LIMITS = {
  perAccount: { name: 'second-step:account', max: 10, windowSeconds: 15 * 60 },
  perIp: { name: 'second-step:ip', max: 30, windowSeconds: 15 * 60 },
} satisfies Record<string, RateLimit>;

export type Account = { id: number; email: string; name: string; role: UserRole; pending: PendingSignIn | undefined };

export function pendingOf(res: Response): PendingSignIn | undefined {
  return res.locals.pendingSignIn as PendingSignIn | undefined;
}

export function sessionOf(res: Response): SessionState | undefined {
  return res.locals.session as SessionState | undefined;
}

/** The person behind this browser's session, signed in or half-way (after the password). */
export function accountOf(res: Response): Account | undefined {
  const pending = pendingOf(res);
  if (pending) return { id: pending.userId, email: pending.email, name: pending.name, role: pending.role, pending };
  const user = res.locals.user as { id: number; email: string; name: string; role: UserRole } | undefined;
  return user && { id: user.id, email: user.email, name: user.name, role: user.role, pending: undefined };
}

export function field(body: unknown, name: string): string {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

export type SecuritySteps = ReturnType<typeof securitySteps>;

export function securitySteps(deps: AppDeps) {
  const { db, config } = deps;
  const rp = relyingParty(config);
  const sealer = totpSealer(config.sessionSecret);
  const cookieOptions = sessionCookieOptions(config);

  /** Replaces this browser's session with one that passed `factor` (a new session id); returns where the person lands. */
  async function completeStep(req: Request, res: Response, userId: number, factor: SecondFactor): Promise<string> {
    const previous = sessionToken(req);
    if (previous) await endSession(db, previous);
    const token = await createSession(db, userId, { secondFactor: factor, locale: res.locals.locale as Locale });
    res.cookie(SESSION_COOKIE, token, cookieOptions);
    const session = await lookUpSession(db, token, { staffPasskeys: config.staffPasskeys });
    return session.user ? homeFor(session.user) : '/';
  }

  /** The WebAuthn routes speak JSON to passkeys.js; a plain form post means the script did not run. */
  function needsScript(req: Request, res: Response): boolean {
    if (req.is('application/json')) return false;
    const t = res.locals.t as TFunction;
    res.status(400).render('accounts/message', { title: t('accounts:security.title'), noindex: true, message: t('accounts:security.errors.needsScript') });
    return true;
  }

  async function limited(req: Request, userId: number): Promise<number | undefined> {
    for (const [limit, subject] of [
      [SECOND_STEP_LIMITS.perAccount, `user:${userId}`],
      [SECOND_STEP_LIMITS.perIp, req.ip ?? 'unknown'],
    ] as const) {
      const outcome = await consumeRateLimit(db, limit, subject);
      if (outcome.limited) return outcome.retryAfterSeconds;
    }
    return undefined;
  }

  async function notifyFactorAdded(account: Account, kind: 'passkey' | 'totp', locale: Locale) {
    await db.transaction().execute((trx) =>
      queueEmail(trx, { to: account.email, template: 'accounts/factor-added', locale, data: { name: account.name, kind, link: `${config.publicUrl}/account/security` } }),
    );
  }

  return { rp, sealer, cookieOptions, completeStep, needsScript, limited, notifyFactorAdded };
}
