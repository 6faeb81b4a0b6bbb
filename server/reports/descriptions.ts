import type { TFunction } from 'i18next';

/**
 * A journal entry's description in the reader's language. Descriptions are stored as English
 * text written at posting (server/giving, server/schedules, server/groups/transfers.ts) and are
 * never rewritten; each kind's text has one known form, so its numbers are read back out of it
 * and the sentence is said again from reports:descriptions. A text in no known form (an older
 * wording, a test's) is shown as stored.
 */
type Reading = { pattern: RegExp; key: string; values: (m: RegExpExecArray, t: TFunction, groups: Map<number, string>) => Record<string, string> };

const READINGS: Record<string, Reading[]> = {
  gift_received: [{ pattern: /^(card|cheque|etransfer|cash) gift for pledge (\d+)$/, key: 'giftReceived', values: (m, t) => ({ method: t(`giving:labels.method.${m[1]}`), pledge: m[2]! }) }],
  pledge_opened: [{ pattern: /^Pledge (\d+) promised$/, key: 'pledgeOpened', values: (m) => ({ pledge: m[1]! }) }],
  pledge_released: [{ pattern: /^Pledge (\d+) (cancelled|lapsed): unpaid remainder released$/, key: 'pledgeReleased', values: (m, t) => ({ pledge: m[1]!, status: t(`reports:descriptions.pledgeStatus.${m[2]}`) }) }],
  payment_voided: [{ pattern: /^Payment (\d+) voided: ([\s\S]*)$/, key: 'paymentVoided', values: (m) => ({ payment: m[1]!, reason: m[2]! }) }],
  gift_refunded: [{ pattern: /^Refund of card payment (\d+)$/, key: 'giftRefunded', values: (m) => ({ payment: m[1]! }) }],
  gift_refund_failed: [{ pattern: /^Failed refund of card payment (\d+): the money came back$/, key: 'giftRefundFailed', values: (m) => ({ payment: m[1]! }) }],
  dispute_funds_withdrawn: [{ pattern: /^Dispute (\S+) on card payment (\d+): balance transaction (\S+)$/, key: 'dispute', values: (m) => ({ dispute: m[1]!, payment: m[2]!, balance: m[3]! }) }],
  dispute_funds_reinstated: [{ pattern: /^Dispute (\S+) on card payment (\d+): balance transaction (\S+)$/, key: 'dispute', values: (m) => ({ dispute: m[1]!, payment: m[2]!, balance: m[3]! }) }],
  payout_paid: [{ pattern: /^Stripe payout (\S+) to the bank$/, key: 'payoutPaid', values: (m) => ({ payout: m[1]! }) }],
  payout_failed: [{ pattern: /^Stripe payout (\S+) returned by the bank$/, key: 'payoutFailed', values: (m) => ({ payout: m[1]! }) }],
  disbursement: [{ pattern: /^Support paid for schedule (\d+), instalment (\d+)$/, key: 'disbursement', values: (m) => ({ schedule: m[1]!, installment: m[2]! }) }],
  fund_transfer: [{ pattern: /^General fund to group (\d+)$/, key: 'fundTransfer', values: (m, t, groups) => ({ group: groups.get(Number(m[1])) ?? t('reports:fund.group', { id: m[1] }) }) }],
};

/** The group ids fund transfers' descriptions name, so the journal can say their names. */
export function groupIdsInDescriptions(rows: readonly { kind: string; description: string }[]): number[] {
  return rows.map((r) => (r.kind === 'fund_transfer' ? /^General fund to group (\d+)$/.exec(r.description)?.[1] : undefined)).filter((id) => id !== undefined).map(Number);
}

export function descriptionLabel(t: TFunction, kind: string, description: string, groups: Map<number, string>): string {
  for (const reading of READINGS[kind] ?? []) {
    const match = reading.pattern.exec(description);
    if (match) return t(`reports:descriptions.${reading.key}`, reading.values(match, t, groups));
  }
  return description;
}
