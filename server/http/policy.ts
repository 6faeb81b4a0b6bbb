import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TFunction } from 'i18next';
import type { Actor } from '../audit/audit';
import { DomainError } from '../domain-error';
import type { GroupRole } from '../db/schema';
import { translatorFor } from '../i18n/i18n';

/** Messages in the visitor's language (res.locals.t is set by chooseLocale). */
function message(res: Response, key: 'signIn' | 'forbidden' | 'noGroup'): string {
  const t = (res.locals.t as TFunction | undefined) ?? translatorFor('en');
  return t(`accounts:policy.${key}`);
}

/**
 * Who may use a route. Every route's first handler is one of `allow.*`; test/http/policy.test.ts
 * walks the router and fails on a route without one. The signed-in user (if any) is put in
 * res.locals.user by the session middleware.
 */
export type SessionUser = {
  id: number;
  email: string;
  name: string;
  role: 'staff' | 'sponsor';
  /** Staff only: an administrator (invites staff, disables and enables staff accounts). */
  administrator: boolean;
  /** The sponsor group this user belongs to, if any, and their role in it. */
  groupId: number | null;
  groupRole: GroupRole | null;
};

export type PolicyRule = 'anyone' | 'signedIn' | 'staff' | 'administrator' | 'groupMember' | 'groupTreasurer' | 'groupCoordinator';

export const POLICY = Symbol('haven.policy');
export type PolicyHandler = RequestHandler & { [POLICY]: PolicyRule };

export function currentUser(res: Response): SessionUser | undefined {
  return res.locals.user as SessionUser | undefined;
}

/** The signed-in user, for handlers behind a policy that guarantees one. */
export function requireUser(res: Response): SessionUser {
  const user = currentUser(res);
  if (!user) throw new DomainError('forbidden', message(res, 'signIn'));
  return user;
}

/**
 * How an audited change keeps its actor's words in audit_log.actor_label (what is read if the
 * account is ever gone; the audit page names the account itself while it exists). Each module
 * keeps the form it has always written: `account` user:12 (families, matching), `role` staff:12 or
 * sponsor:12 (schedules), `email` (giving, receipts: the payment history shows it), `name` (groups,
 * invitations).
 */
export type ActorLabel = 'account' | 'role' | 'email' | 'name';

/** The signed-in user as the actor of an audited change, for handlers behind a policy that guarantees one. */
export function actorOf(res: Response, label: ActorLabel): Actor & { userId: number } {
  const user = requireUser(res);
  const words = { account: `user:${user.id}`, role: `${user.role}:${user.id}`, email: user.email, name: user.name }[label];
  return { userId: user.id, label: words };
}

/** The group of a signed-in sponsor, for handlers behind allow.groupMember/groupCoordinator. */
export function requireGroupId(res: Response): number {
  const { groupId } = requireUser(res);
  if (groupId === null) throw new DomainError('forbidden', message(res, 'noGroup'));
  return groupId;
}

/**
 * What a member's role lets them do in their group: the one table behind allow.groupTreasurer,
 * allow.groupCoordinator and the workspace's views (res.locals.groupCan). A treasurer holds the
 * group's money; the coordinator decides for the group and may do anything a treasurer may.
 */
export function groupCan(user: SessionUser | undefined): { money: boolean; decide: boolean } {
  const role = user?.role === 'sponsor' && user.groupId !== null ? user.groupRole : null;
  return { money: role === 'treasurer' || role === 'coordinator', decide: role === 'coordinator' };
}

function rule(name: PolicyRule, permits: (user: SessionUser) => boolean): PolicyHandler {
  const handler = (req: Request, res: Response, next: NextFunction) => {
    if (name === 'anyone') return next();
    const user = currentUser(res);
    if (!user) {
      // Not signed in: pages send people to sign in and back (or to the second step, after a
      // password alone: it opens nothing); the API answers 401.
      if (req.method === 'GET' && !req.path.startsWith('/api/')) {
        if (res.locals.pendingSignIn) return res.redirect(303, `/sign-in/verify?next=${encodeURIComponent(req.originalUrl)}`);
        const notice = res.locals.sessionEnded === 'idle' ? '&notice=idle' : '';
        return res.redirect(303, `/sign-in?next=${encodeURIComponent(req.originalUrl)}${notice}`);
      }
      res.status(401);
      return next(new DomainError('forbidden', message(res, 'signIn')));
    }
    if (!permits(user)) return next(new DomainError('forbidden', message(res, 'forbidden')));
    return next();
  };
  return Object.assign(handler, { [POLICY]: name });
}

export const allow = {
  anyone: rule('anyone', () => true),
  signedIn: rule('signedIn', () => true),
  staff: rule('staff', (u) => u.role === 'staff'),
  /** A staff administrator: staff invitations, staff accounts. */
  administrator: rule('administrator', (u) => u.role === 'staff' && u.administrator),
  /** A sponsor who belongs to a group; the handler acts on requireGroupId(res), never on a group id from the request. */
  groupMember: rule('groupMember', (u) => u.role === 'sponsor' && u.groupId !== null),
  /** The group's money (disbursements, skipped instalments, income reports, withdrawing in-kind items): its treasurer or coordinator. */
  groupTreasurer: rule('groupTreasurer', (u) => groupCan(u).money),
  /** Decisions for the group (members, public page, plan, the family's status, extensions): its coordinator. */
  groupCoordinator: rule('groupCoordinator', (u) => groupCan(u).decide),
} as const;
