import { sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database, UserRole } from '../db/schema';
import { DomainError } from '../domain-error';
import { consumeRateLimit, type RateLimit } from '../http/rate-limit';
import type { Locale } from '../i18n/i18n';
import { linkMemberAccount } from '../groups/membership';
import { queueEmail } from '../notifications/outbox';
import { hashToken, looksLikeToken, newToken } from './tokens';
import { normalizeEmail } from './users';

export const INVITATION_DAYS = 7;

/**
 * Each invitation e-mails an address someone typed: a person may send 30 a day (a coordinator
 * inviting a whole group at once is well within it), and one address receives at most 3 a day.
 */
export const INVITATION_LIMITS = {
  perInviter: { name: 'invitations:inviter', max: 30, windowSeconds: 24 * 60 * 60 },
  perAddress: { name: 'invitations:address', max: 3, windowSeconds: 24 * 60 * 60 },
} satisfies Record<string, RateLimit>;

export type NewInvitation = {
  email: string;
  role: UserRole;
  /** Who invites: staff, or (groups module) a group coordinator. */
  invitedBy: Actor;
  /** The sponsor group the invitee joins on accepting (groups module). */
  groupId?: number | null;
  /** The language of the e-mail. */
  locale: Locale;
  /** Config.publicUrl, for the link. */
  publicUrl: string;
};

/**
 * Creates a single-use invitation and queues its e-mail, in the caller's transaction (so the groups
 * module can call it inside its own). The e-mail holds the only copy of the token.
 */
export async function createInvitation(trx: Transaction<Database>, input: NewInvitation): Promise<{ id: number }> {
  const email = normalizeEmail(input.email);
  const limits: [RateLimit, string][] = [[INVITATION_LIMITS.perAddress, email]];
  if (input.invitedBy.userId !== null) limits.push([INVITATION_LIMITS.perInviter, String(input.invitedBy.userId)]);
  for (const [limit, subject] of limits) {
    const outcome = await consumeRateLimit(trx, limit, subject);
    if (outcome.limited) throw new DomainError('rate_limited', 'accounts:invitations.errors.rateLimited', { email: 'accounts:invitations.errors.rateLimited' });
  }
  const { token, hash } = newToken();
  const row = await trx
    .insertInto('invitations')
    .values({
      email,
      role: input.role,
      group_id: input.groupId ?? null,
      invited_by_user_id: input.invitedBy.userId,
      token_hash: hash,
      expires_at: sql<Date>`now() + make_interval(days => ${INVITATION_DAYS})`,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await queueEmail(trx, {
    to: email,
    template: 'accounts/invitation',
    locale: input.locale,
    data: {
      link: `${input.publicUrl}/accept-invitation?token=${token}`,
      inviter: input.invitedBy.label,
      role: input.role,
      days: INVITATION_DAYS,
    },
  });
  await writeAudit(trx, {
    actor: input.invitedBy,
    action: 'invitation.created',
    subject: `invitation:${row.id}`,
    details: { role: input.role, groupId: input.groupId ?? null },
  });
  return { id: row.id };
}

export type PendingInvitation = { id: number; email: string; role: UserRole; groupId: number | null };

/** The invitation a link names, if it can still be accepted. */
export async function findOpenInvitation(db: Db, token: unknown): Promise<PendingInvitation | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const row = await db
    .selectFrom('invitations')
    .select(['id', 'email', 'role', 'group_id'])
    .where('token_hash', '=', hashToken(token))
    .where('accepted_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return row && { id: row.id, email: row.email, role: row.role, groupId: row.group_id };
}

export type AcceptResult =
  | { ok: true; userId: number; role: UserRole; groupId: number | null }
  | { ok: false; reason: 'expired' | 'role_conflict' | 'disabled' };

/**
 * Accepts an invitation: creates the account (or, when the address already has an account of the
 * same role, sets its name and password, since the link proves the address), and marks the
 * invitation used. A group invitation links the account to its member row (groups' linkMemberAccount).
 */
export async function acceptInvitation(
  trx: Transaction<Database>,
  input: { token: string; name: string; passwordHash: string },
): Promise<AcceptResult> {
  if (!looksLikeToken(input.token)) return { ok: false, reason: 'expired' };
  const invitation = await trx
    .selectFrom('invitations')
    .select(['id', 'email', 'role', 'group_id'])
    .where('token_hash', '=', hashToken(input.token))
    .where('accepted_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .forUpdate()
    .executeTakeFirst();
  if (!invitation) return { ok: false, reason: 'expired' };

  const existing = await trx
    .selectFrom('users')
    .select(['id', 'role', 'disabled_at'])
    .where(sql`lower(email)`, '=', invitation.email)
    .forUpdate()
    .executeTakeFirst();
  let userId: number;
  if (existing) {
    if (existing.disabled_at) return { ok: false, reason: 'disabled' };
    if (existing.role !== invitation.role) return { ok: false, reason: 'role_conflict' };
    await trx.updateTable('users').set({ name: input.name, password_hash: input.passwordHash, updated_at: new Date() }).where('id', '=', existing.id).execute();
    // A new password: whoever held the old one is signed out, as after a reset.
    await trx.deleteFrom('sessions').where('user_id', '=', existing.id).execute();
    userId = existing.id;
  } else {
    const row = await trx
      .insertInto('users')
      .values({ email: invitation.email, name: input.name, role: invitation.role, password_hash: input.passwordHash })
      .returning('id')
      .executeTakeFirstOrThrow();
    userId = row.id;
  }
  await trx.updateTable('invitations').set({ accepted_at: new Date(), accepted_user_id: userId }).where('id', '=', invitation.id).execute();
  if (invitation.group_id !== null) await linkMemberAccount(trx, invitation.group_id, invitation.email, userId);
  await writeAudit(trx, { actor: { userId, label: input.name }, action: 'invitation.accepted', subject: `invitation:${invitation.id}`, details: { userId } });
  return { ok: true, userId, role: invitation.role, groupId: invitation.group_id };
}

/** Invitations not yet accepted, newest first, for the staff page. */
export async function listOpenInvitations(db: Db) {
  return db
    .selectFrom('invitations')
    .leftJoin('users', 'users.id', 'invitations.invited_by_user_id')
    .select(['invitations.id', 'invitations.email', 'invitations.role', 'invitations.expires_at', 'invitations.created_at', 'users.name as invited_by'])
    .where('invitations.accepted_at', 'is', null)
    .where('invitations.expires_at', '>', sql<Date>`now()`)
    .orderBy('invitations.id', 'desc')
    .limit(200)
    .execute();
}
