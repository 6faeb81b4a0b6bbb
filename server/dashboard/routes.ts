import { Router } from 'express';
import type { TFunction } from 'i18next';
import type { CharityCalendar, Clock } from '../calendar/charity-calendar';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { upcomingPurges } from '../families/retention';
import { allow, requireUser } from '../http/policy';
import { staffToDo } from './to-do';

/** GET /staff: the staff dashboard, a to-do list with a link to where each task is done. */
export function dashboardRoutes(deps: { db: Db; calendar: CharityCalendar; clock?: Clock; config: Pick<Config, 'familyIdentityRetentionMonths' | 'charityTimeZone'> }): Router {
  const router = Router();

  router.get('/staff', allow.staff, async (_req, res) => {
    const t = res.locals.t as TFunction;
    const today = deps.calendar.today();
    const [toDo, purges] = await Promise.all([
      staffToDo(deps.db, { today, receipts: { charityTimeZone: deps.config.charityTimeZone, clock: deps.clock } }),
      upcomingPurges(deps.db, deps.config.familyIdentityRetentionMonths, today),
    ]);
    res.render('dashboard/to-do', {
      title: t('accounts:staff.title'),
      noindex: true,
      user: requireUser(res),
      toDo: toDo.items,
      waiting: toDo.items.filter((item) => item.count > 0).length,
      support: toDo.support,
      purges,
    });
  });

  return router;
}
