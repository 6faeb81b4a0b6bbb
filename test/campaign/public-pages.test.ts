import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { currentCampaignWithTotals } from '../../server/campaign/campaign';
import { shareImageContent, shareImageSvg } from '../../server/campaign/share-image';
import { keyringOf } from '../../server/families/data-keys';
import { recordPayment } from '../../server/giving/payments';
import { fixedClock } from '../support/clock';
import { createApp } from '../../server/app';
import { createLogger } from '../../server/logger';
import { createTestApp, type TestApp, testConfig } from '../support/app';
import { makePledge } from '../support/gifts';
import { signInAs } from '../support/session';
import { availableFamily } from '../families/factories';
import { makeApprovedGroup } from '../groups/factories';

/**
 * The campaign page that spreads (issue 18): share tags, share links, percent, the impact line,
 * the donor wall's time and group; the header's Give button and the footer on every public page.
 * References: the Open Graph protocol (ogp.me: og:image absolute), RFC 3986 percent-encoding for
 * the share links (encodeURIComponent), Intl.RelativeTimeFormat and NumberFormat per locale.
 */
const clock = fixedClock('2026-12-01T12:00:30Z');
let t: TestApp;
let groupName: string;
beforeAll(async () => {
  t = await createTestApp({ PUBLIC_URL: 'https://give.hanvoice.test', CHARITY_REGISTRATION_NUMBER: '123456789 RR 0001', CONTACT_EMAIL: 'hello@hanvoice.test', ETRANSFER_EMAIL: 'etransfer@hanvoice.test', CHEQUE_MAILING_ADDRESS: 'PO Box 77, Station A, Toronto ON M5W 1A2' }, (deps) => ({ ...deps, clock }));
  // A family with identity sentinels: nothing of it may reach a public page or the share image.
  await availableFamily(t.db, keyringOf(randomBytes(32)));
  const group = await makeApprovedGroup(t.db);
  groupName = (await t.db.selectFrom('sponsor_groups').select('name').where('id', '=', group.id).executeTakeFirstOrThrow()).name;
  // $105,123 received: 42.05 % of $250,000.
  const gift = async (fields: Parameters<typeof makePledge>[1], amountCents: number, receivedAt: string, consent: boolean) => {
    const id = await makePledge(t.db, { amountCents, ...fields });
    await t.db.updateTable('pledges').set({ wall_consent: consent }).where('id', '=', id).execute();
    await t.db.transaction().execute((trx) => recordPayment(trx, { pledgeId: id, amountCents, method: 'cheque', reference: null, receivedAt: new Date(receivedAt) }));
  };
  await gift({ groupId: group.id, displayName: 'The Parks', publicMessage: 'Welcome home' }, 10_000_000, '2026-12-01T10:00:00Z', true);
  await gift({ groupId: group.id, displayName: 'Hidden Hana', publicMessage: 'Anonymous note', anonymous: true }, 500_000, '2026-11-28T12:00:00Z', true);
  await gift({ displayName: 'Quiet Quinn', publicMessage: 'Unconsented note' }, 12_300, '2026-12-01T11:59:00Z', false);
});
afterAll(() => t.destroy());

const nbsp = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');
/** A meta tag's content as a browser or crawler reads it (Handlebars writes '=' as &#x3D; in attributes). */
const meta = (html: string, attr: string, name: string) => {
  const raw = new RegExp(`<meta ${attr}="${name}" content="([^"]*)"`).exec(html)?.[1];
  return raw?.replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16))).replace(/&amp;/g, '&');
};

