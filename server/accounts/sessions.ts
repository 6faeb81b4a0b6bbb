import type { CookieOptions, NextFunction, Request, RequestHandler, Response } from 'express';
import { sql } from 'kysely';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { groupMembershipOf } from '../groups/membership';
import { isGroupMatched } from '../matching/matches';
import { groupCan, type SessionUser } from '../http/policy';
import type { SecondFactor } from '../db/schema';
import { DEFAULT_SIGN_IN_POLICY, missingStep, type PendingSignIn, type SignInPolicy } from './second-factor';
import type { Locale } from '../i18n/i18n';
import { hashToken, looksLikeToken, newToken } from './tokens';
import { rememberLocale } from './users';

/**
 * Sessions live in PostgreSQL (table `sessions`), so any app process can serve any request.
 * The cookie holds a random token; the table holds its SHA-256. A session lasts SESSION_DAYS
 * from sign-in; signing in always makes a new one (the id is never reused), signing out deletes it.
 */
export const SESSION_COOKIE = 'haven_session';
export const SESSION_DAYS = 14;

export function sessionCookieOptions(config: Pick<Config, 'publicUrl'>): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', secure: config.publicUrl.startsWith('https:'), path: '/' };
}

/**
 * Starts a session for a user and returns the token for the cookie. `secondFactor`: the second
 * step it passed (second-factor.ts); `enrolMinutes`: it may set up a first factor for that long
 * (an invitation or set-up link granted it).
 */
/**
 * A new session for the user. `locale`: the language the person signed in with, remembered as the
 * account's (users.locale) for e-mails no request answers (the families' purge warning). Written
 * here, at sign-in, and not on every page: a page that is refused changes nothing.
 */
export async function createSession(db: Db, userId: number, options: { secondFactor?: SecondFactor; enrolMinutes?: number; locale?: Locale } = {}): Promise<string> {
  const { token, hash } = newToken();
  if (options.locale) await rememberLocale(db, userId, options.locale);
  await db
    .insertInto('sessions')
    .values({
      token_hash: hash,
      user_id: userId,
      expires_at: sql<Date>`now() + make_interval(days => ${SESSION_DAYS})`,
      second_factor: options.secondFactor ?? null,
      enrol_until: options.enrolMinutes ? sql<Date>`now() + make_interval(mins => ${options.enrolMinutes})` : null,
    })
    .execute();
  // Housekeeping: this user's expired sessions.
  await db.deleteFrom('sessions').where('user_id', '=', userId).where('expires_at', '<', sql<Date>`now()`).execute();
  return token;
}

export async function endSession(db: Db, token: string): Promise<void> {
  if (!looksLikeToken(token)) return;
  await db.deleteFrom('sessions').where('token_hash', '=', hashToken(token)).execute();
}

/** Signs a user out everywhere (password changed, account disabled). */
export async function endAllSessions(db: Db, userId: number): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
}

/**
 * Sessions that can see a family's identity (staff; members of a group with an approved match)
 * end after this many minutes without a request, whatever their SESSION_DAYS.
 */
export const IDENTITY_IDLE_MINUTES = 30;

/** A session's last_seen_at is written at most once a minute, not on every request. */
const TOUCH_SECONDS = 60;

/** How long a password-only session waits for its second step (unless it may enrol). */
export const PENDING_MINUTES = 15;

export type SessionState = { tokenHash: string; secondFactor: SecondFactor | null; mayEnrol: boolean };

export type SessionLookup =
  | { user: SessionUser; session: SessionState; pending?: undefined; ended?: undefined }
  /** The password was right, but the second step (passkey, code) is still to come: this session opens nothing. */
  | { pending: PendingSignIn; session: SessionState; user?: undefined; ended?: undefined }
  | { ended: 'idle' | 'gone'; user?: undefined; pending?: undefined; session?: undefined };

/**
 * The one place a session token becomes the SessionUser of res.locals.user: an unexpired session
 * of an account that is not disabled, which has passed every sign-in step its account needs
 * (second-factor.ts); one that has not is `pending` (for 15 minutes, or while it may enrol).
 * Group membership comes from the groups module's group_members. A session that can see
 * identity data and was idle past IDENTITY_IDLE_MINUTES is ended here.
 */
