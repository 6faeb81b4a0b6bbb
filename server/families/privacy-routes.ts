import { Router } from 'express';
import type { TFunction } from 'i18next';
import type { AppDeps } from '../app-deps';
import { allow } from '../http/policy';
import { charityCalendar } from '../calendar/charity-calendar';
import { upcomingPurges } from './retention';

/**
 * The honest statement: /privacy (public) says what Haven keeps about the families, who can see
 * it, for how long (the configured period) and how to report a concern, and what it keeps about
 * donors and why (receipts kept six years for CRA, cards left to Stripe, the wall only with consent); /staff/privacy adds what
 * staff must do, and the deletions coming up. Linked from the footer and the staff navigation.
 */
export function privacyRoutes(deps: AppDeps): Router {
  const router = Router();
  const { config, db } = deps;
  const calendar = charityCalendar(config.charityTimeZone, deps.clock);
  const common = { retentionMonths: config.familyIdentityRetentionMonths, privacyEmail: config.privacyOfficerEmail };

  router.get('/privacy', allow.anyone, (_req, res) => {
    const t = res.locals.t as TFunction;
    res.render('families/privacy', {
      title: t('families:privacy.title'),
      ...common,
      // Who answers: the privacy officer, else the charity's contact address (production requires CONTACT_EMAIL).
      privacyEmail: config.privacyOfficerEmail ?? config.contact.email,
      charityName: config.charity.name,
      charityAddress: config.charity.address,
      share: { description: t('families:privacy.description'), path: '/privacy' },
    });
  });

  router.get('/staff/privacy', allow.staff, async (_req, res) => {
    const t = res.locals.t as TFunction;
    const purges = await upcomingPurges(db, config.familyIdentityRetentionMonths, calendar.today());
    res.render('families/staff-privacy', { title: t('families:privacy.staffTitle'), noindex: true, ...common, purges });
  });

  return router;
}
