/**
 * /robots.txt (RFC 9309): public pages may be crawled; the staff area, the group workspace, the
 * donor page, the giving flow's per-pledge pages, sign-in and account pages, and the JSON API may
 * not. RFC 9309 §2.2.2 picks the longest matching rule, so `Allow: /groups` keeps the public group
 * list and pages crawlable under `Disallow: /group` (the workspace, /group and /group/…).
 */
export const DISALLOWED_PATHS = [
  '/staff',
  '/group',
  '/groups/apply/thanks',
  '/donor',
  '/give/thanks/',
  '/give/pledged/',
  '/give/monthly/',
  '/account',
  '/sign-in',
  '/forgot-password',
  '/reset-password',
  '/accept-invitation',
  '/enrol',
  '/api/',
] as const;

export function robotsTxt(publicUrl: string): string {
  return [
    'User-agent: *',
    'Allow: /',
    'Allow: /groups',
    ...DISALLOWED_PATHS.map((p) => `Disallow: ${p}`),
    '',
    `Sitemap: ${publicUrl}/sitemap.xml`,
    '',
  ].join('\n');
}
