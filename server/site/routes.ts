import { Router } from 'express';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { allow } from '../http/policy';
import { publicCache } from '../http/public-cache';
import { robotsTxt } from './robots';
import { sitemapUrls, sitemapXml } from './sitemap';

/** What crawlers read: /robots.txt and /sitemap.xml (README.md). */
export function siteRoutes(db: Db, config: Pick<Config, 'publicUrl' | 'publicCacheSeconds'>): Router {
  const router = Router();
  const robots = robotsTxt(config.publicUrl);
  // One statement per load, shared between crawlers for PUBLIC_CACHE_SECONDS like the public pages' data.
  const sitemap = publicCache(config.publicCacheSeconds, async () => ({ xml: sitemapXml(await sitemapUrls(db, config.publicUrl)) }));

  router.get('/robots.txt', allow.anyone, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=86400').type('text/plain').send(robots);
  });
  router.get('/sitemap.xml', allow.anyone, async (_req, res) => {
    // An hour: crawlers read it now and then, and a group approved meanwhile waits for the next read.
    res.set('Cache-Control', 'public, max-age=3600').type('application/xml').send((await sitemap.get('sitemap')).xml);
  });
  return router;
}