export async function lookUpSession(db: Db, token: string, policy: SignInPolicy = DEFAULT_SIGN_IN_POLICY): Promise<SessionLookup> {
  if (!looksLikeToken(token)) return { ended: 'gone' };
  const tokenHash = hashToken(token);
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select((eb) => [
      'users.id',
      'users.email',
      'users.name',
      'users.role',
      'users.is_administrator',
      'sessions.second_factor',
      sql<boolean>`sessions.last_seen_at < now() - make_interval(mins => ${IDENTITY_IDLE_MINUTES})`.as('idle'),
      sql<boolean>`sessions.last_seen_at < now() - make_interval(secs => ${TOUCH_SECONDS})`.as('stale'),
      sql<boolean>`coalesce(sessions.enrol_until > now(), false)`.as('enrolling'),
      sql<boolean>`sessions.created_at < now() - make_interval(mins => ${PENDING_MINUTES})`.as('old'),
      eb.exists(eb.selectFrom('passkeys').select('passkeys.id').whereRef('passkeys.user_id', '=', 'users.id')).as('has_passkey'),
      eb
        .exists(eb.selectFrom('totp_authenticators').select('totp_authenticators.user_id').whereRef('totp_authenticators.user_id', '=', 'users.id').where('totp_authenticators.confirmed_at', 'is not', null))
        .as('has_totp'),
    ])
    .where('sessions.token_hash', '=', tokenHash)
    .where('sessions.expires_at', '>', sql<Date>`now()`)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return { ended: 'gone' };
  const membership = row.role === 'sponsor' ? await groupMembershipOf(db, row.id) : undefined;
  const groupMatched = membership !== undefined && (await isGroupMatched(db, membership.groupId));
  if (row.idle && (row.role === 'staff' || groupMatched)) {
    await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
    return { ended: 'idle' };
  }
  const factors = { passkey: Boolean(row.has_passkey), totp: Boolean(row.has_totp) };
  const needs = missingStep({ role: row.role, groupMatched, factors, secondFactor: row.second_factor }, policy);
  if (needs && row.old && !row.enrolling) {
    await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
    return { ended: 'gone' };
  }
  if (row.stale) await db.updateTable('sessions').set({ last_seen_at: sql<Date>`now()` }).where('token_hash', '=', tokenHash).execute();
  const session: SessionState = {
    tokenHash,
    secondFactor: row.second_factor,
    // A first factor may be set up by a session granted it, or by one that needs none yet; more, only after using one.
    mayEnrol: Boolean(row.enrolling) || row.second_factor !== null || (!needs && !factors.passkey && !factors.totp),
  };
  if (needs) return { pending: { userId: row.id, email: row.email, name: row.name, role: row.role, needs, factors, groupMatched }, session };
  return {
    user: {
      id: row.id,
      email: row.email,
      name: row.name,
      role: row.role,
      administrator: row.role === 'staff' && row.is_administrator,
      groupId: membership?.groupId ?? null,
      groupRole: membership?.groupRole ?? null,
    },
    session,
  };
}

export async function loadSessionUser(db: Db, token: string): Promise<SessionUser | undefined> {
  return (await lookUpSession(db, token)).user;
}

export function sessionToken(req: Request): string | undefined {
  const value: unknown = req.cookies?.[SESSION_COOKIE];
  return typeof value === 'string' ? value : undefined;
}

/** Sets res.locals.user from the session cookie; a stale cookie is cleared. */
export function loadSession(db: Db, config: Pick<Config, 'publicUrl' | 'staffPasskeys'>): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = sessionToken(req);
    if (token !== undefined) {
      const session = await lookUpSession(db, token, { staffPasskeys: config.staffPasskeys });
      if (session.user) {
        res.locals.user = session.user;
        res.locals.groupCan = groupCan(session.user);
      }
      if (session.session) res.locals.session = session.session;
      if (session.pending) res.locals.pendingSignIn = session.pending;
      else if (!session.user) {
        res.clearCookie(SESSION_COOKIE, sessionCookieOptions(config));
        // The policy's sign-in redirect says why: "signed out after 30 minutes without activity".
        if (session.ended === 'idle') res.locals.sessionEnded = 'idle';
      }
    }
    next();
  };
}