test('the campaign page has a description, a canonical link and Open Graph / Twitter tags, absolute from PUBLIC_URL', async () => {
  const res = await request(t.app).get('/').expect(200);
  const summary = (await t.db.selectFrom('campaigns').select('summary').executeTakeFirstOrThrow()).summary;
  const description = meta(res.text, 'name', 'description')!;
  expect(description.length).toBeLessThanOrEqual(160);
  expect(description).not.toMatch(/[<>]/);
  expect(summary.replace(/\s+/g, ' ').startsWith(description.replace(/…$/, ''))).toBe(true);
  expect(res.text).toContain('<link rel="canonical" href="https://give.hanvoice.test/">');
  expect(meta(res.text, 'property', 'og:url')).toBe('https://give.hanvoice.test/');
  expect(meta(res.text, 'property', 'og:image')).toBe('https://give.hanvoice.test/campaign/share.png?lang=en');
  expect(meta(res.text, 'name', 'twitter:card')).toBe('summary_large_image');
  expect(meta(res.text, 'property', 'og:image:alt')).toBe('Progress: $105,123 raised of $250,000');
  const fr = await request(t.app).get('/?lang=fr').expect(200);
  expect(meta(fr.text, 'property', 'og:image')).toBe('https://give.hanvoice.test/campaign/share.png?lang=fr');
  expect(nbsp(meta(fr.text, 'property', 'og:image:alt')!)).toBe('Progression : 105 123 $ recueillis sur 250 000 $');
});

test('the share image is a PNG in the requested language, cacheable, with no cookie', async () => {
  const res = await request(t.app).get('/campaign/share.png?lang=ko').buffer(true).parse((r, done) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => done(null, Buffer.concat(chunks)));
  });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('image/png');
  expect(res.headers['cache-control']).toBe('public, max-age=300');
  expect(res.headers['set-cookie']).toBeUndefined();
  const png = res.body as Buffer;
  expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
  expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1200, 630]);
});

test('share links carry the page URL and text encoded, and "Copy link" is a plain link to the page', async () => {
  const res = await request(t.app).get('/').expect(200);
  const url = encodeURIComponent('https://give.hanvoice.test/');
  expect(url).toBe('https%3A%2F%2Fgive.hanvoice.test%2F');
  for (const href of [
    `https://www.facebook.com/sharer/sharer.php?u=${url}`,
    `https://www.linkedin.com/sharing/share-offsite/?url=${url}`,
    `&amp;url=${url}"`,
    `https://wa.me/?text=`,
    'mailto:?subject=',
  ]) expect(res.text).toContain(href);
  expect(res.text).toMatch(/href="https:\/\/x\.com\/intent\/tweet\?text=[^"&\s]+&amp;url=/);
  expect(res.text).toMatch(/href="https:\/\/wa\.me\/\?text=[^" ]+%20https%3A%2F%2Fgive\.hanvoice\.test%2F"/);
  expect(res.text).toContain('<a class="button button--secondary" href="https://give.hanvoice.test/" data-copy-link');
  expect(res.text).toContain('<script src="/static/share-links.js" defer></script>');
  // No third-party script anywhere.
  expect([...res.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]).every((src) => src!.startsWith('/static/'))).toBe(true);
  await request(t.app).get('/static/share-links.js').expect(200);
});

test('the percent of goal in each language', async () => {
  expect((await request(t.app).get('/')).text).toContain('<strong>42%</strong>');
  expect(nbsp((await request(t.app).get('/?lang=fr')).text)).toContain('<strong>42 %</strong>');
  expect((await request(t.app).get('/?lang=ko')).text).toContain('<strong>42%</strong>');
});

test('the header has a Give button on public pages, not on /give itself nor in the workspaces', async () => {
  const give = '<a class="button site-header__give" href="/give">';
  for (const path of ['/', '/groups', '/contact', '/privacy', '/donor']) expect((await request(t.app).get(path)).text).toContain(give);
  const staff = await signInAs(t, 'staff');
  expect((await staff.agent.get('/staff')).text).not.toContain(give);
  expect((await request(t.app).get('/?lang=fr')).text).toContain(`${give}Donner</a>`);
  expect((await request(t.app).get('/give')).text).not.toContain(give);
});

