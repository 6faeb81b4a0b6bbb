import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { signInAs } from '../support/session';

/** The honest statement: a public page and a staff page, with the configured period and where to report a concern. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ FAMILY_IDENTITY_RETENTION_MONTHS: '18', PRIVACY_OFFICER_EMAIL: 'privacy@hanvoice.test' });
});
afterAll(() => t.destroy());

test('the public privacy page says what is kept, who sees it, for the configured period, and how to report a concern', async () => {
  const page = await request(t.app).get('/privacy');
  expect(page.status).toBe(200);
  for (const text of ['What Haven keeps', 'Who can see it', 'deleted 18 months after its support ends', 'warned 30 days before', 'mailto:privacy@hanvoice.test', 'Privacy Commissioner of Canada']) {
    expect(page.text).toContain(text);
  }
  const fr = await request(t.app).get('/privacy?lang=fr');
  expect(fr.text).toContain('supprimée 18 mois après la fin de son soutien');
  // Every page's footer links to it.
  expect((await request(t.app).get('/')).text).toContain('href="/privacy"');
});

test('without a privacy officer address, the page gives the charity’s postal address', async () => {
  const other = await createTestApp({ CHARITY_ADDRESS: '1 Privacy Lane, Toronto ON' });
  try {
    const page = await request(other.app).get('/privacy');
    expect(page.text).toContain('1 Privacy Lane, Toronto ON');
    expect(page.text).toContain('deleted 12 months after');
  } finally {
    await other.destroy();
  }
});

test('the staff privacy page is for staff, linked from the staff navigation', async () => {
  const staff = await signInAs(t, 'staff');
  const page = await staff.agent.get('/staff/privacy');
  expect(page.status).toBe(200);
  expect(page.text).toContain('Your part');
  expect(page.text).toContain('npm run rotate-family-key');
  expect(page.text).toContain('No identity is due for deletion in the next 30 days.');
  expect((await staff.agent.get('/staff')).text).toContain('href="/staff/privacy"');
  const sponsor = await signInAs(t, 'sponsor');
  expect((await sponsor.agent.get('/staff/privacy')).status).toBe(403);
});
