import request from 'supertest';
import { parseDollars } from '../../server/http/forms';
import { formatDate, formatMoney } from '../../server/http/views';
import { missingTranslationKeys } from '../../server/i18n/i18n';
import { createTestApp, type TestApp } from '../support/app';
import { makeApprovedGroup, postForm, signInMember } from '../groups/factories';
import { anonymous, signInAs } from '../support/session';
import { renderEmail } from '../../server/notifications/emails';
import type { EmailMessage } from '../../server/notifications/outbox';
import { decodeEntities, englishFragments, publicPageProblems, RAW_KEY, renderAll } from './pages';

/**
 * Issue 20: Korean, the third language. The French test's method (./pages.ts) on every public
 * page and every e-mail, with Korean's own rules: Hangul on every page, amounts in Canadian
 * dollars written "$50" (never ₩ or "CA$"), dates "2026년 12월 1일", and the group workspace.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

const HANGUL = /[\uac00-\ud7a3]/;
/** Money written any way but "$50": won, the ISO code, or Intl's "CA$". */
const WRONG_MONEY = /₩|KRW|CA\$|\bCAD\b|\d\s*원/;

function koreanRules(routePath: string, html: string): string[] {
  const problems: string[] = [];
  const body = html.slice(html.indexOf('<body'));
  if (!HANGUL.test(body)) problems.push(`${routePath}: no Hangul on the page`);
  const money = WRONG_MONEY.exec(body)?.[0];
  if (money) problems.push(`${routePath}: money written "${money}"`);
  // The switch offers the two other languages, each in its own name and language.
  if (!/<a href="[^"]*lang=en" lang="en" hreflang="en">English<\/a>/.test(decodeEntities(html))) problems.push(`${routePath}: no switch to English`);
  if (!/<a href="[^"]*lang=fr" lang="fr" hreflang="fr">Français<\/a>/.test(decodeEntities(html))) problems.push(`${routePath}: no switch to French`);
  return problems;
}

test('every public page renders in Korean, with lang="ko", no raw or missing key and no English left', async () => {
  const { problems, missing, pages } = await publicPageProblems(t.app, 'ko', koreanRules);
  expect(pages).toBeGreaterThan(20);
  expect(problems).toEqual([]);
  expect(missing).toEqual([]);
});

test('the English fragments the check looks for are real: an English page is full of them', async () => {
  // Guards the method: were every fragment absent from English pages too, the test above would prove nothing.
  const fragments = englishFragments('ko');
  const en = await request(t.app).get('/give?lang=en').expect(200);
  expect(fragments.filter((f) => en.text.includes(f)).length).toBeGreaterThan(10);
  const ko = await request(t.app).get('/give?lang=ko').expect(200);
  expect(fragments.filter((f) => ko.text.includes(f))).toEqual([]);
});

test('the campaign’s own words are shown in Korean, with amounts as $ and no won', async () => {
  const res = await request(t.app).get('/?lang=ko').expect(200);
  expect(res.text).toContain('<html lang="ko">');
  expect(res.text).toContain('다섯 가족에게 안전한 새 삶을');
  expect(res.text).toContain('탈북 난민 다섯 가족');
  expect(res.text).not.toContain('Bring five families to safety');
  expect(res.text).toContain('$250,000');
  expect(res.text).not.toMatch(WRONG_MONEY);
  const give = await request(t.app).get('/give?lang=ko').expect(200);
  // The presets read $25 … $500, the way English Canada writes them.
  for (const preset of ['$25', '$50', '$100', '$250', '$500']) expect(give.text).toContain(preset);
});

test('amounts are Canadian dollars written "$50", dates "2026년 12월 1일"', () => {
  // References: the issue's own examples, and en-CA's grouping for large amounts.
  expect(formatMoney(5_000, 'ko', { whole: true })).toBe('$50');
  expect(formatMoney(5_000, 'ko')).toBe('$50.00');
  expect(formatMoney(123_456_789, 'ko')).toBe('$1,234,567.89');
  expect(formatMoney(123_456_789, 'ko')).toBe(formatMoney(123_456_789, 'en'));
  expect(formatDate('2026-12-01', 'ko')).toBe('2026년 12월 1일');
  expect(formatDate('2027-01-31', 'ko')).toBe('2027년 1월 31일');
  // An instant is the charity's day (America/Toronto): 03:00 UTC on 1 December is still 30 November there.
  expect(formatDate(new Date('2026-12-01T03:00:00Z'), 'ko')).toBe('2026년 11월 30일');
});

