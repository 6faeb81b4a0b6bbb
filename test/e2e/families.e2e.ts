import type { Browser } from 'playwright-core';
import { readyGroup } from '../matching/factories';
import { launchBrowser, Visitor } from './support/browser';
import { acceptInvitationFromOutbox, createPerson, signIn } from './support/people';
import { type Stack, startStack } from './support/stack';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** One distinct value per identity field: none may appear on any of the group's pages. */
const IDENTITY = {
  names: 'Sentinel-Names Hyun-woo Baek',
  datesOfBirth: 'Sentinel-DOB 1987-03-14',
  governmentFileNumbers: 'Sentinel-GOV B0123456789',
  contact: 'Sentinel-Contact +82 10 5555 0199',
  currentLocation: 'Sentinel-Location Ansan shelter 7',
  notes: 'Sentinel-Notes protected case details',
};

function cents(amount: number): string {
  return `${Math.floor(amount / 100)}.${String(amount % 100).padStart(2, '0')}`;
}

test('staff register a family, a second staff member approves the match, staff record arrival, and the group records a paid disbursement without seeing the family identity', async () => {
  // Readiness (settlement plan, checks, funds) through the modules' own functions.
  const group = await readyGroup(stack.db, { familySize: 4, province: 'ON', languages: ['ko', 'en'] });
  const coordinatorRow = await stack.db.selectFrom('group_members').select('email').where('group_id', '=', group.id).where('role', '=', 'coordinator').executeTakeFirstOrThrow();
  const proposer = await createPerson(stack, 'staff', 'Min-ji Proposer');
  const approver = await createPerson(stack, 'staff', 'Do-yun Approver');

  const staffOne = await Visitor.open(browser, stack.baseUrl, 'staff-register-and-propose');
  const staffTwo = await Visitor.open(browser, stack.baseUrl, 'staff-approve-match');
  const coordinator = await Visitor.open(browser, stack.baseUrl, 'group-records-disbursement');
  try {
    // Staff one registers the family with its identity fields.
    await signIn(staffOne, proposer, '/staff/families/new', stack);
    expect(new URL(staffOne.page.url()).pathname).toBe('/staff/families/new');
    const { page } = staffOne;
    for (const [field, value] of Object.entries(IDENTITY)) await page.locator(`#${field}`).fill(value);
    await page.locator('#adults').fill('2');
    await page.locator('#children').fill('2');
    await page.locator('#languages').fill('ko');
    await page.locator('#preferredRegion').selectOption('ON');
    await page.locator('#vettingStatus').selectOption('cleared');
    await page.locator('#vettedOn').fill('2026-09-15');
    await staffOne.screenshot('family form filled');
    await Promise.all([page.waitForURL(/\/staff\/families\/\d+(\?.*)?$/), page.locator('form[action="/staff/families"] button[type="submit"]').click()]);
    await staffOne.check('family registered');
    const familyId = Number(new URL(page.url()).pathname.split('/').pop());

    // The identity is not on the page until a field is asked for, with a reason; then only that field.
    for (const value of Object.values(IDENTITY)) expect(await page.content()).not.toContain(value);
    await page.locator(`form[action="/staff/families/${familyId}/reveal"] input[value="names"]`).check();
    await page.locator('#reason').fill('Checking the spelling for the arrival paperwork');
    await Promise.all([
      page.waitForURL(new RegExp(`/staff/families/${familyId}/reveal$`)),
      page.locator(`form[action="/staff/families/${familyId}/reveal"] button[type="submit"]`).click(),
    ]);
    await staffOne.check('names revealed with a reason');
    const revealed = await page.content();
    expect(revealed).toContain(IDENTITY.names);
    for (const [field, value] of Object.entries(IDENTITY)) if (field !== 'names') expect(revealed).not.toContain(value);
    const reveal = await stack.db.selectFrom('audit_log').select('details').where('action', '=', 'family_identity.viewed').where('subject', '=', `family:${familyId}`).executeTakeFirstOrThrow();
    expect(reveal.details).toEqual({ purpose: 'staff_reveal', fields: ['names'], reason: 'Checking the spelling for the arrival paperwork' });

    // Made available for matching, then proposed to the ready group from the suggestions.
    await page.locator('#status').selectOption('available');
    await Promise.all([page.waitForURL(new RegExp(`/staff/families/${familyId}(\\?.*)?$`)), page.locator(`form[action="/staff/families/${familyId}/status"] button[type="submit"]`).click()]);
    await staffOne.check('family available');
    await Promise.all([page.waitForURL(new RegExp(`/staff/families/${familyId}/suggestions$`)), page.locator(`a[href="/staff/families/${familyId}/suggestions"]`).click()]);
    await staffOne.check('suggestions');
    const propose = page.locator('form[action="/staff/matches"]').filter({ has: page.locator(`input[name="groupId"][value="${group.id}"]`) });
    await Promise.all([page.waitForURL(/\/staff\/matches\/\d+(\?.*)?$/), propose.locator('button[type="submit"]').click()]);
    await staffOne.check('match proposed');
    const matchPath = new URL(page.url()).pathname;
    // Four eyes: the proposer is offered no approval.
    expect(await page.locator(`form[action="${matchPath}/approve"]`).count()).toBe(0);

    // A second staff member approves it.
    await signIn(staffTwo, approver, matchPath, stack);
    expect(new URL(staffTwo.page.url()).pathname).toBe(matchPath);
    await Promise.all([staffTwo.page.waitForURL((url) => url.pathname === matchPath), staffTwo.page.locator(`form[action="${matchPath}/approve"] button[type="submit"]`).click()]);
    await staffTwo.page.waitForLoadState('load');
    await staffTwo.check('match approved');
    const match = await stack.db.selectFrom('matches').select(['status', 'group_id']).where('family_id', '=', familyId).executeTakeFirstOrThrow();
    expect(match).toEqual({ status: 'approved', group_id: group.id });

    // Staff record the arrival.
    await staffOne.visit(`/staff/families/${familyId}/arrival`, 'arrival form');
    await page.locator('input[name="rates"][value="cost_table"]').check();
    await Promise.all([page.waitForURL(/\/staff\/schedules\/\d+(\?.*)?$/), page.locator(`form[action="/staff/families/${familyId}/arrival"] button[type="submit"]`).click()]);
    await staffOne.check('schedule created');
    const schedule = await stack.db.selectFrom('support_schedules').select('id').where('family_id', '=', familyId).executeTakeFirstOrThrow();

    // The coordinator sets a password from the invitation and, the group being matched, an
    // authenticator app; signs in (password and a code) and pays the first instalment.
    const person = await acceptInvitationFromOutbox(stack, coordinator, coordinatorRow.email, 'Coordinator of the ready group', { setUpApp: true });
    await signIn(coordinator, person, '/group/schedule');
    expect(new URL(coordinator.page.url()).pathname).toBe('/group/schedule');
    const first = await stack.db
      .selectFrom('schedule_installments')
      .select(['id', 'amount_cents'])
      .where('schedule_id', '=', schedule.id)
      .where('status', '=', 'due')
      .orderBy('due_on')
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const cp = coordinator.page;
    await cp.locator('#installmentId').selectOption(String(first.id));
    await cp.locator('#amount').fill(cents(first.amount_cents));
    await cp.locator('#method').selectOption('etransfer');
    await cp.locator('#reference').fill('E2E-TRANSFER-1');
    await Promise.all([
      cp.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/group/schedule/disbursements'),
      cp.locator('form[action="/group/schedule/disbursements"] button[type="submit"]').click(),
    ]);
    await cp.waitForLoadState('load');
    await coordinator.check('disbursement recorded');
    if (new URL(cp.url()).pathname !== '/group/schedule') await coordinator.visit('/group/schedule', 'schedule after payment');
    const paid = await stack.db.selectFrom('schedule_installments').select(['status', 'paid_cents']).where('id', '=', first.id).executeTakeFirstOrThrow();
    expect(paid).toEqual({ status: 'paid', paid_cents: first.amount_cents });
    // The schedule shows the instalment as paid, with its amount in the paid column.
    const paidRows = cp.locator('#installments-title ~ table tbody tr').filter({ has: cp.getByRole('cell', { name: 'Paid', exact: true }) });
    expect(await paidRows.count()).toBe(1);

    // None of the family's identity values appear on the group's pages.
    const groupPages = ['/group', '/group/family', '/group/schedule', '/group/page', `/groups/${group.slug}`];
    for (const path of groupPages) {
      await coordinator.visit(path, `group page ${path}`);
      const html = await cp.content();
      for (const value of Object.values(IDENTITY)) expect(html).not.toContain(value);
    }
  } finally {
    await staffOne.close();
    await staffTwo.close();
    await coordinator.close();
  }
});
