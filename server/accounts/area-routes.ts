import { Router } from 'express';
import type { TFunction } from 'i18next';
import type { CharityCalendar } from '../calendar/charity-calendar';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { upcomingPurges } from '../families/retention';
import { allow, requireUser } from '../http/policy';
import { supportOverview } from '../schedules/schedule-queries';

/**
 * The shells other modules fill: the staff area (/staff) (a sponsor group's area, /group, is the groups module's workspace).
 * Each area's navigation is a partial (views/partials/staff-nav.hbs, group-nav.hbs): add a link there.
 */
export function areaRoutes(db: Db, calendar: CharityCalendar, config: Pick<Config, 'familyIdentityRetentionMonths'>): Router {
  const router = Router();

  router.get('/staff', allow.staff, async (_req, res) => {
    const t = res.locals.t as TFunction;
    const today = calendar.today();
    const [support, purges] = await Promise.all([supportOverview(db, today), upcomingPurges(db, config.familyIdentityRetentionMonths, today)]);
    res.render('staff/dashboard', { title: t('accounts:staff.title'), noindex: true, user: requireUser(res), support, purges });
  });

  return router;
}