test('an amount typed the Korean way, "50달러", is read as $50; won is not dollars', () => {
  expect(parseDollars('50달러')).toBe(5_000);
  expect(parseDollars('1,250.50 달러')).toBe(125_050);
  expect(parseDollars('$50')).toBe(5_000);
  expect(parseDollars('50원')).toBeUndefined();
  expect(parseDollars('₩50,000')).toBeUndefined();
  expect(parseDollars('달러')).toBeUndefined();
});

test('the browser’s preference picks Korean, the choice is remembered, and the switch offers all three languages', async () => {
  const browser = await request(t.app).get('/').set('Accept-Language', 'ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7').expect(200);
  expect(browser.text).toContain('<html lang="ko">');
  // A browser set to English first keeps English, whatever else it lists.
  const english = await request(t.app).get('/').set('Accept-Language', 'en-CA,en;q=0.9,ko;q=0.5').expect(200);
  expect(english.text).toContain('<html lang="en">');
  expect(decodeEntities(english.text)).toContain('<a href="/?lang=fr" lang="fr" hreflang="fr">Français</a>');
  expect(decodeEntities(english.text)).toContain('<a href="/?lang=ko" lang="ko" hreflang="ko">한국어</a>');
  expect(english.text).not.toContain('hreflang="en"');

  const chose = await request(t.app).get('/groups?lang=ko&city=Toronto').expect(200);
  expect(decodeEntities(chose.text)).toContain('href="/groups?lang=en&city=Toronto"');
  const cookie = chose.headers['set-cookie']![0]!.split(';')[0]!;
  expect(cookie).toBe('lang=ko');
  // Remembered over the browser's own preference, until another choice.
  const again = await request(t.app).get('/give').set('Cookie', cookie).set('Accept-Language', 'fr-CA').expect(200);
  expect(again.text).toContain('<html lang="ko">');
  const switched = await request(t.app).get('/give?lang=en').set('Cookie', cookie).expect(200);
  expect(switched.text).toContain('<html lang="en">');
  expect(switched.headers['set-cookie']![0]).toMatch(/^lang=en;/);
});

test('the stylesheet gives Korean pages the platforms’ own Hangul fonts first, and no web font', async () => {
  const css = (await request(t.app).get('/static/haven.css').expect(200)).text;
  const rule = /:root:lang\(ko\)\s*\{([^}]*)\}/.exec(css)?.[1];
  expect(rule).toBeDefined();
  const stack = /font-family:\s*([^;]+);/.exec(rule!)![1]!;
  const order = ['"Apple SD Gothic Neo"', '"Malgun Gothic"', '"Noto Sans KR"', '"Noto Sans CJK KR"', 'sans-serif'].map((f) => stack.indexOf(f));
  expect(order.every((i) => i >= 0)).toBe(true);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
  expect(rule).toContain('word-break: keep-all');
  expect(css).not.toMatch(/@font-face|@import/);
});

test('every e-mail template renders in Korean: Korean subject and text, no raw key, no English, amounts in $', () => {
  const fragments = englishFragments('ko');
  missingTranslationKeys({ clear: true });
  const emails = renderAll('ko');
  expect(emails.length).toBeGreaterThan(20);
  for (const email of emails) {
    const { template } = email;
    const all = email.subject + '\n' + email.text;
    expect({ template, rawKey: RAW_KEY.exec(all)?.[0] }).toEqual({ template, rawKey: undefined });
    expect({ template, english: fragments.filter((f) => all.includes(f)) }).toEqual({ template, english: [] });
    expect({ template, subjectInKorean: HANGUL.test(email.subject), money: WRONG_MONEY.exec(all)?.[0] }).toEqual({ template, subjectInKorean: true, money: undefined });
  }
  expect(missingTranslationKeys()).toEqual([]);
  const receipt = emails.find((e) => e.template === 'receipts/issued')!;
  expect(receipt.text).toContain('공제 대상 금액은 $1.00입니다.');
  expect(receipt.text).toContain('영어 또는 프랑스어');
});

