import { keyringOf } from '../../server/families/data-keys';
import { missingTranslationKeys } from '../../server/i18n/i18n';
import { createTestApp, type TestApp } from '../support/app';
import { FAMILY_DATA_KEY } from '../support/haven-process';
import { englishFragments, RAW_KEY } from './pages';
import { signInAs, type SignedIn } from '../support/session';
import { staffPages, type WorkspaceData, workspaceData } from '../support/workspace-data';

/**
 * Every staff page, with something on it (test/support/workspace-data.ts), read in French: no
 * message key left raw or missing, no English message text, no English words written into a
 * template or a route, and no code where a person reads a word (`partially_refunded`,
 * `fund:general`). Data typed by people (names, a group's name) is left out of the check.
 */
let t: TestApp;
let staff: SignedIn;
let data: WorkspaceData;
beforeAll(async () => {
  t = await createTestApp({ FAMILY_DATA_KEY });
  staff = await signInAs(t, 'staff', { name: 'Min-ji Proposer' });
  const approver = await signInAs(t, 'staff', { name: 'Do-yun Approver' });
  data = await workspaceData(t.db, t.config, keyringOf(Buffer.from(FAMILY_DATA_KEY, 'hex')), {
    proposer: { userId: staff.user.id, label: staff.user.name },
    approver: { userId: approver.user.id, label: approver.user.name },
  });
});
afterAll(() => t.destroy());

/** What a person reads: the text between tags (scripts, styles and the data people typed taken out). */
function readableText(html: string, typed: string[]): string[] {
  let body = /<body[^>]*>([\s\S]*)<\/body>/.exec(html)?.[1] ?? html;
  body = body.replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ');
  // Names a person types into a terminal or reads in Stripe's dashboard stay as they are.
  body = body.replace(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|npm run [a-z-]+(?: -- --[a-z-]+)?|\((?:end_subscription_at_term|cancel_subscription)\)/g, ' ');
  const pieces = body
    .split(/<[^>]+>/)
    .map((s) => s.replace(/&nbsp;|&#x27;|&quot;|&amp;|&#x3D;|\s+/g, ' ').trim())
    .filter(Boolean);
  return pieces.map((piece) => typed.reduce((text, value) => text.split(value).join(' '), piece)).filter((p) => p.trim());
}

/** English words that French never writes (a short, unambiguous list). */
const ENGLISH_WORDS = /\b(the|and|with|this|that|for|from|your|gift|gifts|pledge|promised|received|funds|group|family|none|yes|no|who|when|what|amount|status|once|monthly|cheque|paid|due|overdue|succeeded|refunded|adult|applicant)\b/i;
/** A code: snake_case, or a prefixed id like fund:general, user:12. */
const CODE = /\b[a-z]+_[a-z_]+\b|\b[a-z]+:[a-z0-9_]+(:[a-z0-9_]+)*\b/;

test('every staff page reads in French: no raw key, no English message or word, no code', async () => {
  const fragments = englishFragments('fr');
  missingTranslationKeys({ clear: true });
  const groupNames = (await t.db.selectFrom('sponsor_groups').select('name').execute()).map((g) => g.name);
  const people = (await t.db.selectFrom('users').select(['name', 'email']).execute()).flatMap((u) => [u.name, u.email]);
  const donors = (await t.db.selectFrom('donors').select(['name', 'email']).execute()).flatMap((d) => [d.name ?? '', d.email]).filter(Boolean);
  // Stored as written: the test's own transaction kind and its description (in no form server/reports/descriptions.ts
  // reads back; Haven's own descriptions are said again in French); Stripe's event ids and types, and why an event
  // is held (Stripe's or the SDK's words).
  const ledger = (await t.db.selectFrom('ledger_transactions').select('description').where('kind', '=', 'test_gift').execute()).map((r) => r.description);
  const stripe = (await t.db.selectFrom('stripe_events').select(['id', 'type', 'held_reason']).execute()).flatMap((e) => [e.id, e.type, e.held_reason ?? '']).filter(Boolean);
  // The housing share's source is staff's own citation, kept in the words they wrote it in.
  const sources = (await t.db.selectFrom('housing_shares').select('source').execute()).map((r) => r.source.replace(/'/g, ' '));
  // A group photo's alt text is the group's own description of it.
  const altTexts = (await t.db.selectFrom('group_photos').select('alt_text').execute()).map((r) => r.alt_text);
  const typed = [...groupNames, ...altTexts, ...people, ...donors, ...ledger, ...stripe, ...sources, 'test_gift', 'Haven', 'HanVoice', 'Stripe'].sort((a, b) => b.length - a.length);
  const problems: string[] = [];
  for (const path of staffPages(data)) {
    const res = await staff.agent.get(`${path}${path.includes('?') ? '&' : '?'}lang=fr`);
    if (res.status !== 200) {
      problems.push(`${path}: status ${res.status}`);
      continue;
    }
    const rawKey = RAW_KEY.exec(res.text)?.[0];
    if (rawKey) problems.push(`${path}: raw message key ${rawKey}`);
    for (const english of fragments.filter((f) => res.text.includes(f))) problems.push(`${path}: English message "${english}"`);
    for (const text of readableText(res.text, typed)) {
      if (ENGLISH_WORDS.test(text)) problems.push(`${path}: English words "${text}"`);
      else if (CODE.test(text)) problems.push(`${path}: a code "${text}"`);
    }
  }
  expect([...new Set(problems)]).toEqual([]);
  expect(missingTranslationKeys()).toEqual([]);
});

test('a pledge names the group it prefers, linked, instead of its number', async () => {
  const group = await t.db.selectFrom('sponsor_groups').select(['id', 'name']).where('id', '=', data.matchedGroup.id).executeTakeFirstOrThrow();
  const res = await staff.agent.get(`/staff/pledges/${data.monthly}?lang=en`).expect(200);
  expect(res.text).toContain(`<dd><a href="/staff/groups/${group.id}">${group.name}</a></dd>`);
  expect(res.text).toContain(`<title>Pledge ${data.monthly} · `);
});
