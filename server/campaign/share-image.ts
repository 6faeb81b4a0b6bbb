import { Resvg } from '@resvg/resvg-js';
import { formatMoney, formatPercent } from '../http/views';
import { type Locale, translatorFor } from '../i18n/i18n';
import { fontFiles } from '../receipts/receipt-fonts';
import { type Campaign, type CampaignTotals, campaignText } from './campaign';
import { fractionOfGoal } from './progress';

/**
 * The picture a shared link shows (Open Graph / Twitter card, 1200×630): the campaign's title,
 * what was raised of the goal, the percent and a progress bar, in one language. Only campaign
 * figures and words staff wrote for the public page: never a family's photo or anything about one.
 * Built as SVG (text escaped), then rendered to PNG by resvg with the fonts Haven ships for
 * receipts (Noto Sans, then Noto Sans KR for Hangul), never the machine's own fonts.
 */
export const SHARE_IMAGE_WIDTH = 1200;
export const SHARE_IMAGE_HEIGHT = 630;

export type ShareImageContent = {
  locale: Locale;
  title: string;
  /** "$X raised of $250,000", as the page's headline. */
  headline: string;
  percent: string;
  /** Received and pledged-but-unpaid as parts of the goal, for the bar (0–1). */
  receivedFraction: number;
  pledgedFraction: number;
  families: string;
};

export function shareImageContent(campaign: Campaign, totals: CampaignTotals, locale: Locale): ShareImageContent {
  const t = translatorFor(locale);
  const money = (cents: number) => formatMoney(cents, locale, { whole: true });
  const part = (cents: number) => (totals.goalCents > 0 ? Math.min(1, Math.max(0, cents) / totals.goalCents) : 0);
  const received = part(totals.raisedCents);
  return {
    locale,
    title: campaignText(campaign, locale).title,
    headline: t('campaign:progress.headline', { raised: money(totals.raisedCents), goal: money(totals.goalCents) }),
    percent: formatPercent(fractionOfGoal(totals.raisedCents, totals.goalCents), locale),
    receivedFraction: received,
    pledgedFraction: Math.min(1 - received, part(totals.pledgedOutstandingCents)),
    families: t('campaign:stats.familiesValue', { sponsored: totals.familiesSponsored, goal: totals.familiesGoal }),
  };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

// Latin first, Hangul (and anything Noto Sans lacks) falling back to Noto Sans KR; Korean first in Korean (so it is bold).
const familiesFor = (locale: Locale) => (locale === 'ko' ? "'Noto Sans KR', 'Noto Sans'" : "'Noto Sans', 'Noto Sans KR'");
const BAR = { x: 80, y: 470, width: 1040, height: 36 };
const TITLE_SIZE = 60;

export function shareImageSvg(c: ShareImageContent): string {
  const lines = wrap(c.title, BAR.width, TITLE_SIZE, 2);
  const received = Math.round(BAR.width * c.receivedFraction);
  const pledged = Math.round(BAR.width * c.pledgedFraction);
  const families = familiesFor(c.locale);
  const text = (x: number, y: number, size: number, fill: string, value: string, extra = '') =>
    `<text x="${x}" y="${y}" font-family="${families}" font-size="${size}" font-weight="700" fill="${fill}"${extra}>${escapeXml(value)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SHARE_IMAGE_WIDTH}" height="${SHARE_IMAGE_HEIGHT}" viewBox="0 0 ${SHARE_IMAGE_WIDTH} ${SHARE_IMAGE_HEIGHT}">`,
    `<rect width="${SHARE_IMAGE_WIDTH}" height="${SHARE_IMAGE_HEIGHT}" fill="#0b5cad"/>`,
    `<rect x="40" y="40" width="1120" height="550" rx="24" fill="#ffffff"/>`,
    text(80, 112, 30, '#0b5cad', 'Haven · HanVoice'),
    ...lines.map((line, i) => text(80, 200 + i * 76, TITLE_SIZE, '#1d2430', line)),
    text(80, 440, 44, '#1d2430', c.headline),
    text(1120, 440, 56, '#0b7a4b', c.percent, ' text-anchor="end"'),
    `<rect x="${BAR.x}" y="${BAR.y}" width="${BAR.width}" height="${BAR.height}" rx="${BAR.height / 2}" fill="#d5dbe3"/>`,
    received > 0 ? `<rect x="${BAR.x}" y="${BAR.y}" width="${received}" height="${BAR.height}" rx="${BAR.height / 2}" fill="#0b7a4b"/>` : '',
    pledged > 0 ? `<rect x="${BAR.x + received}" y="${BAR.y}" width="${pledged}" height="${BAR.height}" fill="#8fd3b3"/>` : '',
    text(80, 556, 30, '#4a5566', c.families),
    '</svg>',
  ].join('');
}

/** Rough advance widths (em) for line breaking: Hangul and CJK are square, Latin bold about 0.6. */
function widthOf(text: string, size: number): number {
  let em = 0;
  for (const char of text) em += /[\u1100-\u11ff\u3000-\u9fff\uac00-\ud7af\uff00-\uffef]/.test(char) ? 1 : 0.56;
  return em * size;
}

/** Greedy word wrap to at most maxLines lines; what does not fit ends in an ellipsis. */
export function wrap(text: string, width: number, size: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.trim().split(/\s+/)) {
    const candidate = line ? `${line} ${word}` : word;
    if (widthOf(candidate, size) <= width || !line) line = candidate;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  let last = kept[maxLines - 1]!;
  while (last.length > 1 && widthOf(`${last}…`, size) > width) last = last.slice(0, -1);
  kept[maxLines - 1] = `${last.trimEnd()}…`;
  return kept;
}

/**
 * The SVG as PNG, set in Haven's own fonts. Every text is bold, so only the bold files load; Noto
 * Sans KR (6 MB) only when the text has a letter beyond Latin and punctuation (a Korean image, or
 * a title with Hangul): it is most of a render's time.
 */
export function shareImageFonts(svg: string): string[] {
  const [latin, hangul] = fontFiles('bold');
  return /[^\t\n\r\u0020-\u024f\u2000-\u206f\u20a0-\u20cf]/.test(svg) ? [latin!, hangul!] : [latin!];
}

export function renderSharePng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'original' },
    font: { fontFiles: shareImageFonts(svg), loadSystemFonts: false, defaultFontFamily: 'Noto Sans' },
  });
  return resvg.render().asPng();
}
