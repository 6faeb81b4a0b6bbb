import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { keyringOf } from '../../server/families/data-keys';
import { rejectGroup } from '../../server/groups/applications';
import { availableFamily, SENTINELS } from '../families/factories';
import { makeApprovedGroup, makeGroup, staffActor } from '../groups/factories';
import { createTestApp, type TestApp } from '../support/app';

/**
 * /robots.txt and /sitemap.xml (issue 18). External references: RFC 9309 (Robots Exclusion
 * Protocol: groups, Allow/Disallow, the longest match wins, §2.2.2) and the sitemaps.org 0.9
 * protocol (urlset, absolute <loc> URLs, entity-escaped).
 */
const familyKey = randomBytes(32);
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ PUBLIC_URL: 'https://give.hanvoice.test', FAMILY_DATA_KEY: familyKey.toString('hex') });
});
afterAll(() => t.destroy());

/** RFC 9309's matching for one user agent's group: the longest matching path wins; on a tie, Allow. */
function allowed(robots: string, path: string): boolean {
  const rules = robots
    .split('\n')
    .map((line) => /^(allow|disallow):\s*(\S*)/i.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null && m[2] !== '')
    .map((m) => ({ allow: m[1]!.toLowerCase() === 'allow', path: m[2]! }));
  const matching = rules.filter((r) => path.startsWith(r.path)).sort((a, b) => b.path.length - a.path.length || Number(b.allow) - Number(a.allow));
  return matching[0]?.allow ?? true;
}

describe('GET /robots.txt', () => {
  it('lets crawlers read the public pages and keeps them out of the private ones, naming the sitemap under PUBLIC_URL', async () => {
    const res = await request(t.app).get('/robots.txt').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^User-agent: \*$/m);
    expect(res.text).toMatch(/^Sitemap: https:\/\/give\.hanvoice\.test\/sitemap\.xml$/m);
    for (const path of ['/', '/give', '/groups', '/groups/toronto-neighbours', '/privacy', '/groups/apply']) expect([path, allowed(res.text, path)]).toEqual([path, true]);
    for (const path of ['/staff', '/staff/families/1', '/group', '/group/page', '/donor', '/donor/account', '/give/thanks/12', '/give/pledged/12', '/give/monthly/3/cancel', '/sign-in', '/account/security', '/api/campaign']) {
      expect([path, allowed(res.text, path)]).toEqual([path, false]);
    }
  });
});

describe('GET /sitemap.xml', () => {
  it('lists the fixed public pages and each approved group, as absolute URLs from PUBLIC_URL; no applied or rejected group, no family', async () => {
    const approved = await makeApprovedGroup(t.db, { name: 'Sitemap Neighbours & Friends' });
    const applied = await makeGroup(t.db, { name: 'Sitemap Applied Only' });
    const rejected = await makeGroup(t.db, { name: 'Sitemap Rejected' });
    await t.db.transaction().execute((trx) => rejectGroup(trx, staffActor, rejected.id, 'Not a fit'));
    const family = await availableFamily(t.db, keyringOf(familyKey));

    const res = await request(t.app).get('/sitemap.xml').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/xml/);
    expect(res.text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<urlset xmlns="http:\/\/www\.sitemaps\.org\/schemas\/sitemap\/0\.9">/);
    const locs = [...res.text.matchAll(/<loc>([^<]*)<\/loc>/g)].map((m) => m[1]);
    expect(locs).toEqual([
      'https://give.hanvoice.test/',
      'https://give.hanvoice.test/give',
      'https://give.hanvoice.test/groups',
      'https://give.hanvoice.test/contact',
      'https://give.hanvoice.test/privacy',
      `https://give.hanvoice.test/groups/${approved.slug}`,
    ]);
    expect(res.text).not.toContain(applied.slug);
    expect(res.text).not.toContain(rejected.slug);
    for (const text of [family.caseCode, '/families', ...Object.values(SENTINELS)]) expect(res.text).not.toContain(text);
  });

  it('lists no page that robots.txt disallows', async () => {
    const robots = (await request(t.app).get('/robots.txt')).text;
    const sitemap = (await request(t.app).get('/sitemap.xml')).text;
    const paths = [...sitemap.matchAll(/<loc>https:\/\/give\.hanvoice\.test([^<]*)<\/loc>/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !allowed(robots, p))).toEqual([]);
  });
});
