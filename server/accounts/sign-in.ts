import type { Db } from '../db/database';
import type { UserRole } from '../db/schema';
import { consumeRateLimit, type RateLimit } from '../http/rate-limit';
import { verifyPassword } from './passwords';
import { createSession } from './sessions';
import { findUserByEmail } from './users';

export const SIGN_IN_LIMITS = {
  perIp: { name: 'sign-in:ip', max: 30, windowSeconds: 15 * 60 },
  perAccount: { name: 'sign-in:account', max: 10, windowSeconds: 15 * 60 },
} satisfies Record<string, RateLimit>;

export type SignInResult =
  | { ok: true; token: string; userId: number; role: UserRole }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number }
  /** Unknown e-mail and wrong password look the same to the person signing in. */
  | { ok: false; reason: 'invalid' | 'disabled' };

/** Checks the rate limits, then the password; on success starts a new session (a fresh id). */
export async function signIn(db: Db, input: { email: string; password: string; ip: string }): Promise<SignInResult> {
  for (const [limit, subject] of [
    [SIGN_IN_LIMITS.perIp, input.ip],
    [SIGN_IN_LIMITS.perAccount, input.email],
  ] as const) {
    const outcome = await consumeRateLimit(db, limit, subject);
    if (outcome.limited) return { ok: false, reason: 'rate_limited', retryAfterSeconds: outcome.retryAfterSeconds };
  }
  const user = await findUserByEmail(db, input.email);
  const matches = await verifyPassword(user?.password_hash, input.password);
  if (!user || !matches) return { ok: false, reason: 'invalid' };
  // Said only to someone who knows the password.
  if (user.disabled_at) return { ok: false, reason: 'disabled' };
  const token = await createSession(db, user.id);
  return { ok: true, token, userId: user.id, role: user.role };
}
