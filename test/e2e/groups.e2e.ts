import type { Browser } from 'playwright-core';
import { sampleJpeg } from '../support/photos';
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

test('a sponsor group applies, staff approve it, its public page appears, and the coordinator edits the page', async () => {
  const name = `Maple Sponsors ${Date.now().toString(36)}`;
  const coordinatorEmail = `e2e-coordinator-${Date.now()}@example.org`;
  const applicant = await Visitor.open(browser, stack.baseUrl, 'group-applies');
  const staffVisitor = await Visitor.open(browser, stack.baseUrl, 'staff-approve-group');
  try {
    // The group applies through the public form.
    await applicant.visit('/groups/apply', 'application form');
    const { page } = applicant;
    await page.locator('#name').fill(name);
    await page.locator('#city').fill('Toronto');
    await page.locator('#province').selectOption('ON');
    await page.locator('#coordinatorName').fill('Ji-woo Coordinator');
    await page.locator('#coordinatorEmail').fill(coordinatorEmail);
    await page.locator('input[name="languages"][value="en"]').check();
    await page.locator('#familySize').fill('4');
    await page.locator('#story').fill('Neighbours in the Annex who want to welcome a family.');
    await Promise.all([page.waitForURL(/\/groups\/apply\/thanks/), page.locator('form[action="/groups/apply"] button[type="submit"]').click()]);
    await applicant.check('application received');
    const group = await stack.db.selectFrom('sponsor_groups').select(['id', 'slug', 'status']).where('name', '=', name).executeTakeFirstOrThrow();
    expect(group.status).toBe('applied');

    // Not public before approval.
    const before = await applicant.page.request.get(`${stack.baseUrl}/groups/${group.slug}`);
    expect(before.status()).toBe(404);

    // Staff find it in the queue and approve it.
    const staff = await createPerson(stack, 'staff', 'Seo-yeon Staff');
    await signIn(staffVisitor, staff, '/staff/groups', stack);
    expect(new URL(staffVisitor.page.url()).pathname).toBe('/staff/groups');
    await Promise.all([staffVisitor.page.waitForURL(new RegExp(`/staff/groups/${group.id}$`)), staffVisitor.page.getByRole('link', { name }).first().click()]);
    await staffVisitor.check('application detail');
    await Promise.all([
      staffVisitor.page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/staff/groups/${group.id}/approve`),
      staffVisitor.page.locator(`form[action="/staff/groups/${group.id}/approve"] button[type="submit"]`).click(),
    ]);
    await staffVisitor.page.waitForLoadState('load');
    await staffVisitor.check('approved');
    const approved = await stack.db.selectFrom('sponsor_groups').select('status').where('id', '=', group.id).executeTakeFirstOrThrow();
    expect(approved.status).toBe('approved');

    // The public page now exists.
    await applicant.visit(`/groups/${group.slug}`, 'public page');
    expect(await applicant.text('h1')).toContain(name);

    // The coordinator accepts the invitation from the e-mail, signs in and edits the page.
    const coordinator = await Visitor.open(browser, stack.baseUrl, 'coordinator-edits-page');
    try {
      const person = await acceptInvitationFromOutbox(stack, coordinator, coordinatorEmail, 'Ji-woo Coordinator');
      await signIn(coordinator, person, '/group/page');
      expect(new URL(coordinator.page.url()).pathname).toBe('/group/page');
      const story = `Updated by the coordinator ${Date.now().toString(36)}: we have found a three-bedroom flat.`;
      await coordinator.page.locator('#story').fill(story);
      await Promise.all([coordinator.page.waitForURL(/\/group\/page\?done=groups\.pageSaved/), coordinator.page.locator('form[action="/group/page"] button[type="submit"]').click()]);
      await coordinator.check('page saved');
      await applicant.visit(`/groups/${group.slug}`, 'public page shows the edit');
      expect(await applicant.text('main')).toContain(story);

      // The coordinator offers a photo (multipart, the CSRF token in the form's action); staff approve it; the page shows it.
      await coordinator.page.locator('#altText').fill('Our volunteers at the community centre');
      await coordinator.page.locator('input[name="attest"]').check();
      await coordinator.page.locator('#photo').setInputFiles({ name: 'us.jpg', mimeType: 'image/jpeg', buffer: sampleJpeg(640, 400) });
      await Promise.all([coordinator.page.waitForURL(/\/group\/page\?done=groups\.photoUploaded/), coordinator.page.locator('form[action^="/group/page/photo"] button[type="submit"]').click()]);
      await coordinator.check('photo uploaded');
      await staffVisitor.visit(`/staff/groups/${group.id}`, 'photo to review');
      await Promise.all([staffVisitor.page.waitForURL(/done=groups\.photoApproved/), staffVisitor.page.locator('button[name="decision"][value="approved"]').click()]);
      await applicant.visit(`/groups/${group.slug}`, 'public page with its photo');
      const width = await applicant.page.locator('.group-photo img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
      expect(width).toBe(640);
      // The copy-link button is first-party script under the CSP: shown once it ran.
      expect(await applicant.page.locator('[data-copy-link]').isVisible()).toBe(true);
    } finally {
      await coordinator.close();
    }
  } finally {
    await applicant.close();
    await staffVisitor.close();
  }
});
