import { Router } from 'express';
import type { TFunction } from 'i18next';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { allow } from '../http/policy';
import { publicCache } from '../http/public-cache';
import { robotsTxt } from './robots';
import { sitemapUrls, sitemapXml } from './sitemap';

/** The site's own pages (README.md): /contact, and what crawlers read, /robots.txt and /sitemap.xml. */
export function siteRoutes(db: Db, config: Pick<Config, 'publicUrl' | 'publicCacheSeconds' | 'contact'>): Router {
  const router = Router();
  const robots = robotsTxt(config.publicUrl);
  // One statement per load, shared between crawlers for PUBLIC_CACHE_SECONDS like the public pages' data.
  const sitemap = publicCache(config.publicCacheSeconds, async () => ({ xml: sitemapXml(await sitemapUrls(db, config.publicUrl)) }));

  // Where people write and send gifts, all from configuration (res.locals.contact and res.locals.charity,
  // set in app.ts). No form: a mailto link gives spammers nothing to post to.
  router.get('/contact', allow.anyone, (_req, res) => {
    const t = res.locals.t as TFunction;
    res.render('site/contact', {
      title: t('site:contact.title'),
      share: { description: t('site:contact.description'), path: '/contact' },
      mailto: `mailto:${config.contact.email}`,
    });
  });
  router.get('/robots.txt', allow.anyone, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=86400').type('text/plain').send(robots);
  });
  router.get('/sitemap.xml', allow.anyone, async (_req, res) => {
    // An hour: crawlers read it now and then, and a group approved meanwhile waits for the next read.
    res.set('Cache-Control', 'public, max-age=3600').type('application/xml').send((await sitemap.get('sitemap')).xml);
  });
  return router;
}
