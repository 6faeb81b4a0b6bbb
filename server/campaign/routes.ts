import { Router } from 'express';
import type { Db } from '../db/database';
import { listDonorWall } from '../giving/donor-wall';
import { allow } from '../http/policy';
import type { Locale } from '../i18n/i18n';
import { campaignText, campaignTotals, requireCurrentCampaign } from './campaign';
import { toProgress } from './progress';

export function campaignRoutes(db: Db): Router {
  const router = Router();

  router.get('/', allow.anyone, async (_req, res) => {
    const campaign = await requireCurrentCampaign(db);
    const totals = await campaignTotals(db, campaign);
    const text = campaignText(campaign, res.locals.locale as Locale);
    const wall = await listDonorWall(db, { limit: 12 });
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
    const campaign = await requireCurrentCampaign(db);
    res.set('Cache-Control', 'public, max-age=5');
    res.json(await campaignTotals(db, campaign));
  });

  return router;
}
