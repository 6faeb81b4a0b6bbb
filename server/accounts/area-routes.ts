import { Router } from 'express';
import type { TFunction } from 'i18next';
import { allow, requireUser } from '../http/policy';

/**
 * The shells other modules fill: the staff area (/staff) (a sponsor group's area, /group, is the groups module's workspace).
 * Each area's navigation is a partial (views/partials/staff-nav.hbs, group-nav.hbs): add a link there.
 */
export function areaRoutes(): Router {
  const router = Router();

  router.get('/staff', allow.staff, (_req, res) => {
    const t = res.locals.t as TFunction;
    res.render('staff/dashboard', { title: t('accounts:staff.title'), noindex: true, user: requireUser(res) });
  });

  return router;
}
