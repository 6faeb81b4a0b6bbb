import { Router } from 'express';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { listDonorWall } from '../giving/donor-wall';
import { allow } from '../http/policy';
import { publicCache, publicPageCache } from '../http/public-cache';
import type { Locale } from '../i18n/i18n';
import { campaignText, currentCampaignWithTotals } from './campaign';
import { toProgress } from './progress';

export function campaignRoutes(db: Db, config: Pick<Config, 'publicCacheSeconds'>): Router {
  const router = Router();
  // What every visitor of the home page sees alike, reused for config.publicCacheSeconds.
  const current = publicCache(config.publicCacheSeconds, async () => {
    // Two statements at once: the campaign with its totals, and the donor wall.
    const [{ campaign, totals }, wall] = await Promise.all([currentCampaignWithTotals(db), listDonorWall(db, { limit: 12 })]);
    return { campaign, totals, wall };
  });
  const pages = publicPageCache(config.publicCacheSeconds);

  router.get('/', allow.anyone, pages.middleware, async (_req, res) => {
    const { campaign, totals, wall } = await current.get('home');
    const text = campaignText(campaign, res.locals.locale as Locale);
    res.render('campaign/home', {
      title: text.title,
      campaign: { ...campaign, ...text },
      totals,
      storyParagraphs: text.story.split(/\n{2,}/),
      progress: toProgress(totals.raisedCents, totals.pledgedOutstandingCents, totals.goalCents),
      wall,
    });
  });

  router.get('/api/campaign', allow.anyone, async (_req, res) => {
    const { totals } = await current.get('home');
    // Browsers and proxies add no more staleness than the server's own cache (README: PUBLIC_CACHE_SECONDS).
    res.set('Cache-Control', `public, max-age=${Math.ceil(config.publicCacheSeconds)}`);
    res.json(totals);
  });

  return router;
}
