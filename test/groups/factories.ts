import express, { type Express } from 'express';
import type { Db } from '../../server/db/database';
import { applyForGroup, approveGroup, type GroupApplication } from '../../server/groups/applications';
import { recordCheck } from '../../server/groups/readiness';
import { savePlan, SETTLEMENT_AREAS } from '../../server/groups/settlement-plan';
import { addMember } from '../../server/groups/workspace';
import type { SessionUser } from '../../server/http/policy';

let counter = 0;
export const staffActor = { userId: 1, label: 'Staff Person' };

/** A group made through the module's own functions, as the apply form would. */
export async function makeGroup(db: Db, overrides: Partial<GroupApplication> = {}) {
  counter += 1;
  return db.transaction().execute((trx) =>
    applyForGroup(trx, {
      name: `Group ${counter} ${Math.random().toString(36).slice(2, 7)}`,
      city: 'Toronto',
      province: 'ON',
      coordinatorName: `Coordinator ${counter}`,
      coordinatorEmail: `coordinator${counter}@example.org`,
      languages: ['ko', 'en'],
      familySize: 4,
      story: 'We are **neighbours** in Toronto.',
      locale: 'en',
      ...overrides,
    }),
  );
}

export async function makeApprovedGroup(db: Db, overrides: Partial<GroupApplication> = {}) {
  const group = await makeGroup(db, overrides);
  await db.transaction().execute((trx) => approveGroup(trx, staffActor, group.id, 'http://haven.test'));
  return group;
}

/** Assigns every settlement area to a new member and records both staff checks. */
export async function completePlanAndChecks(db: Db, groupId: number) {
  await db.transaction().execute(async (trx) => {
    const memberId = await addMember(trx, groupId, { name: 'Planner', email: `planner${groupId}@example.org`, locale: 'en' });
    await savePlan(trx, groupId, Object.fromEntries(SETTLEMENT_AREAS.map((a) => [a, [memberId]])));
    await recordCheck(trx, staffActor, groupId, 'training', true, '');
    await recordCheck(trx, staffActor, groupId, 'background_checks', true, '');
  });
}

export function sponsor(groupId: number, role: 'coordinator' | 'member' = 'coordinator', id = 100 + groupId): SessionUser {
  return { id, email: `user${id}@example.org`, name: `User ${id}`, role: 'sponsor', groupId, groupRole: role };
}
export const staffUser: SessionUser = { id: 1, email: 'staff@example.org', name: 'Staff Person', role: 'staff', groupId: null, groupRole: null };

/**
 * Until the accounts branch's sessions land: the app behind a front that puts the user named in
 * the X-Test-User header into res.locals.user, as the session middleware will.
 */
export function withTestSessions(app: Express): Express {
  const outer = express();
  outer.use((req, res, next) => {
    const header = req.get('x-test-user');
    if (header) res.locals.user = JSON.parse(header) as SessionUser;
    next();
  });
  outer.use(app);
  return outer;
}

export const as = (user: SessionUser) => ['X-Test-User', JSON.stringify(user)] as const;
