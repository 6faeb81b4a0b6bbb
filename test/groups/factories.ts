import type { Db } from '../../server/db/database';
import { applyForGroup, approveGroup, type GroupApplication } from '../../server/groups/applications';
import { recordCheck } from '../../server/groups/readiness';
import { savePlan, SETTLEMENT_AREAS } from '../../server/groups/settlement-plan';
import { addMember } from '../../server/groups/workspace';
import { linkMemberAccount } from '../../server/groups/membership';
import type { TestApp } from '../support/app';
import { type SignedIn, signInAs, type TestVisitor } from '../support/session';

let counter = 0;
export const staffActor = { userId: null, label: 'Test staff' };
const invitation = { invitedBy: { userId: null, label: 'Test' }, publicUrl: 'http://haven.test' };

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
    }, 'http://haven.test'),
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
    const memberId = await addMember(trx, groupId, { name: 'Planner', email: `planner${groupId}@example.org`, locale: 'en' }, invitation);
    await savePlan(trx, groupId, Object.fromEntries(SETTLEMENT_AREAS.map((a) => [a, [memberId]])));
    await recordCheck(trx, staffActor, groupId, 'training', true, '');
    await recordCheck(trx, staffActor, groupId, 'background_checks', true, '');
  });
}

/** A sponsor signed in (real session, past the second step) as the coordinator of a group, or as a new member of it. */
export async function signInMember(t: TestApp, groupId: number, role: 'coordinator' | 'member'): Promise<SignedIn> {
  let email: string;
  if (role === 'coordinator') {
    email = (await t.db.selectFrom('group_members').select('email').where('group_id', '=', groupId).where('role', '=', 'coordinator').executeTakeFirstOrThrow()).email;
  } else {
    counter += 1;
    email = `member${counter}.g${groupId}@example.org`;
    await t.db.transaction().execute((trx) => addMember(trx, groupId, { name: `Member ${counter}`, email, locale: 'en' }, invitation));
  }
  // As after the second step, which members of a matched group need (second-factor.ts).
  const signedIn = await signInAs(t, 'sponsor', { email, secondFactor: 'totp' });
  await t.db.transaction().execute((trx) => linkMemberAccount(trx, groupId, email, signedIn.user.id));
  return signedIn;
}

/** A form post with the agent's CSRF token; fields may repeat (arrays). */
export async function postForm(visitor: TestVisitor, path: string, fields: Record<string, unknown> = {}) {
  const token = await visitor.csrfToken();
  return visitor.agent.post(path).type('form').send({ ...fields, _csrf: token });
}
