import { Router } from 'express';
import type { TFunction } from 'i18next';
import type { Config } from '../config';
import { allow } from '../http/policy';

/**
 * The site's own pages beyond the campaign: /contact says where people write (the contact
 * e-mail, the cheque mailing address, the e-transfer address, the CRA number), all from
 * configuration (res.locals.contact and res.locals.charity, set in app.ts). No form: a mailto
 * link gives spammers nothing to post to.
 */
export function siteRoutes(config: Pick<Config, 'contact'>): Router {
  const router = Router();
  router.get('/contact', allow.anyone, (_req, res) => {
    const t = res.locals.t as TFunction;
    res.render('site/contact', {
      title: t('site:contact.title'),
      share: { description: t('site:contact.description'), path: '/contact' },
      mailto: `mailto:${config.contact.email}`,
    });
  });
  return router;
}
