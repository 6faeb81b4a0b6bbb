import { sql, type Transaction } from 'kysely';
import { writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';
import type { RateLimit } from '../http/rate-limit';
import type { Locale } from '../i18n/i18n';
import { queueEmail } from '../notifications/outbox';
import { hashToken, looksLikeToken, newToken } from './tokens';
import { findUserByEmail } from './users';

export const RESET_MINUTES = 60;
/** The first staff account's link (npm run create-staff) lasts longer: it is handed over by hand. */
export const SET_PASSWORD_HOURS = 72;

/** Passwords set from an e-mailed link (reset or invitation): tries per IP address, wrong tokens included. */
export const LINK_LIMITS = {
  perIp: { name: 'link:ip', max: 20, windowSeconds: 15 * 60 },
} satisfies Record<string, RateLimit>;

export const RESET_LIMITS = {
  perIp: { name: 'reset:ip', max: 10, windowSeconds: 60 * 60 },
  perAccount: { name: 'reset:account', max: 3, windowSeconds: 60 * 60 },
} satisfies Record<string, RateLimit>;

/** A single-use token to set a password; returns the token (its only copy). */
export async function createPasswordResetToken(trx: Transaction<Database>, userId: number, minutes = RESET_MINUTES): Promise<string> {
  const { token, hash } = newToken();
  await trx
    .insertInto('password_resets')
    .values({ user_id: userId, token_hash: hash, expires_at: sql<Date>`now() + make_interval(mins => ${minutes})` })
    .execute();
  return token;
}

/**
 * "Forgot password": e-mails a reset link when the address has an active account, and does
 * nothing otherwise. The caller shows the same message either way.
 */
export async function requestPasswordReset(trx: Transaction<Database>, input: { email: string; locale: Locale; publicUrl: string }): Promise<void> {
  const user = await findUserByEmail(trx, input.email);
  if (!user || user.disabled_at) return;
  const token = await createPasswordResetToken(trx, user.id);
  await queueEmail(trx, {
    to: user.email,
    template: 'accounts/password-reset',
    locale: input.locale,
    data: { name: user.name, link: `${input.publicUrl}/reset-password?token=${token}`, minutes: RESET_MINUTES },
  });
}

/** The user a reset link is for, if the link can still be used. */
export async function findOpenReset(db: Db, token: unknown): Promise<{ userId: number; email: string } | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const row = await db
    .selectFrom('password_resets')
    .innerJoin('users', 'users.id', 'password_resets.user_id')
    .select(['users.id', 'users.email'])
    .where('password_resets.token_hash', '=', hashToken(token))
    .where('password_resets.used_at', 'is', null)
    .where('password_resets.expires_at', '>', sql<Date>`now()`)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  return row && { userId: row.id, email: row.email };
}

export type ResetResult = { ok: true; userId: number } | { ok: false; reason: 'expired' };

/**
 * Sets the new password, uses up this and every other open link of the account, and ends all
 * of its sessions (whoever had the old password is signed out).
 */
export async function resetPassword(trx: Transaction<Database>, input: { token: string; passwordHash: string }): Promise<ResetResult> {
  if (!looksLikeToken(input.token)) return { ok: false, reason: 'expired' };
  const reset = await trx
    .selectFrom('password_resets')
    .innerJoin('users', 'users.id', 'password_resets.user_id')
    .select(['password_resets.id', 'users.id as user_id', 'users.name'])
    .where('password_resets.token_hash', '=', hashToken(input.token))
    .where('password_resets.used_at', 'is', null)
    .where('password_resets.expires_at', '>', sql<Date>`now()`)
    .where('users.disabled_at', 'is', null)
    .forUpdate()
    .executeTakeFirst();
  if (!reset) return { ok: false, reason: 'expired' };
  await trx.updateTable('users').set({ password_hash: input.passwordHash, updated_at: new Date() }).where('id', '=', reset.user_id).execute();
  await trx.updateTable('password_resets').set({ used_at: new Date() }).where('user_id', '=', reset.user_id).where('used_at', 'is', null).execute();
  await trx.deleteFrom('sessions').where('user_id', '=', reset.user_id).execute();
  await writeAudit(trx, { actor: { userId: reset.user_id, label: reset.name }, action: 'user.password_set', subject: `user:${reset.user_id}` });
  return { ok: true, userId: reset.user_id };
}
