import { sql } from 'kysely';
import { claimJob, listJobs, registerJobs, requestRunNow, runDueJobs } from '../../server/jobs/scheduler';
import { createLogger } from '../../server/logger';
import { testConfig } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';

const logger = createLogger({ ...testConfig(), logLevel: 'silent' });
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 10 });
});
afterAll(() => t.destroy());

const job = (name: string, run: () => Promise<Record<string, number> | void>, everySeconds = 3600) => ({ name, everySeconds, firstAfterSeconds: 0, run });

test('a due job is claimed by exactly one of many workers polling at once, then not again until its next period', async () => {
  await registerJobs(t.db, [job('race', async () => undefined)]);
  // Twenty claims in flight together (on a server, on as many connections as the pool allows).
  const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => claimJob(t.db, { name: 'race' }, `worker-${i}`)));
  expect(claims.filter(Boolean)).toHaveLength(1);
  const [row] = await listJobs(t.db);
  expect(row).toMatchObject({ name: 'race', running: true });
  expect(row!.next_run_at.getTime()).toBeGreaterThan(Date.now() + 3500 * 1000);
  // Its lease expired (the holder died) but the period has not come round: still nobody runs it.
  await t.db.updateTable('scheduled_jobs').set({ lease_until: sql<Date>`now() - interval '1 second'` }).where('name', '=', 'race').execute();
  expect(await claimJob(t.db, { name: 'race' }, 'late')).toBe(false);
});

test('runs are recorded: last result, last failure and its reason, and a failed job is retried within five minutes', async () => {
  let fail = false;
  const flaky = job('flaky', async () => {
    if (fail) throw new Error('the mail server said no');
    return { emails: 3 };
  });
  await registerJobs(t.db, [flaky]);
  expect(await runDueJobs(t.db, [flaky], 'w1', logger)).toEqual(['flaky']);
  let row = (await listJobs(t.db)).find((j) => j.name === 'flaky')!;
  expect(row).toMatchObject({ runs: 1, failures: 0, last_result: { emails: 3 }, last_error: null, running: false, leased_by: null });
  expect(row.last_succeeded_at).not.toBeNull();
  // Not due again: a second pass runs nothing.
  expect(await runDueJobs(t.db, [flaky], 'w2', logger)).toEqual([]);

  fail = true;
  expect(await requestRunNow(t.db, 'flaky')).toBe(true);
  expect(await runDueJobs(t.db, [flaky], 'w2', logger)).toEqual(['flaky']);
  row = (await listJobs(t.db)).find((j) => j.name === 'flaky')!;
  expect(row).toMatchObject({ runs: 2, failures: 1, last_error: 'the mail server said no', running: false });
  expect(row.last_failed_at).not.toBeNull();
  expect(row.next_run_at.getTime()).toBeLessThanOrEqual(Date.now() + 301 * 1000);
  expect(await requestRunNow(t.db, 'no-such-job')).toBe(false);
});

test('registering again keeps a job’s schedule and history, and takes a new period', async () => {
  const once = job('kept', async () => undefined);
  await registerJobs(t.db, [once]);
  await runDueJobs(t.db, [once], 'w1', logger);
  const before = (await listJobs(t.db)).find((j) => j.name === 'kept')!;
  await registerJobs(t.db, [{ ...once, everySeconds: 900 }]);
  const after = (await listJobs(t.db)).find((j) => j.name === 'kept')!;
  expect(after).toMatchObject({ runs: 1, every_seconds: 900 });
  expect(after.next_run_at).toEqual(before.next_run_at);
});
