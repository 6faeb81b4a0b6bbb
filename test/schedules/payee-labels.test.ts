import { translatorFor } from '../../server/i18n/i18n';
import { payeeLabel, payeeLabelText } from '../../server/schedules/payee-labels';

/** Payee labels are stored in English as Haven writes them; each page says them in its reader's language (issue 18). */
test.each([
  ['fr', 'Adulte 1 (demandeur principal)', 'Adulte 2', 'Adulte 3 (a eu 18 ans pendant le calendrier)'],
  ['ko', '성인 1 (주 신청인)', '성인 2', '성인 3 (지원 기간 중 18세가 됨)'],
  ['en', 'Adult 1 (principal applicant)', 'Adult 2', 'Adult 3 (turned 18 during the schedule)'],
] as const)('the labels Haven writes read back in %s', (locale, principal, adult, cameOfAge) => {
  const t = translatorFor(locale);
  expect(payeeLabel(payeeLabelText.principal(1), t)).toBe(principal);
  expect(payeeLabel(payeeLabelText.adult(2), t)).toBe(adult);
  expect(payeeLabel(payeeLabelText.cameOfAge(3), t)).toBe(cameOfAge);
});

test('a label in no form Haven writes is shown as stored', () => {
  expect(payeeLabel('Grandmother (lives with the family)', translatorFor('fr'))).toBe('Grandmother (lives with the family)');
});
