import type { TFunction } from 'i18next';
import type { Db } from '../db/database';
import { formatMoney } from '../http/views';
import type { Locale } from '../i18n/i18n';
import { IMPACT_FAMILY_SIZE, monthlyFromYearly } from '../campaign/impact';
import { currentRequirement } from '../groups/cost-tables';
import { effectiveFrequency } from '../receipts/issuing';
import type { ReceiptFrequency } from '../db/schema';

/** What the thank-you and pay-later pages tell a donor about their gift: its impact, its group preference, its receipts, where to share it. */

/**
 * What a gift means for a family (the thank-you page): the current Sponsorship Cost Table's income
 * support for a family of four (rent and food, paid monthly; shared/DOMAIN.md), so "about 2 days"
 * is that year's figure spread over 365 days, always rounded down.
 */
export type GiftImpact =
  | { unit: 'months' | 'days'; count: number; monthlyCents: number; editionOn: string }
  | { unit: 'perDay'; perDayCents: number; monthlyCents: number; editionOn: string };

/** Whole months, else whole days, of a year's income support; below one day, the cost of one day. */
export function impactOf(giftCents: number, yearlyCents: number, editionOn: string): GiftImpact | undefined {
  if (!(yearlyCents > 0) || !(giftCents > 0)) return undefined;
  // The month quoted beside it is the campaign page's figure (to the dollar); the counts below are rounded down.
  const monthlyCents = monthlyFromYearly(yearlyCents);
  const months = Math.floor((giftCents * 12) / yearlyCents);
  if (months >= 1) return { unit: 'months', count: months, monthlyCents, editionOn };
  const days = Math.floor((giftCents * 365) / yearlyCents);
  if (days >= 1) return { unit: 'days', count: days, monthlyCents, editionOn };
  return { unit: 'perDay', perDayCents: Math.floor(yearlyCents / 365), monthlyCents, editionOn };
}

/** The impact of `giftCents` under the current edition; undefined while there is no cost table. */
export async function giftImpact(db: Db, giftCents: number): Promise<GiftImpact | undefined> {
  const requirement = await currentRequirement(db, IMPACT_FAMILY_SIZE).catch(() => undefined);
  return requirement && impactOf(giftCents, requirement.incomeSupportCents, requirement.editionOn);
}

/** "Your $100 is about 1 day of rent and food for a family of four" (each month, for a monthly gift), in the page's language. */
export function impactSentence(t: TFunction, impact: GiftImpact, monthly: boolean, locale: Locale): string {
  const each = monthly ? 'Monthly' : '';
  if (impact.unit === 'perDay') return t(`giving:thanks.impact.perDay${each}`, { perDay: formatMoney(impact.perDayCents, locale) });
  return t(`giving:thanks.impact.${impact.unit}${each}`, { count: impact.count });
}

/** The group a gift named as its (non-binding) preference, with its public page while it has one. Never a family. */
export async function preferredGroupOf(db: Db, pledgeId: number): Promise<{ name: string; path: string | null } | undefined> {
  const row = await db
    .selectFrom('pledges')
    .innerJoin('sponsor_groups as g', 'g.id', 'pledges.group_id')
    .select(['g.name', 'g.slug', 'g.status'])
    .where('pledges.id', '=', pledgeId)
    .executeTakeFirst();
  return row && { name: row.name, path: row.status === 'approved' ? `/groups/${row.slug}` : null };
}

/** How this gift will be receipted (server/receipts/README.md): per gift once paid, or in the year's annual receipt. */
export async function receiptFrequencyOf(db: Db, pledgeId: number): Promise<ReceiptFrequency> {
  const row = await db
    .selectFrom('pledges as pl')
    .innerJoin('pledge_donors as pd', 'pd.pledge_id', 'pl.id')
    .innerJoin('donors as d', 'd.id', 'pl.donor_id')
    .select(effectiveFrequency.as('frequency'))
    .where('pl.id', '=', pledgeId)
    .executeTakeFirst();
  return row?.frequency ?? 'per_gift';
}

