import { randomBytes } from 'node:crypto';
import { keyringOf } from '../../server/families/data-keys';
import { setFamilyStatus } from '../../server/families/families';
import { applyIdentityRetention, retentionSettings } from '../../server/families/retention';
import { renderEmail } from '../../server/notifications/emails';
import type { EmailMessage } from '../../server/notifications/outbox';
import { createTestApp, type TestApp } from '../support/app';
import { anonymous, signInAs, type SignedIn } from '../support/session';
import { availableFamily, SENTINELS, staffA } from './factories';

/**
 * The purge warning reaches each staff member in their language: the one they last signed in with
 * (users.locale, remembered at sign-in), English until then. It carries the
 * family's number and a link, never its identity or even its case code.
 */
let t: TestApp;
let french: SignedIn;
let english: SignedIn;
beforeAll(async () => {
  t = await createTestApp({ FAMILY_IDENTITY_RETENTION_MONTHS: '12', PRIVACY_OFFICER_EMAIL: '' });
  french = await signInAs(t, 'staff');
  english = await signInAs(t, 'staff');
  // The French-speaking staff member signs in on the French page (the language switch, then the form).
  await signInWithPassword(french, 'fr');
  await signInWithPassword(english, 'en');
});

/** Signs in through the sign-in form, in `lang`, as a person would (the language switch, then the form). */
async function signInWithPassword(who: SignedIn, lang: 'en' | 'fr') {
  const visitor = await anonymous(t);
  expect((await visitor.agent.get(`/sign-in?lang=${lang}`)).text).toContain(`lang="${lang}"`);
  expect((await visitor.postForm('/sign-in', { email: who.user.email, password: who.password })).status).toBe(303);
}
afterAll(() => t.destroy());

async function warningsFor(familyId: number): Promise<EmailMessage[]> {
  const rows = await t.db.selectFrom('outbox').select('payload').orderBy('id').execute();
  return rows.map((r) => r.payload as EmailMessage).filter((m) => m.template === 'families/identity-purge-warning' && m.data.familyId === familyId);
}

function expectNothingAbout(family: { caseCode: string }, text: string) {
  for (const value of [...Object.values(SENTINELS), family.caseCode]) expect(text).not.toContain(value);
}

test('every staff member is warned in their own language, French or English, with no identity or case code', async () => {
  const family = await availableFamily(t.db, keyringOf(randomBytes(32)));
  await t.db.transaction().execute((trx) => setFamilyStatus(trx, staffA, family.id, 'closed', '2026-03-15'));
  expect((await applyIdentityRetention(t.db, retentionSettings(t.config), '2027-02-13')).warned).toEqual([family.id]);

  const mails = await warningsFor(family.id);
  const to = (who: SignedIn) => mails.find((m) => m.to === who.user.email);
  expect(to(french)).toMatchObject({ locale: 'fr' });
  expect(to(english)).toMatchObject({ locale: 'en' });

  const fr = renderEmail(to(french)!);
  expect(fr.subject).toBe(`Dossier de famille ${family.id} : son identité sera supprimée le 2027-03-15`);
  expect(fr.text).toContain(`L’identité protégée du dossier de famille ${family.id} sera supprimée le 2027-03-15, 12 mois après la fin du soutien`);
  expect(fr.text).toContain(`/staff/families/${family.id}`);
  expectNothingAbout(family, fr.subject + fr.text);

  const en = renderEmail(to(english)!);
  expect(en.subject).toBe(`Family record ${family.id}: its identity will be deleted on 2027-03-15`);
  expectNothingAbout(family, en.subject + en.text);
});

test('a staff member who signs in again in English gets English; the privacy officer is written to in their account’s language', async () => {
  const family = await availableFamily(t.db, keyringOf(randomBytes(32)));
  await t.db.transaction().execute((trx) => setFamilyStatus(trx, staffA, family.id, 'withdrawn', '2026-04-01'));
  const officer = await signInAs(t, 'staff');
  await signInWithPassword(officer, 'fr');
  // Pages seen in another language afterwards change nothing: the language is the sign-in's.
  expect((await officer.agent.get('/staff?lang=en')).status).toBe(200);
  const settings = { ...retentionSettings(t.config), privacyOfficerEmail: officer.user.email.toUpperCase() };
  expect((await applyIdentityRetention(t.db, settings, '2027-03-02')).warned).toEqual([family.id]);
  const [mail] = await warningsFor(family.id);
  expect(mail).toMatchObject({ to: officer.user.email.toUpperCase(), locale: 'fr' });
  expectNothingAbout(family, renderEmail(mail!).text);

  // An address with no account: English.
  const other = await availableFamily(t.db, keyringOf(randomBytes(32)));
  await t.db.transaction().execute((trx) => setFamilyStatus(trx, staffA, other.id, 'withdrawn', '2026-04-01'));
  await applyIdentityRetention(t.db, { ...settings, privacyOfficerEmail: 'privacy@hanvoice.test' }, '2027-03-02');
  expect(await warningsFor(other.id)).toMatchObject([{ to: 'privacy@hanvoice.test', locale: 'en' }]);

  // Signed in again in English: the next warning is in English.
  await signInWithPassword(officer, 'en');
  const third = await availableFamily(t.db, keyringOf(randomBytes(32)));
  await t.db.transaction().execute((trx) => setFamilyStatus(trx, staffA, third.id, 'withdrawn', '2026-04-01'));
  await applyIdentityRetention(t.db, settings, '2027-03-02');
  expect(await warningsFor(third.id)).toMatchObject([{ locale: 'en' }]);
});
