import type { TFunction } from 'i18next';

/**
 * A payee's label is stored as Haven writes it, in English (`schedule_payees.label`: rows keep what
 * they were created with); pages say it again in the reader's language. The three forms Haven
 * writes are made here and read back here, so they cannot drift apart; a label written otherwise
 * (by hand, or before these forms) is shown as stored.
 */
export const payeeLabelText = {
  principal: (n: number) => `Adult ${n} (principal applicant)`,
  adult: (n: number) => `Adult ${n}`,
  cameOfAge: (n: number) => `Adult ${n} (turned 18 during the schedule)`,
};

const READ_BACK: [RegExp, keyof typeof payeeLabelText][] = [
  [/^Adult (\d+) \(principal applicant\)$/, 'principal'],
  [/^Adult (\d+) \(turned 18 during the schedule\)$/, 'cameOfAge'],
  [/^Adult (\d+)$/, 'adult'],
];

/** "Adult 1 (principal applicant)" as « Adulte 1 (demandeur principal) » on a French page. */
export function payeeLabel(stored: string, t: TFunction): string {
  for (const [pattern, form] of READ_BACK) {
    const match = pattern.exec(stored);
    if (match) return t(`schedules:payeeLabels.${form}`, { n: Number(match[1]) });
  }
  return stored;
}
