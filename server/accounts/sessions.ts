import type { CookieOptions, NextFunction, Request, RequestHandler, Response } from 'express';
import { sql } from 'kysely';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { groupMembershipOf } from '../groups/membership';
import { isGroupMatched } from '../matching/matches';
import type { SessionUser } from '../http/policy';
import { hashToken, looksLikeToken, newToken } from './tokens';

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

/** Starts a session for a user and returns the token for the cookie. */
export async function createSession(db: Db, userId: number): Promise<string> {
  const { token, hash } = newToken();
  await db
    .insertInto('sessions')
    .values({ token_hash: hash, user_id: userId, expires_at: sql<Date>`now() + make_interval(days => ${SESSION_DAYS})` })
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

export type SessionLookup = { user: SessionUser; ended?: undefined } | { user?: undefined; ended: 'idle' | 'gone' };

/**
 * The one place a session token becomes the SessionUser of res.locals.user: an unexpired session
 * of an account that is not disabled. Group membership comes from the groups module's group_members.
 * A session that can see identity data and was idle past IDENTITY_IDLE_MINUTES is ended here.
 */
export async function lookUpSession(db: Db, token: string): Promise<SessionLookup> {
  if (!looksLikeToken(token)) return { ended: 'gone' };
  const tokenHash = hashToken(token);
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'users.id',
      'users.email',
      'users.name',
      'users.role',
      sql<boolean>`sessions.last_seen_at < now() - make_interval(mins => ${IDENTITY_IDLE_MINUTES})`.as('idle'),
      sql<boolean>`sessions.last_seen_at < now() - make_interval(secs => ${TOUCH_SECONDS})`.as('stale'),
    ])
    .where('sessions.token_hash', '=', tokenHash)
    .where('sessions.expires_at', '>', sql<Date>`now()`)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return { ended: 'gone' };
  const membership = row.role === 'sponsor' ? await groupMembershipOf(db, row.id) : undefined;
  if (row.idle && (row.role === 'staff' || (membership !== undefined && (await isGroupMatched(db, membership.groupId))))) {
    await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
    return { ended: 'idle' };
  }
  if (row.stale) await db.updateTable('sessions').set({ last_seen_at: sql<Date>`now()` }).where('token_hash', '=', tokenHash).execute();
  return {
    user: { id: row.id, email: row.email, name: row.name, role: row.role, groupId: membership?.groupId ?? null, groupRole: membership?.groupRole ?? null },
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
export function loadSession(db: Db, config: Pick<Config, 'publicUrl'>): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = sessionToken(req);
    if (token !== undefined) {
      const session = await lookUpSession(db, token);
      if (session.user) res.locals.user = session.user;
      else {
        res.clearCookie(SESSION_COOKIE, sessionCookieOptions(config));
        // The policy's sign-in redirect says why: "signed out after 30 minutes without activity".
        if (session.ended === 'idle') res.locals.sessionEnded = 'idle';
      }
    }
    next();
  };
}
