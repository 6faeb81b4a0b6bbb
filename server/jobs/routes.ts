import { type NextFunction, type Request, type Response, Router } from 'express';
import type { TFunction } from 'i18next';
import { z } from 'zod';
import { writeAudit } from '../audit/audit';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { stripeEventQueueStatus } from '../giving/stripe-event-queue';
import { actorOf, allow } from '../http/policy';
import { INTL_LOCALE, type Locale } from '../i18n/i18n';
import { outboxStatus } from '../notifications/dispatcher';
import { JOB_NAMES } from './periodic';
import { listJobs, requestRunNow } from './scheduler';

const JobParam = z.enum(JOB_NAMES);

/** GET /staff/jobs: each periodic job's last run, next run and last failure, and the queues (e-mail, Stripe events); POST …/:name/run: run it now. */
export function jobRoutes(deps: { db: Db; config: Config }): Router {
  const router = Router();

  router.get('/staff/jobs', allow.staff, async (req: Request, res: Response) => {
    const t = res.locals.t as TFunction;
    const when = new Intl.DateTimeFormat(INTL_LOCALE[res.locals.locale as Locale], { dateStyle: 'medium', timeStyle: 'medium', timeZone: deps.config.charityTimeZone });
    const at = (d: Date | null) => (d ? { text: when.format(d), iso: d.toISOString() } : undefined);
    const known = new Set<string>(JOB_NAMES);
    const jobs = (await listJobs(deps.db)).filter((j) => known.has(j.name));
    const outbox = await outboxStatus(deps.db);
    const stripe = deps.config.stripe ? await stripeEventQueueStatus(deps.db, 0) : undefined;
    const ran = JobParam.safeParse(req.query.ran);
    res.render('jobs/list', {
      title: t('jobs:title'),
      noindex: true,
      ran: ran.success ? t(`jobs:names.${ran.data}`) : undefined,
      jobs: jobs.map((j) => ({
        name: j.name,
        label: t(`jobs:names.${j.name}`),
        every: t('jobs:every', { minutes: Math.round(j.every_seconds / 60) }),
        running: j.running,
        lastRun: at(j.last_finished_at),
        lastOk: j.last_succeeded_at !== null && (j.last_failed_at === null || j.last_succeeded_at >= j.last_failed_at),
        nextRun: at(j.next_run_at),
        lastFailure: at(j.last_failed_at),
        lastError: j.last_error,
        result: j.last_result ? Object.entries(j.last_result as Record<string, number>).map(([k, v]) => t(`jobs:results.${k}`, { count: v })).join(', ') : '',
        runs: j.runs,
        failures: j.failures,
      })),
      outbox: { ...outbox, oldestWaiting: at(outbox.oldestWaitingAt) },
      stripe,
    });
  });

  router.post('/staff/jobs/:name/run', allow.staff, async (req: Request, res: Response, next: NextFunction) => {
    const name = JobParam.safeParse(req.params.name);
    if (!name.success) return next(); // no such job: the 404 page
    await deps.db.transaction().execute(async (trx) => {
      await writeAudit(trx, { actor: actorOf(res, 'name'), action: 'job.run_requested', subject: `job:${name.data}`, details: {} });
    });
    await requestRunNow(deps.db, name.data);
    res.redirect(303, `/staff/jobs?ran=${name.data}`);
  });

  return router;
}
