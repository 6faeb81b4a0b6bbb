import { Router } from 'express';
import type { Db } from '../db/database';
import { listDonorWall } from '../giving/donor-wall';
import { allow } from '../http/policy';
import { campaignTotals, requireCurrentCampaign } from './campaign';
import { toProgress } from './progress';

export function campaignRoutes(db: Db): Router {
  const router = Router();

  router.get('/', allow.anyone, async (_req, res) => {
    const campaign = await requireCurrentCampaign(db);
    const totals = await campaignTotals(db, campaign);
    const wall = await listDonorWall(db, { limit: 12 });
    res.render('campaign/home', {
      title: campaign.title,
      campaign,
      totals,
      storyParagraphs: campaign.story.split(/\n{2,}/),
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
