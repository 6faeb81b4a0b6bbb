import { periodicJobs } from '../../server/jobs/periodic';
import { registerJobs, runDueJobs } from '../../server/jobs/scheduler';
import { createLogger } from '../../server/logger';
import { createTestApp, type TestApp } from '../support/app';
import { signInAs, type SignedIn } from '../support/session';

let t: TestApp;
let staff: SignedIn;
const logger = () => createLogger({ ...t.config, logLevel: 'silent' });
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

test('the staff area links to /staff/jobs, which says each job’s last run, next run and last failure; "Run now" makes it due and a poll runs it', async () => {
  const jobs = periodicJobs({ db: t.db, config: t.config, logger: logger() });
  await registerJobs(t.db, jobs);
  const dashboard = await staff.agent.get('/staff').expect(200);
  expect(dashboard.text).toContain('href="/staff/jobs"');

  let page = await staff.agent.get('/staff/jobs').expect(200);
  for (const label of ['Remove expired sessions and links', 'End expired match holds', 'Remind coordinators of overdue payments', 'Delete families’ identities past retention']) expect(page.text).toContain(label);
  expect(page.text).toContain('Not yet run');
  expect(page.text).toMatch(/data-outbox-waiting="\d+"/);

  // Nothing is due yet (first runs are a period away): a poll runs nothing.
  expect(await runDueJobs(t.db, jobs, 'test', logger())).toEqual([]);
  const asked = await staff.postForm('/staff/jobs/overdue-reminders/run');
  expect(asked.status).toBe(303);
  expect(asked.headers.location).toBe('/staff/jobs?ran=overdue-reminders');
  page = await staff.agent.get(asked.headers.location!).expect(200);
  expect(page.text).toContain('“Remind coordinators of overdue payments” will run within a minute.');
  expect(await runDueJobs(t.db, jobs, 'test', logger())).toEqual(['overdue-reminders']);
  page = await staff.agent.get('/staff/jobs?lang=fr').expect(200);
  const row = /<tr data-job="overdue-reminders">([\s\S]*?)<\/tr>/.exec(page.text)![1]!;
  expect(row).toContain('réussie');
  expect(row).toContain('0 courriel mis en file');
  const audit = await t.db.selectFrom('audit_log').select(['action', 'subject']).where('action', '=', 'job.run_requested').execute();
  expect(audit).toEqual([{ action: 'job.run_requested', subject: 'job:overdue-reminders' }]);

  // A failing job shows its failure and reason.
  const failing = jobs.map((j) => (j.name === 'prune-expired' ? { ...j, run: () => Promise.reject(new Error('connection reset')) } : j));
  await staff.postForm('/staff/jobs/prune-expired/run');
  await runDueJobs(t.db, failing, 'test', logger());
  page = await staff.agent.get('/staff/jobs?lang=en').expect(200);
  const pruneRow = /<tr data-job="prune-expired">([\s\S]*?)<\/tr>/.exec(page.text)![1]!;
  expect(pruneRow).toContain('failed');
  expect(pruneRow).toContain('connection reset');
  expect(pruneRow).toContain('1 runs, 1 failed');
});

test('an unknown job is a 404, and a sponsor may neither see nor run jobs', async () => {
  await staff.postForm('/staff/jobs/no-such-job/run').then((res) => expect(res.status).toBe(404));
  const sponsor = await signInAs(t, 'sponsor');
  await sponsor.agent.get('/staff/jobs').expect(403);
  expect((await sponsor.postForm('/staff/jobs/overdue-reminders/run')).status).toBe(403);
});
