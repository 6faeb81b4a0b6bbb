import { sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database, UserRole } from '../db/schema';
import { hashToken, looksLikeToken, newToken } from './tokens';

/**
 * Set-up links: the only ways an account that needs a second factor and has none may enrol one,
 * so a stolen password alone can never enrol an attacker's passkey (accounts README).
 *
 * - `new_account`: printed by `npm run create-staff` (someone with the server's keys ran it);
 *   the person chooses a password, then enrols a passkey.
 * - `staff_reset`: another staff member reset this person's sign-in (passkeys, app and codes
 *   removed, audited) and the link went to the account's address; password chosen anew.
 * - `self`: a sponsor whose group was matched asked for one after typing their password; it
 *   goes to their address, so it takes the password and the mailbox together.
 *
 * Single use, expiring, stored as SHA-256 only. Using one starts a session that may enrol for
 * ENROL_MINUTES. (An accepted invitation grants the same window: acceptInvitation.)
 */
export type EnrolmentLinkKind = 'new_account' | 'staff_reset' | 'self';

export const ENROL_MINUTES = 30;
export const LINK_HOURS: Record<EnrolmentLinkKind, number> = { new_account: 72, staff_reset: 72, self: 1 };

export async function createEnrolmentLink(trx: Transaction<Database>, input: { userId: number; kind: EnrolmentLinkKind; issuedBy: number | null }): Promise<string> {
  const { token, hash } = newToken();
  await trx
    .insertInto('enrolment_links')
    .values({
      user_id: input.userId,
      kind: input.kind,
      issued_by_user_id: input.issuedBy,
      token_hash: hash,
      expires_at: sql<Date>`now() + make_interval(hours => ${LINK_HOURS[input.kind]})`,
    })
    .execute();
  return token;
}

export type OpenEnrolmentLink = { id: number; kind: EnrolmentLinkKind; userId: number; email: string; name: string; role: UserRole; passwordHash: string | null };

/** The link and its account, if it can still be used (unused, unexpired, account enabled); `lock` inside the transaction that uses it. */
export async function findOpenEnrolmentLink(db: Db | Transaction<Database>, token: unknown, options: { lock?: boolean } = {}): Promise<OpenEnrolmentLink | undefined> {
  if (!looksLikeToken(token)) return undefined;
  let query = db
    .selectFrom('enrolment_links')
    .innerJoin('users', 'users.id', 'enrolment_links.user_id')
    .select(['enrolment_links.id', 'enrolment_links.kind', 'users.id as user_id', 'users.email', 'users.name', 'users.role', 'users.password_hash'])
    .where('enrolment_links.token_hash', '=', hashToken(token))
    .where('enrolment_links.used_at', 'is', null)
    .where('enrolment_links.expires_at', '>', sql<Date>`now()`)
    .where('users.disabled_at', 'is', null);
  if (options.lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && { id: row.id, kind: row.kind, userId: row.user_id, email: row.email, name: row.name, role: row.role, passwordHash: row.password_hash };
}

/**
 * Uses a link (once): a new password when one was chosen (every session of the account ends), and
 * the audit row. The caller then starts a session that may enrol. Undefined if the link is spent.
 */
export async function useEnrolmentLink(trx: Transaction<Database>, token: string, newPasswordHash: string | undefined): Promise<OpenEnrolmentLink | undefined> {
  const link = await findOpenEnrolmentLink(trx, token, { lock: true });
  if (!link) return undefined;
  await trx.updateTable('enrolment_links').set({ used_at: sql<Date>`now()` }).where('id', '=', link.id).execute();
  if (newPasswordHash) {
    await trx.updateTable('users').set({ password_hash: newPasswordHash, updated_at: new Date() }).where('id', '=', link.userId).execute();
    await trx.deleteFrom('sessions').where('user_id', '=', link.userId).execute();
  }
  const actor: Actor = { userId: link.userId, label: link.name };
  await writeAudit(trx, { actor, action: 'user.enrolment_link_used', subject: `user:${link.userId}`, details: { kind: link.kind, passwordSet: newPasswordHash !== undefined } });
  return link;
}

/**
 * Another staff member's reset, for a lost passkey (or a phished account): every passkey,
 * authenticator app, recovery code, session and unused link of the account goes, and a new
 * `staff_reset` link is made for the account's own address. Audited with who did it.
 */
export async function resetSignIn(trx: Transaction<Database>, input: { userId: number; actor: { userId: number; label: string } }): Promise<{ ok: true; token: string; email: string; name: string } | { ok: false; reason: 'self' | 'not_found' }> {
  if (input.userId === input.actor.userId) return { ok: false, reason: 'self' };
  const user = await trx.selectFrom('users').select(['id', 'email', 'name']).where('id', '=', input.userId).where('disabled_at', 'is', null).forUpdate().executeTakeFirst();
  if (!user) return { ok: false, reason: 'not_found' };
  const passkeys = await trx.deleteFrom('passkeys').where('user_id', '=', user.id).returning('id').execute();
  const apps = await trx.deleteFrom('totp_authenticators').where('user_id', '=', user.id).returning('user_id').execute();
  await trx.deleteFrom('recovery_codes').where('user_id', '=', user.id).execute();
  await trx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
  await trx.updateTable('enrolment_links').set({ used_at: sql<Date>`now()` }).where('user_id', '=', user.id).where('used_at', 'is', null).execute();
  const token = await createEnrolmentLink(trx, { userId: user.id, kind: 'staff_reset', issuedBy: input.actor.userId });
  await writeAudit(trx, {
    actor: input.actor,
    action: 'user.sign_in_reset',
    subject: `user:${user.id}`,
    details: { passkeysRemoved: passkeys.length, authenticatorAppRemoved: apps.length > 0 },
  });
  return { ok: true, token, email: user.email, name: user.name };
}