test('the donor wall tells when each gift came and the group it prefers, names and messages only with consent', async () => {
  const res = await request(t.app).get('/').expect(200);
  const wall = res.text.slice(res.text.indexOf('class="donor-wall"'), res.text.indexOf('</section>', res.text.indexOf('class="donor-wall"')));
  // The clock stands at 12:00:30: the Parks gave at 10:00 (2 hours ago), the anonymous gift 3 days before.
  expect(wall).toContain('<strong>The Parks</strong>');
  expect(wall).toContain(`for ${groupName}`);
  expect(wall).toContain('<time class="donor-wall__time" datetime="2026-12-01T10:00:00.000Z">2 hours ago</time>');
  expect(wall).toContain('datetime="2026-11-28T12:00:00.000Z">3 days ago</time>');
  expect(wall).toContain('datetime="2026-12-01T11:59:00.000Z">1 minute ago</time>');
  // An anonymous gift to a group that consented (the form's "shown under Anonymous" message): its message, never its name.
  expect(wall).not.toContain('Hidden Hana');
  expect(wall).toContain('Anonymous note');
  expect(wall).not.toContain('Quiet Quinn');
  expect(wall).not.toContain('Unconsented note');
  expect(wall.match(/<strong>Anonymous<\/strong>/g)).toHaveLength(2);
  const ko = await request(t.app).get('/?lang=ko');
  expect(ko.text).toContain('>2시간 전</time>');
  expect(ko.text).toContain(`${groupName} 후원`);
  expect((await request(t.app).get('/?lang=fr')).text).toContain('>il y a 2 heures</time>');
});

test('no family data on the page or in the share image', async () => {
  const pages = await Promise.all(['/', '/?lang=ko', '/contact', '/privacy'].map((p) => request(t.app).get(p)));
  for (const page of pages) expect(page.text).not.toContain('SENTINEL');
  // The image's words, from the same data the route renders.
  const { campaign, totals } = await currentCampaignWithTotals(t.db);
  for (const locale of ['en', 'fr', 'ko'] as const) {
    const svg = shareImageSvg(shareImageContent(campaign, totals, locale));
    expect(svg).not.toContain('SENTINEL');
    expect(svg).not.toMatch(/<image|href=/); // never a photo
  }
});

test('the footer names the CRA registration number, the contact page, the privacy page and the contact e-mail', async () => {
  for (const path of ['/', '/contact', '/give']) {
    const res = await request(t.app).get(path);
    expect(res.text).toContain('Registered charity 123456789 RR 0001');
    expect(res.text).toContain('<a href="/contact">Contact us</a>');
    expect(res.text).toContain('<a href="/privacy">');
    expect(res.text).toContain('<a href="mailto:hello@hanvoice.test">hello@hanvoice.test</a>');
  }
  expect((await request(t.app).get('/?lang=fr')).text).toContain('Organisme de bienfaisance enregistré 123456789 RR 0001');
});

test('the impact line turns the current cost table into a month of support for a family of four', async () => {
  // The 2018 edition (migration): $21,200 a year of income support for four, $1,766.67 a month: "$1,767".
  expect((await request(t.app).get('/')).text).toContain('$1,767 pays a month of rent, food and transport for a family of four.');
  // A later edition becomes the current one; by hand: $22,500 / 12 = $1,875 a month (start-up costs are not monthly).
  const sizes = [1, 2, 3, 4, 5, 6, 0];
  await t.db
    .insertInto('cost_tables')
    .values(sizes.map((size) => ({ edition_on: '2026-06-01', family_size: size, income_support_cents: size === 4 ? 2_250_000 : 1_000_000 + size, startup_cents: 999_900 })))
    .execute();
  expect((await request(t.app).get('/')).text).toContain('$1,875 pays a month of rent, food and transport for a family of four.');
  expect(nbsp((await request(t.app).get('/?lang=fr')).text)).toContain('1 875 $ paient un mois de loyer, de nourriture et de transport pour une famille de quatre personnes.');
  expect((await request(t.app).get('/?lang=ko')).text).toContain('$1,875이면 4인 가족의 한 달 집세, 식비, 교통비를 낼 수 있습니다.');
});

