import request from 'supertest';
import { updateGroupPage } from '../../server/groups/workspace';
import { makePledge, receive } from '../support/gifts';
import { createTestApp, type TestApp } from '../support/app';
import { type SignedIn, signInAs } from '../support/session';
import { makeApprovedGroup, postForm, signInMember } from './factories';

let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

const unescape = (s: string) => s.replace(/&#x3D;/g, '=').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');

/** A gift preferring the group, received. */
async function give(groupId: number, cents: number) {
  const pledge = await makePledge(t.db, { groupId, amountCents: cents });
  await receive(t.db, pledge, cents);
}

test('a group page leads with what was received of its goal and the percent, pledges shown apart, and the give button', async () => {
  // Family of two: the goal is $24,800 (public-pages.test.ts).
  const group = await makeApprovedGroup(t.db, { name: 'Headline Group', familySize: 2 });
  await give(group.id, 1_240_000);
  await makePledge(t.db, { groupId: group.id, amountCents: 300_000 });
  const page = await request(t.app).get(`/groups/${group.slug}`).expect(200);
  expect(page.text).toContain('<p class="totals__headline">$12,400 raised of $24,800</p>');
  expect(page.text).toContain('50% of the goal');
  expect(page.text).toContain('Pledged, not yet received: $3,000');
  expect(page.text).toContain(`class="button button--large" href="/give?groupId=${group.id}"`);
  expect(page.text).not.toContain('Goal reached');
});

test('once received money reaches the goal the page celebrates it in each language and still takes gifts; pledges alone do not count', async () => {
  const pledgedOnly = await makeApprovedGroup(t.db, { name: 'Pledged Only', familySize: 2 });
  await makePledge(t.db, { groupId: pledgedOnly.id, amountCents: 3_000_000 });
  expect((await request(t.app).get(`/groups/${pledgedOnly.slug}`).expect(200)).text).not.toContain('Goal reached');

  const group = await makeApprovedGroup(t.db, { name: 'Past The Goal', familySize: 2 });
  await give(group.id, 3_000_800); // 121 % of $24,800
  const en = await request(t.app).get(`/groups/${group.slug}`).expect(200);
  expect(en.text).toContain('$30,008 raised of $24,800');
  // CLDR: en-CA writes a percent with no space ("121%"); fr-CA with a no-break space before the sign ("121 %").
  expect(en.text).toContain('121% of the goal');
  expect(en.text).toContain('Goal reached — thank you!');
  expect(en.text).toContain('Gifts are still welcome.');
  expect(en.text).toContain(`href="/give?groupId=${group.id}"`);

  const fr = await request(t.app).get(`/groups/${group.slug}?lang=fr`).expect(200);
  expect(fr.text).toMatch(/121[\u00a0\u202f]% de l’objectif/);
  expect(fr.text).not.toContain('121%');
  expect(fr.text).toContain('Objectif atteint — merci !');
  expect(fr.text).toMatch(/30[\u00a0\u202f]008[\u00a0\u202f]\$ recueillis sur 24[\u00a0\u202f]800[\u00a0\u202f]\$/);

  const ko = await request(t.app).get(`/groups/${group.slug}?lang=ko`).expect(200);
  expect(ko.text).toContain('목표 달성 — 감사합니다!');
  expect(ko.text).toContain('목표의 121%');
});

test('the page passes share tags: the first sentence of its story as plain text, at most 160 characters, its path, and no image without an approved photo', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Sharing Group' });
  await t.db.transaction().execute((trx) =>
    updateGroupPage(trx, group.id, { name: 'Sharing Group', story: '## Who we are\n\nWe are **twelve** neighbours & friends in "Guelph". We cook together every Sunday.' }),
  );
  const page = unescape((await request(t.app).get(`/groups/${group.slug}`).expect(200)).text);
  expect(page).toContain('<meta name="description" content="We are twelve neighbours & friends in "Guelph".">');
  expect(page).toContain(`<link rel="canonical" href="${t.config.publicUrl}/groups/${group.slug}">`);
  expect(page).not.toContain('og:image');

  // Plain share links, no third-party script; the copy button waits for first-party script to show it.
  const url = encodeURIComponent(`${t.config.publicUrl}/groups/${group.slug}`);
  // The campaign's share partial (views/partials/share-links.hbs), pointed at the group's page.
  expect(page).toContain(`href="https://www.facebook.com/sharer/sharer.php?u=${url}"`);
  expect(page).toContain(`href="https://x.com/intent/tweet?text=Sharing%20Group&url=${url}"`);
  expect(page).toContain(`href="https://wa.me/?text=Sharing%20Group%20${url}"`);
  expect(page).toContain(`href="mailto:?subject=Sharing%20Group&body=Sharing%20Group%0A%0A${url}"`);
  expect(page).toMatch(/<a class="button button--secondary" href="[^"]+\/groups\/[^"]+" data-copy-link/);
  expect(page).toContain('<script src="/static/share-links.js" defer></script>');
  expect(page).not.toMatch(/<script(?![^>]*src="\/static\/)/);

  await t.db.transaction().execute((trx) => updateGroupPage(trx, group.id, { name: 'Sharing Group', story: `${'Long words here '.repeat(20)}end.` }));
  const long = /<meta name="description" content="([^"]*)">/.exec((await request(t.app).get(`/groups/${group.slug}`).expect(200)).text)![1]!;
  expect(long.length).toBeLessThanOrEqual(160);
  expect(long).toMatch(/^Long words here .*…$/);

  await t.db.transaction().execute((trx) => updateGroupPage(trx, group.id, { name: 'Sharing Group', story: '' }));
  const empty = unescape((await request(t.app).get(`/groups/${group.slug}`).expect(200)).text);
  expect(empty).toContain('<meta name="description" content="Sharing Group, a sponsor group in Toronto, is raising money to welcome a refugee family to Canada.">');
});

