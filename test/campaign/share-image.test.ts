import fs from 'node:fs';
import * as fontkit from 'fontkit';
import { renderSharePng, shareImageContent, shareImageFonts, shareImageSvg, wrap } from '../../server/campaign/share-image';
import type { Campaign, CampaignTotals } from '../../server/campaign/campaign';
import { fontFiles } from '../../server/receipts/receipt-fonts';

/**
 * The share image's SVG (the words and figures in each language) and its PNG, read back from the
 * bytes as the PNG specification lays them out (W3C PNG, 2nd ed.: the 8-byte signature, then the
 * IHDR chunk with width and height as big-endian 32-bit integers at bytes 16 and 20).
 */
const campaign: Campaign = {
  id: 1,
  slug: 'five-families',
  title: 'Sponsor five families & <welcome> them',
  summary: 'Summary',
  story: 'Story',
  goalCents: 25_000_000,
  familiesGoal: 5,
  currency: 'CAD',
  french: { title: 'Parrainer cinq familles', summary: null, story: null },
  korean: { title: '다섯 가족을 후원해 주세요', summary: null, story: null },
};
const totals: CampaignTotals = { goalCents: 25_000_000, raisedCents: 10_512_300, pledgedOutstandingCents: 2_500_000, donorCount: 12, familiesGoal: 5, familiesSponsored: 1, currency: 'CAD' };
const nbsp = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

test('the SVG carries the title, the amounts and the percent in the locale, text escaped', () => {
  const en = shareImageSvg(shareImageContent(campaign, totals, 'en'));
  // $105,123 of $250,000 is 42.05 %: "42%".
  expect(en).toContain('$105,123 raised of $250,000');
  expect(en).toContain('>42%<');
  expect(en).toContain('1 of 5 families sponsored');
  // The title (wrapped over two lines here) with its markup characters escaped.
  expect(en).toContain('>Sponsor five families &amp;</text>');
  expect(en).toContain('>&lt;welcome&gt; them</text>');
  expect(en).not.toContain('<welcome>');

  const fr = nbsp(shareImageSvg(shareImageContent(campaign, totals, 'fr')));
  expect(fr).toContain('105 123 $ recueillis sur 250 000 $');
  expect(fr).toContain('>42 %<');
  expect(fr).toContain('Parrainer cinq familles');

  const ko = shareImageSvg(shareImageContent(campaign, totals, 'ko'));
  expect(ko).toContain('목표 $250,000 중 $105,123 모금');
  expect(ko).toContain('>42%<');
  expect(ko).toContain('다섯 가족을 후원해 주세요');
  // Korean text is set in Noto Sans KR first.
  expect(ko).toContain("font-family=\"'Noto Sans KR', 'Noto Sans'\"");
});

test('the bar is received then pledged, within the track', () => {
  const svg = shareImageSvg(shareImageContent(campaign, totals, 'en'));
  // 1040 px track: 42.0492 % received is 437 px, 10 % pledged 104 px after it.
  expect(svg).toContain('<rect x="80" y="470" width="437"');
  expect(svg).toContain('<rect x="517" y="470" width="104"');
  const over = shareImageSvg(shareImageContent(campaign, { ...totals, raisedCents: 30_000_000 }, 'en'));
  expect(over).toContain('>120%<');
  expect(over).toContain('<rect x="80" y="470" width="1040"');
  expect(over).not.toContain('fill="#8fd3b3"');
});

test('a long title wraps to two lines and ends in an ellipsis', () => {
  const lines = wrap('word '.repeat(80), 1040, 60, 2);
  expect(lines).toHaveLength(2);
  expect(lines[1]!.endsWith('…')).toBe(true);
  expect(wrap('Short title', 1040, 60, 2)).toEqual(['Short title']);
});

test('the PNG is 1200×630, read back from its bytes', () => {
  const png = renderSharePng(shareImageSvg(shareImageContent(campaign, totals, 'ko')));
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  expect(png.readUInt32BE(16)).toBe(1200);
  expect(png.readUInt32BE(20)).toBe(630);
});

test('Korean text renders with a font that has its glyphs', () => {
  // The fonts handed to resvg for the Korean image: Noto Sans lacks Hangul, Noto Sans KR has every letter of it.
  const files = shareImageFonts(shareImageSvg(shareImageContent(campaign, totals, 'ko')));
  expect(files).toEqual(fontFiles('bold'));
  // An English image with no Hangul skips the 6 MB Korean font.
  expect(shareImageFonts(shareImageSvg(shareImageContent(campaign, totals, 'en')))).toEqual([fontFiles('bold')[0]]);
  const [latin, hangul] = files.map((file) => fontkit.create(fs.readFileSync(file)) as fontkit.Font);
  const text = [...shareImageContent(campaign, totals, 'ko').headline + campaign.korean.title!].filter((c) => /\p{Script=Hangul}/u.test(c));
  expect(text.length).toBeGreaterThan(10);
  expect(latin!.hasGlyphForCodePoint('목'.codePointAt(0)!)).toBe(false);
  for (const char of text) expect(hangul!.hasGlyphForCodePoint(char.codePointAt(0)!)).toBe(true);
  expect(hangul!.familyName).toBe('Noto Sans KR');
});
