import { sql, type Transaction } from 'kysely';
import { writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';
import { consumeRateLimit, type RateLimit } from '../http/rate-limit';
import type { Locale } from '../i18n/i18n';
import { queueEmail } from '../notifications/outbox';
import { hashToken, looksLikeToken, newToken } from './tokens';
import { findUserByEmail } from './users';

/**
 * One-time sign-in links. Once an account has used up its sign-in attempts (SIGN_IN_LIMITS
 * perAccount), a password no longer signs in to it for the window: instead its address is sent a
 * link that does, once, within SIGN_IN_LINK_MINUTES. Whoever guesses passwords from many
 * addresses thus cannot lock the owner out, and learns nothing more.
 */
export const SIGN_IN_LINK_MINUTES = 15;

/** Links e-mailed to one address: 3 an hour, so the lockout cannot be turned into a mail bomb. */
export const SIGN_IN_LINK_LIMITS = {
  perAccount: { name: 'sign-in-link:account', max: 3, windowSeconds: 60 * 60 },
} satisfies Record<string, RateLimit>;

/** E-mails a sign-in link when the address has an active account (and has not had 3 this hour); says nothing either way. */
export async function sendSignInLink(db: Db, input: { email: string; locale: Locale; publicUrl: string }): Promise<void> {
  const user = await findUserByEmail(db, input.email);
  if (!user || user.disabled_at) return;
  if ((await consumeRateLimit(db, SIGN_IN_LINK_LIMITS.perAccount, user.email)).limited) return;
  const { token, hash } = newToken();
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('sign_in_links')
      .values({ user_id: user.id, token_hash: hash, expires_at: sql<Date>`now() + make_interval(mins => ${SIGN_IN_LINK_MINUTES})` })
      .execute();
    await queueEmail(trx, {
      to: user.email,
      template: 'accounts/sign-in-link',
      locale: input.locale,
      data: { link: `${input.publicUrl}/sign-in/link?token=${token}`, minutes: SIGN_IN_LINK_MINUTES },
    });
    await writeAudit(trx, { actor: { userId: null, label: 'sign-in limit' }, action: 'user.sign_in_link_sent', subject: `user:${user.id}` });
  });
}

/** Whether a link can still be used (for the page that asks to confirm it). */
export async function isOpenSignInLink(db: Db, token: unknown): Promise<boolean> {
  if (!looksLikeToken(token)) return false;
  const row = await db
    .selectFrom('sign_in_links')
    .innerJoin('users', 'users.id', 'sign_in_links.user_id')
    .select('sign_in_links.id')
    .where('sign_in_links.token_hash', '=', hashToken(token))
    .where('sign_in_links.used_at', 'is', null)
    .where('sign_in_links.expires_at', '>', sql<Date>`now()`)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}

/** Uses the link up and returns whose it was; undefined if it is unknown, used, expired or its account disabled. */
export async function useSignInLink(trx: Transaction<Database>, token: string): Promise<number | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const row = await trx
    .updateTable('sign_in_links')
    .set({ used_at: new Date() })
    .where('token_hash', '=', hashToken(token))
    .where('used_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .where('user_id', 'in', (eb) => eb.selectFrom('users').select('id').where('disabled_at', 'is', null))
    .returning('user_id')
    .executeTakeFirst();
  if (!row) return undefined;
  await writeAudit(trx, { actor: { userId: row.user_id, label: 'sign-in link' }, action: 'user.signed_in_by_link', subject: `user:${row.user_id}` });
  return row.user_id;
}