test('a group writes its story in French; the French page shows it, and falls back to the story while it is empty; staff can correct it', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Bilingual Group', story: 'We are **neighbours**.' });
  expect((await request(t.app).get(`/groups/${group.slug}?lang=fr`).expect(200)).text).toContain('<p>We are <strong>neighbours</strong>.</p>');

  const coordinator = await signInMember(t, group.id, 'coordinator');
  const editor = await coordinator.agent.get('/group/page').expect(200);
  expect(editor.text).toContain('name="storyFr"');
  const saved = await postForm(coordinator, '/group/page', { name: 'Bilingual Group', story: 'We are **neighbours**.', storyKo: '', storyFr: 'Nous sommes des **voisins**. <script>x</script>' });
  expect(saved.status).toBe(303);
  const row = await t.db.selectFrom('sponsor_groups').select(['story_fr', 'story_fr_html']).where('id', '=', group.id).executeTakeFirstOrThrow();
  expect(row.story_fr_html).toBe('<p>Nous sommes des <strong>voisins</strong>. </p>\n');

  const fr = await request(t.app).get(`/groups/${group.slug}?lang=fr`).expect(200);
  expect(fr.text).toContain('<p>Nous sommes des <strong>voisins</strong>. </p>');
  expect(fr.text).not.toContain('We are <strong>neighbours</strong>');
  expect(unescape(fr.text)).toContain('<meta name="description" content="Nous sommes des voisins.">');
  const en = await request(t.app).get(`/groups/${group.slug}`).expect(200);
  expect(en.text).toContain('<p>We are <strong>neighbours</strong>.</p>');
  const ko = await request(t.app).get(`/groups/${group.slug}?lang=ko`).expect(200);
  expect(ko.text).toContain('<p>We are <strong>neighbours</strong>.</p>');

  // Staff correct the French story; the audit says which language changed.
  const corrected = await postForm(staff, `/staff/groups/${group.id}/story`, { story: 'We are **neighbours**.', storyKo: '', storyFr: 'Nous sommes *voisins*.' });
  expect(corrected.headers.location).toBe(`/staff/groups/${group.id}?done=groups.story`);
  expect((await request(t.app).get(`/groups/${group.slug}?lang=fr`).expect(200)).text).toContain('<p>Nous sommes <em>voisins</em>.</p>');
  const audit = await t.db.selectFrom('audit_log').select('details').where('subject', '=', `group:${group.id}`).where('action', '=', 'group.story_edited').executeTakeFirstOrThrow();
  expect(audit.details).toEqual({ languages: 'fr' });
});

test("the group list shows each group's progress with a bar", async () => {
  const a = await makeApprovedGroup(t.db, { name: 'Aaa List One', familySize: 2 });
  const b = await makeApprovedGroup(t.db, { name: 'Aaa List Two', familySize: 2 });
  await give(a.id, 620_000);
  await give(b.id, 2_480_000);
  await makePledge(t.db, { groupId: b.id, amountCents: 100_000 });
  const list = await request(t.app).get('/groups?city=Toronto').expect(200);
  const item = (slug: string) => new RegExp(`<li class="group-card">\\s*<a href="/groups/${slug}">[\\s\\S]*?</li>`).exec(list.text)?.[0] ?? '';
  expect(item(a.slug)).toContain('$6,200 raised of $24,800 · 25%');
  expect(item(a.slug)).toMatch(/class="progress__received" x="0" y="0" width="250"/);
  expect(item(a.slug)).not.toContain('Goal reached');
  expect(item(b.slug)).toContain('$24,800 raised of $24,800 · 100% · <strong>Goal reached</strong>');
  expect(item(b.slug)).toContain('progress__bar--compact');

  const fr = await request(t.app).get('/groups?city=Toronto&lang=fr').expect(200);
  expect(fr.text).toMatch(/6[\u00a0\u202f]200[\u00a0\u202f]\$ recueillis sur 24[\u00a0\u202f]800[\u00a0\u202f]\$ · 25[\u00a0\u202f]%/);
});
