import { randomBytes } from 'node:crypto';
import { keyringOf } from '../../server/families/data-keys';
import { setFamilyStatus } from '../../server/families/families';
import { applyIdentityRetention, retentionSettings } from '../../server/families/retention';
import { charityCalendar } from '../../server/calendar/charity-calendar';
import { addDays, addMonths } from '../../server/calendar/dates';
import { createTestApp, type TestApp } from '../support/app';
import { signInAs, type SignedIn } from '../support/session';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { recordArrival } from '../../server/schedules/arrivals';
import { readyGroup } from '../matching/factories';
import { availableFamily, SENTINELS, staffA, staffB } from './factories';

/** What staff see of the retention rule: the dashboard's notice, the family page's dates, and a purged family's page. */
let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp({ FAMILY_IDENTITY_RETENTION_MONTHS: '12' });
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

test('the dashboard lists the families whose identity is deleted within 30 days, and the family page gives the day', async () => {
  const today = charityCalendar().today();
  const soon = await availableFamily(t.db, keyringOf(randomBytes(32)));
  const later = await availableFamily(t.db, keyringOf(randomBytes(32)));
  const endedSoon = addDays(addMonths(today, -12), 10);
  await t.db.transaction().execute((trx) => setFamilyStatus(trx, staffA, soon.id, 'closed', endedSoon));
  await t.db.transaction().execute((trx) => setFamilyStatus(trx, staffA, later.id, 'withdrawn', addMonths(today, -6)));

  const dashboard = await staff.agent.get('/staff');
  expect(dashboard.text).toContain('Identities to be deleted soon');
  expect(dashboard.text).toContain(`href="/staff/families/${soon.id}">${soon.caseCode}</a>`);
  expect(dashboard.text).not.toContain(later.caseCode);

  const page = await staff.agent.get(`/staff/families/${later.id}`);
  expect(page.text).toContain('(withdrawn)');
  expect(page.text).toContain('The identity will be deleted on');
});

test('a purged family’s page says so, offers no reveal, and refuses a new identity', async () => {
  const family = await availableFamily(t.db, keyringOf(randomBytes(32)));
  await t.db.transaction().execute((trx) => setFamilyStatus(trx, staffA, family.id, 'closed', '2024-01-01'));
  const settings = retentionSettings(t.config);
  await applyIdentityRetention(t.db, settings, '2025-01-01');
  expect((await applyIdentityRetention(t.db, settings, '2025-02-01')).purged).toContain(family.id);
  const page = await staff.agent.get(`/staff/families/${family.id}`);
  expect(page.status).toBe(200);
  expect(page.text).toContain('identity was deleted on');
  expect(page.text).not.toContain(`action="/staff/families/${family.id}/reveal"`);
  const write = await staff.postForm(`/staff/families/${family.id}/identity`, { fields: 'names', names: SENTINELS.names });
  expect(write.status).toBe(409);
});

test('a family whose support schedule ran out, still recorded as arrived, is on the dashboard and its page says when support ended', async () => {
  const today = charityCalendar().today();
  const family = await availableFamily(t.db, keyringOf(randomBytes(32)), { adults: 2, children: 2 });
  const group = await readyGroup(t.db, { familySize: 4 });
  const match = await t.db.transaction().execute((trx) => proposeMatch(trx, t.config, staffA, { familyId: family.id, groupId: group.id }));
  await t.db.transaction().execute((trx) => approveMatch(trx, t.config, staffB, match.id));
  // Arrived 24 months less 10 days ago: the 12-month term ended about 12 months less 10 days ago.
  const arrivalOn = addDays(addMonths(today, -24), 10);
  await t.db.transaction().execute((trx) => recordArrival(trx, staffA, { familyId: family.id, arrivalOn }));

  const dashboard = await staff.agent.get('/staff');
  expect(dashboard.text).toContain(`href="/staff/families/${family.id}">${family.caseCode}</a>`);
  const page = await staff.agent.get(`/staff/families/${family.id}`);
  expect(page.text).toContain('at the end of the support schedule');
  expect(page.text).toContain('The identity will be deleted on');
});
