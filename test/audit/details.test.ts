import { detailLines, humanise } from '../../server/audit/details';
import { formatLanguage, formatPercent } from '../../server/http/views';
import { translatorFor } from '../../server/i18n/i18n';

/** Audit details as people read them (issue 18, "Words, not codes"): labelled values, never JSON, never an identity value. */
const names = { people: new Map([[7, 'Ji-woo Kim']]), groups: new Map([[3, 'Maple Street Sponsors']]) };
const read = (locale: 'en' | 'fr' | 'ko', action: string, details: Record<string, unknown>) => detailLines(translatorFor(locale), locale, names, action, details);
const JSON_LIKE = /[{}[\]"]|\w+:\S/;

test('a recorded payment reads as labelled words: the method named, money as money, the date as a date', () => {
  const details = { pledgeId: 12, amountCents: 150_000, method: 'cheque', reference: 'CHQ-881', receivedOn: '2026-03-01', advantageCents: 0, confirmed: true };
  expect(read('en', 'payment.recorded', details)).toEqual([
    { label: 'Pledge', value: '12' },
    { label: 'Amount', value: '$1,500.00' },
    { label: 'Method', value: 'Cheque' },
    { label: 'Reference', value: 'CHQ-881' },
    { label: 'Received', value: 'March 1, 2026' },
    { label: 'Advantage', value: '$0.00' },
    { label: 'Amount confirmed', value: 'yes' },
  ]);
  const french = read('fr', 'payment.recorded', details);
  expect(french).toContainEqual({ label: 'Mode', value: 'Chèque' });
  expect(french).toContainEqual({ label: 'Montant', value: '1\u00a0500,00\u00a0$' });
  expect(french).toContainEqual({ label: 'Reçu le', value: '1er mars 2026' });
  expect(french).toContainEqual({ label: 'Montant confirmé', value: 'oui' });
});

test('codes read as words in the action’s own vocabulary; groups and people by name', () => {
  expect(read('fr', 'family.status_changed', { from: 'referred', to: 'available' })).toEqual([
    { label: 'De', value: 'Recommandée' },
    { label: 'À', value: 'Disponible pour un jumelage' },
  ]);
  expect(read('fr', 'matching.priorities_set', { from: ['medical_needs'], to: ['sgbv_survivor', 'medical_needs'] })).toEqual([
    { label: 'De', value: 'Soutien médical' },
    { label: 'À', value: expect.stringContaining(', Soutien médical') },
  ]);
  expect(read('en', 'match.withdrawn', { familyId: 4, groupId: 3, was: 'proposed' })).toEqual([
    { label: 'Family', value: '4' },
    { label: 'Group', value: 'Maple Street Sponsors' },
    { label: 'Was', value: 'Proposed (held)' },
  ]);
  expect(read('en', 'group.member_role_set', { memberId: 7, role: 'treasurer' })).toEqual([
    { label: 'Member', value: 'Ji-woo Kim' },
    { label: 'Role', value: 'Treasurer' },
  ]);
  expect(read('ko', 'family_identity.viewed', { purpose: 'staff_reveal', fields: ['names', 'contact'], reason: 'booking the interpreter' })).toEqual([
    { label: '목적', value: '직원이 열람' },
    { label: '항목', value: '이름, 연락처' },
    { label: '사유', value: 'booking the interpreter' },
  ]);
});

test('nested and unknown details are labelled words, never JSON; an unknown key is humanised', () => {
  const lines = read('en', 'campaign.text_edited', { before: { title: 'Old', story: 'x' }, after: { title: 'New' }, someNewFlag: 'kept', offers: [1, 2] });
  for (const line of lines) expect(line.value).not.toMatch(JSON_LIKE);
  expect(lines).toEqual([
    { label: 'Before', value: 'Title: Old; Story: x' },
    { label: 'After', value: 'Title: New' },
    { label: 'Some new flag', value: 'kept' },
    { label: 'Offers', value: '1, 2' },
  ]);
  expect(humanise('donorsWithoutAddress')).toBe('Donors without address');
});

test('a value under a family identity field’s name is never shown, even nested', () => {
  const lines = read('en', 'family.updated', { names: 'Kim Family', contact: '555-0100', changed: { datesOfBirth: '1990-01-01', size: 4 } });
  expect(JSON.stringify(lines)).not.toMatch(/Kim Family|555-0100|1990/);
  expect(lines).toEqual([{ label: 'Changed', value: 'Size: 4' }]);
});

test('a family’s language code reads as the language’s name in the page’s language (Intl.DisplayNames)', () => {
  expect(['en', 'fr', 'ko'].map((l) => formatLanguage('ko', l as 'en' | 'fr' | 'ko'))).toEqual(['Korean', 'coréen', '한국어']);
  expect(formatLanguage('ru', 'fr')).toBe('russe');
  expect(formatLanguage('not a code', 'en')).toBe('not a code');
});

test('a percent is written as the page’s language writes it (Intl.NumberFormat): 121% in English, 121 % in French', () => {
  expect(formatPercent(1.21, 'en')).toBe('121%');
  expect(formatPercent(1.21, 'fr')).toBe('121\u00a0%');
  expect(formatPercent(0.5, 'ko')).toBe('50%');
});