test('a church applies as a sponsor group in Korean: refused fields answered in Korean, then its coordinator’s e-mail in Korean', async () => {
  const visitor = await anonymous(t);
  await visitor.agent.get('/groups/apply?lang=ko').expect(200);
  const fields = { name: '토론토 영락교회 후원회', city: 'Toronto', province: 'ON', coordinatorName: '박민지', coordinatorEmail: 'minji.ko@example.org', languages: ['ko', 'en'], familySize: '3', story: '매주 일요일에 모입니다.' };
  const refused = await postForm(visitor, '/groups/apply', { ...fields, familySize: '99' });
  expect(refused.status).toBe(400);
  expect(refused.text).toContain('1에서 20 사이의 정수를 입력해 주십시오.');
  expect(refused.text).toContain('value="토론토 영락교회 후원회"');
  const res = await postForm(visitor, '/groups/apply', fields);
  expect(res.status).toBe(303);
  const group = await t.db.selectFrom('sponsor_groups').select(['locale']).where('coordinator_email', '=', 'minji.ko@example.org').executeTakeFirstOrThrow();
  expect(group.locale).toBe('ko');
  const rows = await t.db.selectFrom('outbox').select('payload').orderBy('id').execute();
  const mail = rows.map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as EmailMessage).find((m) => m.to === 'minji.ko@example.org')!;
  expect(renderEmail(mail).subject).toBe('후원 그룹 신청서를 받았습니다');
});

describe('the group workspace in Korean', () => {
  test('every workspace page a member sees is in Korean, with no English left', async () => {
    const group = await makeApprovedGroup(t.db, { name: '토론토 한인교회 후원회', coordinatorEmail: 'coord-ko@example.org' });
    const coordinator = await signInMember(t, group.id, 'coordinator');
    const fragments = englishFragments('ko');
    missingTranslationKeys({ clear: true });
    const problems: string[] = [];
    for (const path of ['/group', '/group/page', '/group/members', '/group/plan', '/group/in-kind', '/group/family', '/group/schedule']) {
      const res = await coordinator.agent.get(`${path}?lang=ko`);
      if (res.status !== 200) problems.push(`${path}: status ${res.status}`);
      if (!res.text.includes('<html lang="ko">')) problems.push(`${path}: not lang="ko"`);
      const rawKey = RAW_KEY.exec(res.text)?.[0];
      if (rawKey) problems.push(`${path}: raw key ${rawKey}`);
      for (const english of fragments.filter((f) => res.text.includes(f))) problems.push(`${path}: English text "${english}"`);
      const money = WRONG_MONEY.exec(res.text.slice(res.text.indexOf('<body')))?.[0];
      if (money) problems.push(`${path}: money written "${money}"`);
    }
    expect(problems).toEqual([]);
    expect(missingTranslationKeys()).toEqual([]);
  });

  test('the group writes its story in Korean; Korean readers see it, others the story in English', async () => {
    const group = await makeApprovedGroup(t.db, { name: 'Hamilton Korean Presbyterian', coordinatorEmail: 'coord-ham@example.org', story: 'We are a **church** in Hamilton.' });
    const coordinator = await signInMember(t, group.id, 'coordinator');
    const form = await coordinator.agent.get('/group/page?lang=ko').expect(200);
    expect(form.text).toContain('한국어 그룹 소개');
    expect(form.text).toMatch(/<textarea id="storyKo" name="storyKo" lang="ko"/);
    const saved = await postForm(coordinator, '/group/page', { name: 'Hamilton Korean Presbyterian', story: 'We are a **church** in Hamilton.', storyKo: '저희는 해밀턴의 **교회**입니다.' });
    expect({ status: saved.status, errors: saved.text.match(/class="field-error"[^>]*>[^<]*/g) }).toEqual({ status: 303, errors: null });
    const ko = await request(t.app).get(`/groups/${group.slug}?lang=ko`).expect(200);
    expect(ko.text).toContain('저희는 해밀턴의 <strong>교회</strong>입니다.');
    expect(ko.text).not.toContain('We are a');
    const en = await request(t.app).get(`/groups/${group.slug}?lang=en`).expect(200);
    expect(en.text).toContain('We are a <strong>church</strong> in Hamilton.');
    expect(en.text).not.toContain('저희는');
    // What was typed comes back in the form.
    const again = await coordinator.agent.get('/group/page?lang=ko').expect(200);
    expect(again.text).toContain('저희는 해밀턴의 **교회**입니다.');
    // Emptied, Korean readers fall back to the story the group has.
    await postForm(coordinator, '/group/page', { name: 'Hamilton Korean Presbyterian', story: 'We are a **church** in Hamilton.', storyKo: '' });
    expect((await request(t.app).get(`/groups/${group.slug}?lang=ko`).expect(200)).text).toContain('We are a <strong>church</strong> in Hamilton.');
  });
});

