import express, { type Express } from 'express';
import type { SessionUser } from '../../server/http/policy';

export const STAFF_USER: SessionUser = { id: 1, email: 'staff@hanvoice.example', name: 'Staff Member', role: 'staff', groupId: null, groupRole: null };

/**
 * The app as seen by a signed-in user, until the accounts branch's sessions land: sets
 * res.locals.user the way the session middleware will, then hands over to the real app.
 */
export function signedInAs(app: Express, user: SessionUser = STAFF_USER): Express {
  const outer = express();
  outer.use((_req, res, next) => {
    res.locals.user = user;
    next();
  });
  outer.use(app);
  return outer;
}
