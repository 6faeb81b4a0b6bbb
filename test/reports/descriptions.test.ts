import { descriptionLabel } from '../../server/reports/descriptions';
import { accountLabel } from '../../server/reports/names';
import { translatorFor } from '../../server/i18n/i18n';

/** The journal in French (issue 18): account names and entry descriptions in words, from the stored kind and text. */
const fr = translatorFor('fr');
const groups = new Map([[3, 'Parrains de la rue Maple']]);

test('ledger accounts read as French names, groups by name', () => {
  expect(accountLabel(fr, 'fund:general', groups)).not.toMatch(/fund:|general/);
  expect(accountLabel(fr, 'fund:general', groups)).toContain('Fonds général');
  expect(accountLabel(fr, 'fund:group:3', groups)).toContain('Parrains de la rue Maple');
  expect(accountLabel(fr, 'stripe', groups)).not.toBe('stripe');
});

test('descriptions stored in English at posting are said again in French from their kind', () => {
  expect(descriptionLabel(fr, 'gift_received', 'cheque gift for pledge 12', groups)).toBe('Don par chèque pour la promesse 12');
  expect(descriptionLabel(fr, 'pledge_released', 'Pledge 4 lapsed: unpaid remainder released', groups)).toBe('Promesse 4 échue : le solde impayé est libéré');
  expect(descriptionLabel(fr, 'fund_transfer', 'General fund to group 3', groups)).toBe('Du fonds général à Parrains de la rue Maple');
  expect(descriptionLabel(fr, 'disbursement', 'Support paid for schedule 2, instalment 9', groups)).toBe('Soutien versé : calendrier 2, versement 9');
  expect(descriptionLabel(translatorFor('en'), 'payment_voided', 'Payment 5 voided: typed twice', groups)).toBe('Gift 5 voided: typed twice');
});

test('a description in no known form is shown as stored', () => {
  expect(descriptionLabel(fr, 'gift_received', 'imported from the old spreadsheet', groups)).toBe('imported from the old spreadsheet');
  expect(descriptionLabel(fr, 'test_gift', 'anything', groups)).toBe('anything');
});
