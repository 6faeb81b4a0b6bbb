import type { Db } from '../db/database';
import type { UserRole } from '../db/schema';
import { consumeRateLimit, type RateLimit } from '../http/rate-limit';
import type { Locale } from '../i18n/i18n';
import { verifyPassword } from './passwords';
import { sendSignInLink } from './sign-in-links';
import { createSession } from './sessions';
import { findUserByEmail } from './users';

export const SIGN_IN_LIMITS = {
  perIp: { name: 'sign-in:ip', max: 30, windowSeconds: 15 * 60 },
  perAccount: { name: 'sign-in:account', max: 10, windowSeconds: 15 * 60 },
} satisfies Record<string, RateLimit>;

export type SignInResult =
  | { ok: true; token: string; userId: number; role: UserRole }
  /** Too many attempts from this IP address. */
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number }
  /** Too many attempts on this account: the password is not checked; the address was sent a sign-in link, if it has an account. */
  | { ok: false; reason: 'link_sent' }
  /** Unknown e-mail and wrong password look the same to the person signing in. */
  | { ok: false; reason: 'invalid' | 'disabled' };

/**
 * Checks the rate limits, then the password; on success starts a new session (a fresh id). Each
 * way of proving who one is (a password here, an e-mailed link in sign-in-links.ts) ends in
 * createSession, so another (a passkey) can be added beside them.
 */
export async function signIn(db: Db, input: { email: string; password: string; ip: string; locale: Locale; publicUrl: string }): Promise<SignInResult> {
  const byIp = await consumeRateLimit(db, SIGN_IN_LIMITS.perIp, input.ip);
  if (byIp.limited) return { ok: false, reason: 'rate_limited', retryAfterSeconds: byIp.retryAfterSeconds };
  // Someone is guessing this account's password: stop checking it, and let the owner in by e-mail.
  if ((await consumeRateLimit(db, SIGN_IN_LIMITS.perAccount, input.email)).limited) {
    await sendSignInLink(db, { email: input.email, locale: input.locale, publicUrl: input.publicUrl });
    return { ok: false, reason: 'link_sent' };
  }
  const user = await findUserByEmail(db, input.email);
  const matches = await verifyPassword(user?.password_hash, input.password);
  if (!user || !matches) return { ok: false, reason: 'invalid' };
  // Said only to someone who knows the password.
  if (user.disabled_at) return { ok: false, reason: 'disabled' };
  const token = await createSession(db, user.id, { locale: input.locale });
  return { ok: true, token, userId: user.id, role: user.role };
}
