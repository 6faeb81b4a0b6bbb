import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { sql, type UpdateObject } from 'kysely';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';
import type { Logger } from '../logger';

/**
 * Periodic jobs that run once across every Haven process on one database (README.md here).
 *
 * Each job is a row of scheduled_jobs. Every process polls; a process runs a job only after one
 * conditional UPDATE has moved the job's next_run_at a period ahead and given it the lease, which
 * PostgreSQL lets exactly one of several concurrent pollers do (the others' UPDATE re-reads the row
 * after the winner commits, finds it no longer due, and changes nothing). The database's clock
 * decides what is due, so processes on machines whose clocks differ still agree. The same code runs
 * on the embedded database, where only one process can hold DATA_DIR.
 *
 * The lease only stops a second run while one is in progress; what each job does is also
 * idempotent on its own (pruning and hold expiry by nature, reminders by a unique row per
 * coordinator and week, identity retention by deleting what is due), so a run repeated after a
 * crash changes nothing twice.
 */

export type JobDefinition = {
  name: string;
  everySeconds: number;
  /** Seconds after the job is first registered before its first run (default: one period). */
  firstAfterSeconds?: number;
  /** How long a run may hold the job before another process may take it (default 10 minutes). */
  leaseSeconds?: number;
  /** The work; what it returns (a small object of counts) is kept as the last result. No family identity in it. */
  run(): Promise<Record<string, number> | void>;
};

const DEFAULT_LEASE_SECONDS = 600;
/** A failed run is tried again this soon, if its next period is further away. */
const RETRY_AFTER_FAILURE_SECONDS = 300;

/** This process's name in leased_by: host, pid and a random suffix (a restarted pid is another holder). */
export function workerName(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** Adds the jobs not yet known (first run firstAfterSeconds from now) and updates the period of those that are. */
export async function registerJobs(db: Db, jobs: JobDefinition[]): Promise<void> {
  for (const job of jobs) {
    await db
      .insertInto('scheduled_jobs')
      .values({ name: job.name, every_seconds: job.everySeconds, next_run_at: sql<Date>`now() + make_interval(secs => ${job.firstAfterSeconds ?? job.everySeconds})` })
      .onConflict((oc) => oc.column('name').doUpdateSet({ every_seconds: job.everySeconds }))
      .execute();
  }
}

/** Takes the job if it is due and nobody holds it; true if this worker now runs it. */
export async function claimJob(db: Db, job: Pick<JobDefinition, 'name' | 'leaseSeconds'>, worker: string): Promise<boolean> {
  const claimed = await db
    .updateTable('scheduled_jobs')
    .set({
      next_run_at: sql<Date>`now() + make_interval(secs => every_seconds)`,
      lease_until: sql<Date>`now() + make_interval(secs => ${job.leaseSeconds ?? DEFAULT_LEASE_SECONDS})`,
      leased_by: worker,
      last_started_at: sql<Date>`now()`,
    })
    .where('name', '=', job.name)
    .where('next_run_at', '<=', sql<Date>`now()`)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', sql<Date>`now()`)]))
    .returning('name')
    .executeTakeFirst();
  return claimed !== undefined;
}

/** Runs one claimed job and records how it went (only while this worker still holds the lease). */
async function runClaimed(db: Db, job: JobDefinition, worker: string, logger: Logger): Promise<void> {
  const finish = (outcome: UpdateObject<Database, 'scheduled_jobs'>) =>
    db
      .updateTable('scheduled_jobs')
      .set({ lease_until: null, leased_by: null, last_finished_at: sql<Date>`now()`, runs: sql`runs + 1`, ...outcome })
      .where('name', '=', job.name)
      .where('leased_by', '=', worker)
      .execute();
  try {
    const result = await job.run();
    await finish({ last_succeeded_at: sql<Date>`now()`, last_result: result ? JSON.stringify(result) : null });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    logger.warn({ err: error, job: job.name }, `job ${job.name} failed`);
    await finish({
      last_failed_at: sql<Date>`now()`,
      last_error: reason.slice(0, 500),
      failures: sql`failures + 1`,
      next_run_at: sql<Date>`least(next_run_at, now() + make_interval(secs => ${RETRY_AFTER_FAILURE_SECONDS}))`,
    }).catch((recordError: unknown) => logger.warn({ err: recordError, job: job.name }, 'recording a failed job failed'));
  }
}

/** One pass: claims and runs, one after another, each due job; returns the names it ran. */
export async function runDueJobs(db: Db, jobs: JobDefinition[], worker: string, logger: Logger): Promise<string[]> {
  const ran: string[] = [];
  for (const job of jobs) {
    if (!(await claimJob(db, job, worker))) continue;
    await runClaimed(db, job, worker, logger);
    ran.push(job.name);
  }
  return ran;
}

/** Staff's "run now": the job becomes due at once (the next poll of any process runs it). */
export async function requestRunNow(db: Db, name: string): Promise<boolean> {
  const updated = await db.updateTable('scheduled_jobs').set({ next_run_at: sql<Date>`now()` }).where('name', '=', name).executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

export type Scheduler = { worker: string; stop(): Promise<void> };

/**
 * Registers the jobs, then polls every pollSeconds (and once soon after start) until stopped.
 * stop() waits for a run in progress.
 */
export function startScheduler(db: Db, jobs: JobDefinition[], logger: Logger, options: { pollSeconds: number }): Scheduler {
  const worker = workerName();
  let stopped = false;
  let running: Promise<unknown> = registerJobs(db, jobs).catch((error: unknown) => logger.warn({ err: error }, 'registering the periodic jobs failed'));
  const pass = () => {
    running = running
      .then(() => (stopped ? [] : runDueJobs(db, jobs, worker, logger)))
      .catch((error: unknown) => logger.warn({ err: error }, 'the job scheduler pass failed'));
  };
  // A little jitter, so processes started together do not all poll in the same instant.
  const timer = setInterval(pass, options.pollSeconds * 1000 + Math.floor(Math.random() * 250));
  timer.unref();
  const first = setTimeout(pass, 1000);
  first.unref();
  return {
    worker,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(first);
      await running;
    },
  };
}

/** Every job, for the staff page. */
export async function listJobs(db: Db) {
  return db.selectFrom('scheduled_jobs').selectAll().select(sql<boolean>`coalesce(lease_until > now(), false)`.as('running')).orderBy('name').execute();
}