test('the contact page gives the addresses from configuration, with a description and no form', async () => {
  const res = await request(t.app).get('/contact').expect(200);
  expect(res.text).toContain('<a href="mailto:hello@hanvoice.test">hello@hanvoice.test</a>');
  expect(res.text).toContain('PO Box 77, Station A, Toronto ON M5W 1A2');
  expect(res.text).toContain('etransfer@hanvoice.test');
  expect(res.text).toContain('registration number 123456789 RR 0001');
  expect(res.text).toContain('a large gift (above $100,000)');
  expect(res.text).not.toContain('<form method="post"');
  expect(meta(res.text, 'name', 'description')).toMatch(/^How to reach HanVoice/);
  expect(res.text).toContain('<link rel="canonical" href="https://give.hanvoice.test/contact">');
  expect(meta(res.text, 'name', 'twitter:card')).toBe('summary');
  expect(res.text).not.toContain('og:image');
  expect((await request(t.app).get('/contact?lang=ko')).text).toContain('HanVoice 연락처');
});

test('the privacy page covers donors: what is kept and why, six years for CRA, Stripe, the wall, a copy or a correction', async () => {
  const res = await request(t.app).get('/privacy').expect(200);
  for (const text of ['Donors: what Haven keeps, and why', 'at least six years', 'Stripe handles your card number', 'only if you ticked the box', 'a copy of what Haven keeps about you, or for a correction', 'mailto:hello@hanvoice.test']) {
    expect(res.text).toContain(text);
  }
  expect(meta(res.text, 'name', 'description')).toMatch(/^What Haven keeps about refugee families and donors/);
  expect(res.text).toContain('<link rel="canonical" href="https://give.hanvoice.test/privacy">');
  expect((await request(t.app).get('/privacy?lang=fr')).text).toContain('au moins six ans');
  expect((await request(t.app).get('/privacy?lang=ko')).text).toContain('최소 6년간');
});

test('nonsense in the query of the new pages is no server error; an unknown language gets the English image', async () => {
  for (const query of ['lang=xx', 'lang=fr&lang=ko', 'lang[]=ko', `lang=${'x'.repeat(5000)}`, '__proto__[x]=1']) {
    for (const path of ['/contact', '/campaign/share.png']) expect((await request(t.app).get(`${path}?${query}`)).status).toBe(200);
  }
  const english = await request(t.app).get('/campaign/share.png?lang=xx').buffer(true);
  const plain = await request(t.app).get('/campaign/share.png').buffer(true);
  expect(Buffer.compare(english.body as Buffer, plain.body as Buffer)).toBe(0);
});

test('with a public cache window the image is rendered once per language for the window: a share storm costs one render', async () => {
  const cached = createApp({ config: testConfig({ PUBLIC_CACHE_SECONDS: '60' }), db: t.db, logger: createLogger(testConfig({ LOG_LEVEL: 'silent' })) });
  const png = async (lang: string) => (await request(cached).get(`/campaign/share.png?lang=${lang}`).buffer(true)).body as Buffer;
  const before = await png('en');
  const korean = await png('ko');
  // A gift moves the totals: within the window the same picture is served (no new render), per language.
  const id = await makePledge(t.db, { amountCents: 5_000_000 });
  await t.db.transaction().execute((trx) => recordPayment(trx, { pledgeId: id, amountCents: 5_000_000, method: 'cheque', reference: null, receivedAt: new Date('2026-12-01T12:00:00Z') }));
  expect(Buffer.compare(await png('en'), before)).toBe(0);
  expect(Buffer.compare(await png('ko'), korean)).toBe(0);
  expect(Buffer.compare(korean, before)).not.toBe(0);
  // Without the window (the test default) every request renders from fresh totals.
  expect(Buffer.compare((await request(t.app).get('/campaign/share.png?lang=en').buffer(true)).body as Buffer, before)).not.toBe(0);
});
