import type { CookieOptions, NextFunction, Request, RequestHandler, Response } from 'express';
import { sql } from 'kysely';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { groupMembershipOf } from '../groups/membership';
import { groupCan, type SessionUser } from '../http/policy';
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
 * The one place a session token becomes the SessionUser of res.locals.user: an unexpired session
 * of an account that is not disabled. Group membership comes from the groups module's group_members.
 */
export async function loadSessionUser(db: Db, token: string): Promise<SessionUser | undefined> {
  if (!looksLikeToken(token)) return undefined;
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['users.id', 'users.email', 'users.name', 'users.role', 'users.is_administrator'])
    .where('sessions.token_hash', '=', hashToken(token))
    .where('sessions.expires_at', '>', sql<Date>`now()`)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  const membership = row.role === 'sponsor' ? await groupMembershipOf(db, row.id) : undefined;
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    administrator: row.role === 'staff' && row.is_administrator,
    groupId: membership?.groupId ?? null,
    groupRole: membership?.groupRole ?? null,
  };
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
      const user = await loadSessionUser(db, token);
      if (user) {
        res.locals.user = user;
        res.locals.groupCan = groupCan(user);
      } else res.clearCookie(SESSION_COOKIE, sessionCookieOptions(config));
    }
    next();
  };
}
