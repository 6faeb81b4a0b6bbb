import { type Response, Router } from 'express';
import { z } from 'zod';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { listDonorWall } from '../giving/donor-wall';
import { optionalText, parseForm, text } from '../http/forms';
import { actorOf, allow } from '../http/policy';
import { publicCache, publicPageCache } from '../http/public-cache';
import { formatMoney } from '../http/views';
import { isLocale, type Locale, translatorFor } from '../i18n/i18n';
import { type Campaign, campaignText, currentCampaignWithTotals, requireCurrentCampaign, updateCampaignText } from './campaign';
import { monthlySupportCents } from './impact';
import { fractionOfGoal, toProgress } from './progress';
import { renderSharePng, shareImageContent, shareImageSvg } from './share-image';

/** Where the share image is served; the page's og:image points here with its language. */
export const SHARE_IMAGE_PATH = '/campaign/share.png';

export function campaignRoutes(db: Db, config: Pick<Config, 'publicCacheSeconds' | 'publicUrl'>): Router {
  const router = Router();
  // What every visitor of the home page sees alike, reused for config.publicCacheSeconds.
  const current = publicCache(config.publicCacheSeconds, async () => {
    // Three statements at once: the campaign with its totals, the donor wall, and the cost table's monthly support.
    const [{ campaign, totals }, wall, monthlyCents] = await Promise.all([currentCampaignWithTotals(db), listDonorWall(db, { limit: 12 }), monthlySupportCents(db)]);
    return { campaign, totals, wall, monthlyCents };
  });
  const pages = publicPageCache(config.publicCacheSeconds);
  // The share image per language, rendered once per cache period however many people share at once.
  const images = publicCache(config.publicCacheSeconds, async (locale) => {
    const { campaign, totals } = await current.get('home');
    return { png: renderSharePng(shareImageSvg(shareImageContent(campaign, totals, locale as Locale))) };
  }, 3);

  router.get('/', allow.anyone, pages.middleware, async (_req, res) => {
    const { campaign, totals, wall, monthlyCents } = await current.get('home');
    const locale = res.locals.locale as Locale;
    const text = campaignText(campaign, locale);
    const t = translatorFor(locale);
    const money = (cents: number) => formatMoney(cents, locale, { whole: true });
    res.render('campaign/home', {
      title: text.title,
      campaign: { ...campaign, ...text },
      totals,
      storyParagraphs: text.story.split(/\n{2,}/),
      progress: toProgress(totals.raisedCents, totals.pledgedOutstandingCents, totals.goalCents),
      fractionOfGoal: fractionOfGoal(totals.raisedCents, totals.goalCents),
      impact: monthlyCents === null ? null : t('campaign:impact', { amount: money(monthlyCents) }),
      wall,
      shareUrl: `${config.publicUrl}/`,
      shareText: text.title,
      share: {
        description: plainSummary(text.summary),
        path: '/',
        imagePath: `${SHARE_IMAGE_PATH}?lang=${locale}`,
        imageAlt: t('campaign:share.imageAlt', { raised: money(totals.raisedCents), goal: money(totals.goalCents) }),
      },
    });
  });

  // One URL, one picture: the language is ?lang= (English without it), never the visitor's cookie,
  // so a shared cache may keep it; and no Set-Cookie on a public answer.
  router.get(SHARE_IMAGE_PATH, allow.anyone, async (req, res) => {
    const { png } = await images.get(isLocale(req.query.lang) ? req.query.lang : 'en');
    res.removeHeader('Set-Cookie');
    res.set('Cache-Control', 'public, max-age=300');
    res.type('png').send(png);
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
    for (const locale of ['en', 'fr', 'ko']) images.forget(locale);
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

/** A meta description: the summary as one line of plain text, at most 160 characters (cut at a word, with an ellipsis). */
export function plainSummary(summary: string, max = 160): string {
  const line = summary.replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  const cut = line.slice(0, max - 1);
  const atWord = cut.lastIndexOf(' ');
  return `${(atWord > max / 2 ? cut.slice(0, atWord) : cut).replace(/[\s,.;:]+$/, '')}…`;
}
