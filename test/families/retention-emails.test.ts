import { randomBytes } from 'node:crypto';
import { keyringOf } from '../../server/families/data-keys';
import { setFamilyStatus } from '../../server/families/families';
import { applyIdentityRetention, retentionSettings } from '../../server/families/retention';
import { renderEmail } from '../../server/notifications/emails';
import type { EmailMessage } from '../../server/notifications/outbox';
import { createTestApp, type TestApp } from '../support/app';
import { signInAs, type SignedIn } from '../support/session';
import { availableFamily, SENTINELS, staffA } from './factories';

/**
 * The purge warning reaches each staff member in their language: the one they last used Haven in
 * (users.locale, remembered from their signed-in pages), English until they choose. It carries the
 * family's number and a link, never its identity or even its case code.
 */
let t: TestApp;
let french: SignedIn;
let english: SignedIn;
beforeAll(async () => {
  t = await createTestApp({ FAMILY_IDENTITY_RETENTION_MONTHS: '12', PRIVACY_OFFICER_EMAIL: '' });
  french = await signInAs(t, 'staff');
  english = await signInAs(t, 'staff');
  // The language switch, as the French-speaking staff member uses it; later pages keep it (cookie).
  expect((await french.agent.get('/staff?lang=fr')).status).toBe(200);
  expect((await french.agent.get('/staff')).text).toContain('lang="fr"');
  expect((await english.agent.get('/staff')).status).toBe(200);
});
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

test('a staff member who switches back to English gets English; the privacy officer is written to in their account’s language', async () => {
  const family = await availableFamily(t.db, keyringOf(randomBytes(32)));
  await t.db.transaction().execute((trx) => setFamilyStatus(trx, staffA, family.id, 'withdrawn', '2026-04-01'));
  const officer = await signInAs(t, 'staff');
  await officer.agent.get('/staff?lang=fr');
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

  // Back to English on Haven: the next warning is in English.
  await officer.agent.get('/staff?lang=en');
  const third = await availableFamily(t.db, keyringOf(randomBytes(32)));
  await t.db.transaction().execute((trx) => setFamilyStatus(trx, staffA, third.id, 'withdrawn', '2026-04-01'));
  await applyIdentityRetention(t.db, settings, '2027-03-02');
  expect(await warningsFor(third.id)).toMatchObject([{ locale: 'en' }]);
});
