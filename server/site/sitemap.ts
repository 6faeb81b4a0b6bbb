import type { Db } from '../db/database';
import { listPublicGroups } from '../groups/public-pages';

/** The sitemaps.org protocol's limit for one file: past it a sitemap index would be needed. */
export const SITEMAP_MAX_URLS = 50_000;

/** The public pages that are always there: the campaign, the giving form, the group list, privacy. */
const FIXED_PATHS = ['/', '/give', '/groups', '/contact', '/privacy'];

/**
 * The public pages, as absolute URLs under PUBLIC_URL: the fixed pages and each approved group's
 * page (groups' own public rule, listPublicGroups: an applied or rejected group is not public).
 * Nothing about families is public, so nothing about them is here.
 */
export async function sitemapUrls(db: Db, publicUrl: string): Promise<string[]> {
  const { groups } = await listPublicGroups(db, { limit: SITEMAP_MAX_URLS - FIXED_PATHS.length });
  return [...FIXED_PATHS, ...groups.map((g) => `/groups/${encodeURIComponent(g.slug)}`)].map((p) => `${publicUrl}${p}`);
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** A sitemaps.org 0.9 urlset (entity-escaped, as the protocol requires). */
export function sitemapXml(urls: readonly string[]): string {
  const entries = urls.map((u) => `  <url><loc>${u.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!)}</loc></url>`);
  return ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', ...entries, '</urlset>', ''].join('\n');
}
