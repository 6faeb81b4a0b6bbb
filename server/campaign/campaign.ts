import { type Expression, sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Database } from '../db/schema';
import type { Db } from '../db/database';
import { DomainError } from '../domain-error';
import { accounts } from '../ledger/accounts';
import type { Locale } from '../i18n/i18n';
import { balanceExpression } from '../ledger/ledger';
import { approvedMatchCount } from '../matching/matches';

export type Campaign = {
  id: number;
  slug: string;
  title: string;
  summary: string;
  story: string;
  goalCents: number;
  familiesGoal: number;
  currency: string;
  /** The campaign's own words in French, where staff have written them. */
  french: { title: string | null; summary: string | null; story: string | null };
  /** The campaign's own words in Korean, where staff have written them. */
  korean: { title: string | null; summary: string | null; story: string | null };
};

export type CampaignTotals = {
  goalCents: number;
  /** Money received for the campaign, less refunds and lost disputes. */
  raisedCents: number;
  /** Promised by pay-later and fixed-term pledges and not yet received. */
  pledgedOutstandingCents: number;
  donorCount: number;
  familiesGoal: number;
  familiesSponsored: number;
  currency: string;
};

/** The campaign the home page shows: the oldest active one. */
export async function requireCurrentCampaign(db: Db): Promise<Campaign> {
  return toCampaign(await currentCampaignQuery(db).executeTakeFirst());
}

/**
 * The current campaign and its totals in ONE statement (the campaign row with the balances,
 * counters and match count as subqueries): what the home page and /api/campaign need.
 */
export async function currentCampaignWithTotals(db: Db): Promise<{ campaign: Campaign; totals: CampaignTotals }> {
  const row = await currentCampaignQuery(db)
    .select((eb) => [...totalsColumns(eb.ref('campaigns.id'))])
    .executeTakeFirst();
  const campaign = toCampaign(row);
  return { campaign, totals: toTotals(campaign, row!) };
}

function currentCampaignQuery(db: Db) {
  return db
    .selectFrom('campaigns')
    .select(['id', 'slug', 'title', 'summary', 'story', 'title_fr', 'summary_fr', 'story_fr', 'title_ko', 'summary_ko', 'story_ko', 'goal_cents', 'families_goal', 'currency'])
    .where('status', '=', 'active')
    .orderBy('id')
    .limit(1);
}

type CampaignRow = Awaited<ReturnType<ReturnType<typeof currentCampaignQuery>['executeTakeFirst']>>;

function toCampaign(row: CampaignRow): Campaign {
  if (!row) throw new DomainError('not_found', 'campaign:errors.noActive');
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    summary: row.summary,
    story: row.story,
    goalCents: row.goal_cents,
    familiesGoal: row.families_goal,
    currency: row.currency,
    french: { title: row.title_fr, summary: row.summary_fr, story: row.story_fr },
    korean: { title: row.title_ko, summary: row.summary_ko, story: row.story_ko },
  };
}

/** The totals' figures as subquery columns: maintained balances and counters, a fixed number of index look-ups. */
function totalsColumns(campaignId: Expression<number>) {
  return [
    balanceExpression(accounts.allFunds).as('funds_balance'),
    balanceExpression(accounts.allReceivables).as('receivables_balance'),
    sql<number>`(select coalesce(sum(donor_count), 0)::bigint from campaign_counters where campaign_id = ${campaignId})`.as('donor_count'),
    approvedMatchCount().as('families_sponsored'),
  ] as const;
}

type TotalsRow = { funds_balance: number; receivables_balance: number; donor_count: number; families_sponsored: number };

function toTotals(campaign: Campaign, row: TotalsRow): CampaignTotals {
  return {
    goalCents: campaign.goalCents,
    raisedCents: 0 - row.funds_balance,
    pledgedOutstandingCents: row.receivables_balance,
    donorCount: row.donor_count,
    familiesGoal: campaign.familiesGoal,
    familiesSponsored: row.families_sponsored,
    currency: campaign.currency,
  };
}

/** The campaign's title, summary and story in a language, falling back to the original words. */
export function campaignText(campaign: Campaign, locale: Locale): { title: string; summary: string; story: string } {
  if (locale !== 'en') {
    const own = locale === 'fr' ? campaign.french : campaign.korean;
    return { title: own.title ?? campaign.title, summary: own.summary ?? campaign.summary, story: own.story ?? campaign.story };
  }
  return { title: campaign.title, summary: campaign.summary, story: campaign.story };
}

export type CampaignWords = { title: string; summary: string; story: string };

/**
 * Staff set the campaign's own words: the original (English) and, where written, French and
 * Korean (empty: that language shows the original). Audited with what they were before.
 */
export async function updateCampaignText(
  trx: Transaction<Database>,
  input: { campaignId: number; en: CampaignWords; fr: CampaignWords; ko: CampaignWords; actor: Actor },
): Promise<void> {
  const before = await trx
    .selectFrom('campaigns')
    .select(['title', 'summary', 'story', 'title_fr', 'summary_fr', 'story_fr', 'title_ko', 'summary_ko', 'story_ko'])
    .where('id', '=', input.campaignId)
    .forUpdate()
    .executeTakeFirst();
  if (!before) throw new DomainError('not_found', 'campaign:errors.noCampaign');
  const orNull = (v: string) => (v.trim() === '' ? null : v);
  const after = {
    title: input.en.title,
    summary: input.en.summary,
    story: input.en.story,
    title_fr: orNull(input.fr.title),
    summary_fr: orNull(input.fr.summary),
    story_fr: orNull(input.fr.story),
    title_ko: orNull(input.ko.title),
    summary_ko: orNull(input.ko.summary),
    story_ko: orNull(input.ko.story),
  };
  await trx.updateTable('campaigns').set(after).where('id', '=', input.campaignId).execute();
  await writeAudit(trx, { actor: input.actor, action: 'campaign.text_edited', subject: `campaign:${input.campaignId}`, details: { before, after } });
}

/**
 * The campaign's totals, each read from maintained balances and counters: a fixed number of
 * index look-ups however many gifts there are, in one statement. All funds belong to the one
 * campaign today; a second campaign would give each campaign its own fund prefix.
 */
export async function campaignTotals(db: Db, campaign: Campaign): Promise<CampaignTotals> {
  const row = await db
    .selectNoFrom(() => [...totalsColumns(sql<number>`${campaign.id}::bigint`)])
    .executeTakeFirstOrThrow();
  return toTotals(campaign, row);
}
