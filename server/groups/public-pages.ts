import { sql } from 'kysely';
import type { Db } from '../db/database';
import { DomainError } from '../domain-error';
import { type Progress, toProgress } from '../campaign/progress';
import { approvedPhotoOf, type PhotoMeta } from './photos';
import { type FundingPosition, fundingPosition, fundingPositions } from './readiness';

export const PAGE_SIZE = 20;

export type PublicGroupCard = {
  slug: string;
  name: string;
  city: string;
  province: string;
  targetCents: number;
  receivedCents: number;
  pledgedOutstandingCents: number;
  goal: { ratio: number; reached: boolean };
  progress: Progress;
};

/**
 * Approved groups, by slug, optionally those whose city starts with `city`, keyset-paged: `after`
 * is the last slug of the previous page, with what each raised of its target. Declared columns
 * only: nothing about members or matches.
 */
export async function listPublicGroups(db: Db, filter: { city?: string; after?: string; limit?: number }) {
  const limit = filter.limit ?? PAGE_SIZE;
  let query = db
    .selectFrom('sponsor_groups')
    .select(['id', 'slug', 'name', 'city', 'province'])
    .where('status', '=', 'approved')
    .orderBy('slug')
    .limit(limit + 1);
  if (filter.city) query = query.where(sql`lower(city)`, 'like', `${filter.city.toLowerCase().replace(/[%_\\]/g, '\\$&')}%`);
  if (filter.after) query = query.where('slug', '>', filter.after);
  const rows = await query.execute();
  const shown = rows.slice(0, limit);
  // The page's groups' money in one batch (a fixed number of queries, not one per group), as each group's page counts it.
  const funding = shown.length ? await fundingPositions(db, shown.map((r) => r.id)) : new Map<number, FundingPosition>();
  const groups: PublicGroupCard[] = shown.map(({ id, ...card }) => {
    const position = funding.get(id)!;
    const receivedCents = Math.max(0, position.receivedCents);
    return {
      ...card,
      targetCents: position.requirementCents,
      receivedCents,
      pledgedOutstandingCents: position.pledgedOutstandingCents,
      goal: goalProgress(receivedCents, position.requirementCents),
      progress: toProgress(receivedCents, position.pledgedOutstandingCents, position.requirementCents),
    };
  });
  return { groups, nextAfter: rows.length > limit ? rows[limit - 1]!.slug : undefined };
}

/**
 * What a group raised as part of its target, in whole percent (floored: 99.6 % is not "100 %"
 * before the goal is reached), and whether received money reached it (pledges do not count).
 */
export function goalProgress(receivedCents: number, targetCents: number): { ratio: number; reached: boolean } {
  if (targetCents <= 0) return { ratio: 0, reached: false };
  return { ratio: Math.floor((Math.max(0, receivedCents) * 100) / targetCents) / 100, reached: receivedCents >= targetCents };
}

export type PublicGroupPage = {
  id: number;
  slug: string;
  name: string;
  city: string;
  province: string;
  languages: string[];
  storyHtml: string;
  /** The story in Korean, for Korean pages; null until the group writes one. */
  storyKoHtml: string | null;
  /** The story in French, for French pages; null until the group writes one. */
  storyFrHtml: string | null;
  /** The latest photo staff approved (never the family's), if any. */
  photo: PhotoMeta | undefined;
  targetCents: number;
  receivedCents: number;
  pledgedOutstandingCents: number;
};

/** An approved group's public page; any other group (applied, rejected, unknown) is not found. */
export async function requirePublicGroup(db: Db, slug: string): Promise<PublicGroupPage> {
  const group = await db
    .selectFrom('sponsor_groups')
    .select(['id', 'slug', 'name', 'city', 'province', 'languages', 'story_html', 'story_ko_html', 'story_fr_html'])
    .where('slug', '=', slug)
    .where('status', '=', 'approved')
    .executeTakeFirst();
  if (!group) throw new DomainError('not_found', 'groups:errors.notFound');
  const [funding, photo]: [FundingPosition, PhotoMeta | undefined] = await Promise.all([fundingPosition(db, group.id), approvedPhotoOf(db, group.id)]);
  return {
    id: group.id,
    slug: group.slug,
    name: group.name,
    city: group.city,
    province: group.province,
    languages: group.languages,
    storyHtml: group.story_html,
    storyKoHtml: group.story_ko_html || null,
    storyFrHtml: group.story_fr_html || null,
    photo,
    targetCents: funding.requirementCents,
    receivedCents: Math.max(0, funding.receivedCents),
    pledgedOutstandingCents: funding.pledgedOutstandingCents,
  };
}

/**
 * The groups a donor may name as a non-binding preference on the giving form: approved groups,
 * by name. (For giving's group-preferences.ts.)
 */
export async function listPreferableGroups(db: Db): Promise<{ id: number; name: string }[]> {
  return db.selectFrom('sponsor_groups').select(['id', 'name']).where('status', '=', 'approved').orderBy('name').orderBy('id').execute();
}

export async function isPreferableGroup(db: Db, groupId: number): Promise<boolean> {
  if (!Number.isSafeInteger(groupId) || groupId <= 0) return false;
  const row = await db.selectFrom('sponsor_groups').select('id').where('id', '=', groupId).where('status', '=', 'approved').executeTakeFirst();
  return row !== undefined;
}

/** Each group's name by id, for pages and exports that name a group (reports, the journal): every status, since money may have been raised for a group later rejected. */
export async function groupNamesOf(db: Db, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('sponsor_groups').select(['id', 'name']).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}
