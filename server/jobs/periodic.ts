import { pruneExpiredAccountsData } from '../accounts/housekeeping';
import { charityCalendar, type Clock } from '../calendar/charity-calendar';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { applyIdentityRetention, retentionSettings } from '../families/retention';
import type { Logger } from '../logger';
import { expireHolds } from '../matching/matches';
import { remindOverdueInstallments } from '../schedules/reminders';
import type { JobDefinition } from './scheduler';

const HOUR = 60 * 60;

/** The names of Haven's periodic jobs, as stored in scheduled_jobs and shown (translated) on /staff/jobs. */
export const JOB_NAMES = ['prune-expired', 'expire-match-holds', 'overdue-reminders', 'identity-retention'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** Haven's periodic jobs, each run once across processes by the scheduler (main.ts starts it). */
export function periodicJobs(deps: { db: Db; config: Config; logger: Logger; clock?: Clock }): (JobDefinition & { name: JobName })[] {
  const { db, config, logger } = deps;
  const calendar = charityCalendar(config.charityTimeZone, deps.clock);
  return [
    {
      // Expired sessions, spent sign-in links, rate-limit windows and donor links.
      name: 'prune-expired',
      everySeconds: HOUR,
      run: () => pruneExpiredAccountsData(db),
    },
    {
      // Match holds also expire lazily on every matching read; this catches them when nobody looks.
      name: 'expire-match-holds',
      everySeconds: 15 * 60,
      run: async () => ({ expired: (await db.transaction().execute((trx) => expireHolds(trx, config))).length }),
    },
    {
      name: 'overdue-reminders',
      everySeconds: HOUR,
      run: async () => ({ emails: await remindOverdueInstallments(db, calendar.today(), config.publicUrl) }),
    },
    {
      // Families' identities are deleted a configured period after their support ends (warned 30 days before).
      name: 'identity-retention',
      everySeconds: HOUR,
      firstAfterSeconds: 60,
      run: async () => {
        const run = await applyIdentityRetention(db, retentionSettings(config), calendar.today());
        if (run.purged.length || run.warned.length) logger.info({ purgedFamilyIds: run.purged, warnedFamilyIds: run.warned }, 'family identity retention');
        return { purged: run.purged.length, warned: run.warned.length };
      },
    },
  ];
}