describe('the campaign’s words in Korean, written by staff', () => {
  test('staff edit the Korean title, summary and story; Korean readers see them at once, and an empty Korean field falls back to English', async () => {
    const staff = await signInAs(t, 'staff');
    const form = await staff.agent.get('/staff/campaign').expect(200);
    expect(form.text).toContain('value="다섯 가족에게 안전한 새 삶을"');
    const base = {
      title: 'Bring five families to safety',
      summary: 'HanVoice and the Government of Canada are resettling five North Korean refugee families.',
      story: 'A first paragraph.\n\nA second paragraph.',
      titleFr: '',
      summaryFr: '',
      storyFr: '',
    };
    const saved = await postForm(staff, '/staff/campaign', { ...base, titleKo: '함께 지켜 주세요', summaryKo: '다섯 가족의 첫 1년을 함께합니다.', storyKo: '첫 문단입니다.\n\n둘째 문단입니다.' });
    expect(saved.status).toBe(303);
    expect((await staff.agent.get(saved.headers.location as string).expect(200)).text).toContain('The campaign’s words were saved');
    const ko = await request(t.app).get('/?lang=ko').expect(200);
    expect(ko.text).toContain('<h1 id="campaign-title">함께 지켜 주세요</h1>');
    expect(ko.text).toContain('<p class="lede">다섯 가족의 첫 1년을 함께합니다.</p>');
    expect(ko.text).toContain('<p>첫 문단입니다.</p>');
    expect(ko.text).toContain('<p>둘째 문단입니다.</p>');
    // French was emptied: French readers see the original.
    expect((await request(t.app).get('/?lang=fr').expect(200)).text).toContain('Bring five families to safety');
    const audit = await t.db.selectFrom('audit_log').select(['action', 'subject']).where('action', '=', 'campaign.text_edited').execute();
    expect(audit).toHaveLength(1);

    await postForm(staff, '/staff/campaign', { ...base, titleKo: '', summaryKo: '', storyKo: '' });
    expect((await request(t.app).get('/?lang=ko').expect(200)).text).toContain('Bring five families to safety');
  });

  test('the original title is required: refused beside the field with what was typed kept, nothing changed; only staff may edit', async () => {
    const staff = await signInAs(t, 'staff');
    const before = await t.db.selectFrom('campaigns').select(['title', 'title_ko']).executeTakeFirstOrThrow();
    const res = await postForm(staff, '/staff/campaign?lang=ko', { title: '', summary: 's', story: 's', titleKo: '입력한 제목' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('<p class="field-error" id="title-error">필수 항목입니다.</p>');
    expect(res.text).toContain('value="입력한 제목"');
    expect(await t.db.selectFrom('campaigns').select(['title', 'title_ko']).executeTakeFirstOrThrow()).toEqual(before);
    const group = await makeApprovedGroup(t.db, { name: 'Not Staff Group', coordinatorEmail: 'not-staff@example.org' });
    const coordinator = await signInMember(t, group.id, 'coordinator');
    await coordinator.agent.get('/staff/campaign').expect(403);
    expect((await postForm(coordinator, '/staff/campaign', { title: 'Hijack', summary: 's', story: 's' })).status).toBe(403);
  });
});
