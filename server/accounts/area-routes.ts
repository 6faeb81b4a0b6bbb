import { Router } from 'express';
import type { TFunction } from 'i18next';
import type { CharityCalendar } from '../calendar/charity-calendar';
import type { Db } from '../db/database';
import { allow, requireUser } from '../http/policy';
import { supportOverview } from '../schedules/schedule-queries';

/**
 * The shells other modules fill: the staff area (/staff) (a sponsor group's area, /group, is the groups module's workspace).
 * Each area's navigation is a partial (views/partials/staff-nav.hbs, group-nav.hbs): add a link there.
 */
export function areaRoutes(db: Db, calendar: CharityCalendar): Router {
  const router = Router();

  router.get('/staff', allow.staff, async (_req, res) => {
    const t = res.locals.t as TFunction;
    const support = await supportOverview(db, calendar.today());
    res.render('staff/dashboard', { title: t('accounts:staff.title'), noindex: true, user: requireUser(res), support });
  });

  return router;
}
