import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../../server/db/schema';
import { keyringOf } from '../../server/families/data-keys';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { renderEmail } from '../../server/notifications/emails';
import type { EmailMessage } from '../../server/notifications/outbox';
import { recordArrival } from '../../server/schedules/arrivals';
import { remindOverdueInstallments } from '../../server/schedules/reminders';
import { testConfig } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { availableFamily, staffA, staffB } from '../families/factories';
import { readyGroup } from '../matching/factories';

const config = testConfig();
const keyring = keyringOf(randomBytes(32));
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 10 });
});
afterAll(() => t.destroy());

const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => t.db.transaction().execute(fn);

/** A group whose family arrived on `arrivalOn` (so instalments fall due monthly from then). */
async function arrivedGroup(arrivalOn: string) {
  const family = await availableFamily(t.db, keyring, { adults: 2, children: 2 });
  const group = await readyGroup(t.db, { familySize: 4 });
  const match = await tx((trx) => proposeMatch(trx, config, staffA, { familyId: family.id, groupId: group.id }));
  await tx((trx) => approveMatch(trx, config, staffB, match.id));
  await tx((trx) => recordArrival(trx, staffA, { familyId: family.id, arrivalOn }));
  return group;
}

async function overdueMailsTo(email: string): Promise<EmailMessage[]> {
  const rows = await t.db.selectFrom('outbox').select('payload').execute();
  return rows.map((r) => r.payload as EmailMessage).filter((p) => p.template === 'schedules/overdue' && p.to === email);
}

test('runs that overlap (several processes at once) e-mail each coordinator once a week, and the database refuses a second row', async () => {
  const groups = [await arrivedGroup('2027-07-01'), await arrivedGroup('2027-07-01'), await arrivedGroup('2027-06-01')];
  const coordinators = await t.db
    .selectFrom('group_members')
    .select(['id', 'email'])
    .where('group_id', 'in', groups.map((g) => g.id))
    .where('role', '=', 'coordinator')
    .execute();
  expect(coordinators).toHaveLength(3);
  // Five runs at the same moment, each in its own transaction on its own connection (on a server).
  const queued = await Promise.all(Array.from({ length: 5 }, () => remindOverdueInstallments(t.db, '2027-09-15', 'http://haven.test')));
  expect(queued.reduce((a, b) => a + b, 0)).toBe(3);
  for (const c of coordinators) expect(await overdueMailsTo(c.email)).toHaveLength(1);
  // Later the same week, even with the instalments' reminded_at cleared (a run whose marks were lost): nothing more.
  await t.db.updateTable('schedule_installments').set({ reminded_at: null }).execute();
  expect(await remindOverdueInstallments(t.db, '2027-09-19', 'http://haven.test')).toBe(0);
  // The next week (Monday 2027-09-20), once a week has passed since the reminder: one more each.
  await t.db.updateTable('schedule_installments').set({ reminded_at: new Date(Date.now() - 8 * 86_400_000) }).execute();
  expect(await remindOverdueInstallments(t.db, '2027-09-20', 'http://haven.test')).toBe(3);
  for (const c of coordinators) expect(await overdueMailsTo(c.email)).toHaveLength(2);
  const weeks = await t.db.selectFrom('overdue_reminders').select(['group_member_id', 'week_of']).where('group_member_id', '=', coordinators[0]!.id).orderBy('week_of').execute();
  expect(weeks.map((w) => w.week_of)).toEqual(['2027-09-13', '2027-09-20']);
  await expect(t.db.insertInto('overdue_reminders').values({ group_member_id: coordinators[0]!.id, week_of: '2027-09-20' }).execute()).rejects.toThrow(/duplicate key/);
});

test('a coordinator who uses Haven in French is reminded in French; one without an account in English', async () => {
  const french = await arrivedGroup('2027-07-01');
  const english = await arrivedGroup('2027-07-01');
  const member = await t.db.selectFrom('group_members').select(['id', 'email', 'name']).where('group_id', '=', french.id).where('role', '=', 'coordinator').executeTakeFirstOrThrow();
  const user = await t.db.insertInto('users').values({ email: member.email, name: member.name, password_hash: null, role: 'sponsor', disabled_at: null, locale: 'fr' }).returning('id').executeTakeFirstOrThrow();
  await t.db.updateTable('group_members').set({ user_id: user.id }).where('id', '=', member.id).execute();
  const other = await t.db.selectFrom('group_members').select('email').where('group_id', '=', english.id).where('role', '=', 'coordinator').executeTakeFirstOrThrow();

  await remindOverdueInstallments(t.db, '2027-09-15', 'http://haven.test');
  const [fr] = await overdueMailsTo(member.email);
  expect(fr).toMatchObject({ locale: 'fr' });
  expect(renderEmail(fr!).subject).toBe('Un paiement à votre famille est en retard');
  const [en] = await overdueMailsTo(other.email);
  expect(en).toMatchObject({ locale: 'en' });
  expect(renderEmail(en!).subject).toBe('A payment to your family is overdue');
});
