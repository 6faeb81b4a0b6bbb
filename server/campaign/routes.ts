import { type Response, Router } from 'express';
import { z } from 'zod';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { listDonorWall } from '../giving/donor-wall';
import { optionalText, parseForm, text } from '../http/forms';
import { actorOf, allow } from '../http/policy';
import { publicCache, publicPageCache } from '../http/public-cache';
import type { Locale } from '../i18n/i18n';
import { type Campaign, campaignText, currentCampaignWithTotals, requireCurrentCampaign, updateCampaignText } from './campaign';
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

  // Staff write the campaign's words in each language (the original is required; French and Korean fall back to it when empty).
  const renderEditor = (res: Response, campaign: Campaign, status = 200, values?: Record<string, unknown>, errors: Record<string, string> = {}) =>
    res.status(status).render('campaign/staff-text', {
      title: res.locals.t('campaign:staff.title'),
      values: values ?? wordsOf(campaign),
      languages: [
        { lang: 'en', suffix: '' },
        { lang: 'fr', suffix: 'Fr' },
        { lang: 'ko', suffix: 'Ko' },
      ],
      errors,
      saved: res.req.query.saved === '1',
      noindex: true,
    });
  router.get('/staff/campaign', allow.staff, async (_req, res) => renderEditor(res, await requireCurrentCampaign(db)));
  router.post('/staff/campaign', allow.staff, async (req, res) => {
    const campaign = await requireCurrentCampaign(db);
    const form = parseForm(CampaignTextForm, req);
    if (!form.ok) return renderEditor(res, campaign, 400, form.values, form.fieldErrors);
    const d = form.data;
    await db.transaction().execute((trx) =>
      updateCampaignText(trx, {
        campaignId: campaign.id,
        en: { title: d.title, summary: d.summary, story: d.story },
        fr: { title: d.titleFr, summary: d.summaryFr, story: d.storyFr },
        ko: { title: d.titleKo, summary: d.summaryKo, story: d.storyKo },
        actor: actorOf(res, 'email'),
      }),
    );
    // Visitors see the new words at once here (other processes within the cache's second).
    current.forget('home');
    pages.forgetPath('/');
    res.redirect(303, '/staff/campaign?saved=1');
  });

  return router;
}

const CampaignTextForm = z.object({
  title: text(200),
  summary: text(1000),
  story: text(20_000),
  titleFr: optionalText(200),
  summaryFr: optionalText(1000),
  storyFr: optionalText(20_000),
  titleKo: optionalText(200),
  summaryKo: optionalText(1000),
  storyKo: optionalText(20_000),
});

function wordsOf(c: Campaign): Record<string, string> {
  return {
    title: c.title,
    summary: c.summary,
    story: c.story,
    titleFr: c.french.title ?? '',
    summaryFr: c.french.summary ?? '',
    storyFr: c.french.story ?? '',
    titleKo: c.korean.title ?? '',
    summaryKo: c.korean.summary ?? '',
    storyKo: c.korean.story ?? '',
  };
}
