import { createTestApp, type TestApp } from '../support/app';
import { signInAs, type SignedIn } from '../support/session';
import { SENTINELS } from './factories';

/**
 * Staff are told the next step: a family registered today is Referred, and nothing can be
 * proposed for it until it is Available for matching; each page that is empty or blocked for
 * that reason says so and links to where it is fixed.
 */
let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

const form = { adults: 2, children: 1, languages: 'ko', preferredRegion: 'ON', vettingStatus: 'cleared', vettedOn: '2026-09-15', ...SENTINELS };

test('before any family or match, the lists say what to do and link to it', async () => {
  const families = await staff.agent.get('/staff/families').expect(200);
  expect(families.text).toContain('Register each family IRCC has vetted; it starts as Referred. <a href="/staff/families/new">');
  const matches = await staff.agent.get('/staff/matches').expect(200);
  expect(matches.text).toContain('A match is proposed from the suggestions of a family available for matching. <a href="/staff/families">');
  const assignment = await staff.agent.get('/staff/matching/assignment').expect(200);
  expect(assignment.text).toContain('A pair needs a family available for matching and a ready group.');
});

test('a family registered is Referred: its page and its suggestions say it must be made available, and link to the status', async () => {
  const created = await staff.postForm('/staff/families', form);
  expect(created.status).toBe(303);
  const id = Number(/\/staff\/families\/(\d+)\?done=families\.registered$/.exec(created.headers.location!)![1]);
  const page = await staff.agent.get(created.headers.location!).expect(200);
  expect(page.text).toContain('The family is registered as Referred.');
  expect(page.text).toContain('A newly registered family is “Referred”');
  expect(page.text).toContain('<a href="#status-title">Change the status</a>');
  expect(page.text).toContain('id="status-title"');
  const suggestions = await staff.agent.get(`/staff/families/${id}/suggestions`).expect(200);
  expect(suggestions.text).toContain(`Only a family whose status is “Available for matching” can be proposed to a group; this one is not. <a href="/staff/families/${id}#status-title">`);
  // No ready group yet: the reason and where groups stand.
  expect(suggestions.text).toContain('A group is ready once staff have approved it');

  expect((await staff.postForm(`/staff/families/${id}/status`, { status: 'available' })).status).toBe(303);
  const available = await staff.agent.get(`/staff/families/${id}`).expect(200);
  expect(available.text).not.toContain('A newly registered family is “Referred”');
  const open = await staff.agent.get(`/staff/families/${id}/suggestions`).expect(200);
  expect(open.text).not.toContain('Only a family whose status is');
});
