import { sql, type Transaction } from 'kysely';
import { toCurrency as englishCurrency } from 'to-words/en-CA';
import { toCurrency as frenchCurrency, toWords as frenchWords } from 'to-words/fr-CA';
import { type Actor, writeAudit } from '../audit/audit';
import { type CharityCalendar, charityCalendar } from '../calendar/charity-calendar';
import type { Database } from '../db/schema';
import { recordPayment, voidPayment } from './payments';
import { lockPledge, openPledgeCents } from './pledges';
import { DomainError } from '../domain-error';
import { formatMoney } from '../http/views';
import { type Locale, translatorFor } from '../i18n/i18n';
import type { ReceiptSettings } from '../receipts/issuing';
import { reviseReceiptAfterCorrection } from '../receipts/replacing';
import { MAX_GIFT_CENTS } from './give-form';
import { receiptIfDue } from './card-payments';

/**
 * Offline payments staff record (cheques, e-transfers, cash), checked before money moves and
 * corrected with a trail after: a void or a correction is a reversing ledger transaction (plus,
 * for a correction, a new payment and its own posting), never an edit; receipts are cancelled
 * and replaced as CRA requires; every step is audited.
 */
export type OfflineMethod = 'cheque' | 'etransfer' | 'cash';

/** What the sanity checks need: the charity's calendar and the size above which staff confirm. */
export type OfflineChecks = { calendar?: CharityCalendar; largePaymentCents?: number };

/** CRA: an advantage above 80 % of the gift means there is no gift to receipt. */
const MAX_ADVANTAGE_PERCENT = 80;
const DEFAULT_LARGE_PAYMENT_CENTS = 1_000_000;

/** An amount that needs staff to confirm it: the form shows it in figures and in words. */
export class ConfirmationNeeded extends DomainError {
  constructor(
    message: string,
    readonly confirmation: { amountCents: number; words: string; owedCents: number; reason: 'owed' | 'large' },
  ) {
    super('invalid', message, { amount: message });
  }
}

/** 500043 → "five thousand canadian dollars and forty three cents" (fr: "cinq mille dollars et quarante-trois cents"). */
export function amountInWords(cents: number, locale: Locale): string {
  if (locale === 'fr') {
    // The cents are spelled as a number of their own: to-words' currency writes 80 cents « quatre-vingt cents », dropping
    // the s « quatre-vingts » keeps when no other number follows (it takes the currency's « cents » for the numeral « cent »).
    const dollars = frenchCurrency(Math.floor(cents / 100), { doNotAddOnly: true });
    const rest = cents % 100;
    return (rest === 0 ? dollars : `${dollars} et ${frenchWords(rest)} ${rest === 1 ? 'cent' : 'cents'}`).toLowerCase();
  }
  // to-words takes dollars: cents / 100 has at most two decimals, which it reads back exactly.
  return englishCurrency(cents / 100, { doNotAddOnly: true }).toLowerCase();
}

export type OfflinePayment = OfflineChecks & {
  pledgeId: number;
  amountCents: number;
  method: OfflineMethod;
  /** Cheque number or e-transfer reference: the natural key, unique per method among payments in force. */
  reference: string;
  receivedOn: string;
  /** What the donor received in return, with its description (CRA: the receipt states both). */
  advantageCents?: number;
  advantageDescription?: string | null;
  /** The amount staff confirmed, when it is above what the pledge owes or the large-payment threshold. */
  confirmedAmountCents?: number;
  actor: Actor;
  locale?: Locale;
  /** When given, a per-gift donor's receipt is issued in the same transaction. */
  receipts?: ReceiptSettings;
};

function fieldError(kind: 'invalid' | 'conflict', field: string, message: string): DomainError {
  return new DomainError(kind, message, { [field]: message });
}

/** The checks every amount and date staff type go through, for a new payment and for a correction. */
async function checkAmountAndDate(
  trx: Transaction<Database>,
  input: OfflineChecks & { pledgeId: number; amountCents: number; receivedOn: string; advantageCents: number; advantageDescription: string | null; confirmedAmountCents?: number; locale: Locale; excludingPaymentId?: number },
) {
  const t = translatorFor(input.locale);
  const calendar = input.calendar ?? charityCalendar();
  if (input.receivedOn > calendar.today()) throw fieldError('invalid', 'receivedOn', t('giving:staff.errors.futureDate', { today: calendar.today() }));
  if (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0) throw fieldError('invalid', 'amount', t('giving:staff.errors.amount'));
  if (input.amountCents > MAX_GIFT_CENTS) throw fieldError('invalid', 'amount', t('giving:staff.errors.amountMax', { max: formatMoney(MAX_GIFT_CENTS, input.locale) }));
  if (input.advantageCents * 100 > input.amountCents * MAX_ADVANTAGE_PERCENT) {
    throw fieldError('invalid', 'advantage', t('giving:staff.errors.advantageMax', { max: formatMoney(Math.floor((input.amountCents * MAX_ADVANTAGE_PERCENT) / 100), input.locale) }));
  }
  if (input.advantageCents > 0 && !input.advantageDescription) throw fieldError('invalid', 'advantageDescription', t('giving:staff.errors.advantageDescription'));

  const pledge = await lockPledge(trx, input.pledgeId);
  if (!pledge) throw new DomainError('not_found', t('giving:staff.errors.noPledge', { id: input.pledgeId }));
  let query = trx.selectFrom('payments').select(sql<number>`coalesce(sum(amount_cents), 0)::bigint`.as('received')).where('pledge_id', '=', pledge.id).where('status', '<>', 'voided');
  if (input.excludingPaymentId) query = query.where('id', '<>', input.excludingPaymentId);
  const { received } = await query.executeTakeFirstOrThrow();
  const owedCents = openPledgeCents(pledge, received);
  const large = input.largePaymentCents ?? DEFAULT_LARGE_PAYMENT_CENTS;
  const reason = input.amountCents > owedCents ? 'owed' : input.amountCents > large ? 'large' : undefined;
  if (reason && input.confirmedAmountCents !== input.amountCents) {
    const amount = formatMoney(input.amountCents, input.locale);
    const words = amountInWords(input.amountCents, input.locale);
    const message =
      reason === 'owed'
        ? t('giving:staff.confirm.owed', { amount, words, owed: formatMoney(owedCents, input.locale) })
        : t('giving:staff.confirm.large', { amount, words, threshold: formatMoney(large, input.locale) });
    throw new ConfirmationNeeded(message, { amountCents: input.amountCents, words, owedCents, reason });
  }
  return pledge;
}

/** Staff record a cheque or e-transfer: one payment, its ledger posting, the next due instalment marked paid, an audit row. */
export async function recordOfflinePayment(trx: Transaction<Database>, input: OfflinePayment): Promise<number> {
  const locale = input.locale ?? 'en';
  const t = translatorFor(locale);
  const calendar = input.calendar ?? charityCalendar();
  const advantageCents = input.advantageCents ?? 0;
  const advantageDescription = advantageCents > 0 ? input.advantageDescription?.trim() || null : null;
  const pledge = await lockPledge(trx, input.pledgeId);
  if (!pledge) throw new DomainError('not_found', t('giving:staff.errors.noPledge', { id: input.pledgeId }));
  if (pledge.method === 'card') throw new DomainError('conflict', t('giving:staff.errors.cardPledge'));
  if (pledge.status === 'cancelled' || pledge.status === 'lapsed') throw new DomainError('conflict', t('giving:staff.errors.ended', { status: pledge.status }));
  const reference = input.reference.trim();
  await refuseDuplicateReference(trx, input.method, reference, t);
  await checkAmountAndDate(trx, { ...input, calendar, advantageCents, advantageDescription, locale });
  const paymentId = await recordPayment(trx, {
    pledgeId: pledge.id,
    amountCents: input.amountCents,
    method: input.method,
    reference,
    receivedOn: input.receivedOn,
    receivedAt: calendar.startOf(input.receivedOn),
    advantageCents,
    advantageDescription,
  });
  const next = await trx
    .selectFrom('pledge_installments')
    .select('id')
    .where('pledge_id', '=', pledge.id)
    .where('status', '=', 'due')
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  if (next) await trx.updateTable('pledge_installments').set({ status: 'paid', payment_id: paymentId }).where('id', '=', next.id).execute();
  if (input.receipts) await receiptIfDue(trx, { receipts: { ...input.receipts, clock: calendar.clock } }, paymentId);
  await writeAudit(trx, {
    actor: input.actor,
    action: 'payment.recorded',
    subject: `payment:${paymentId}`,
    details: { pledgeId: pledge.id, amountCents: input.amountCents, method: input.method, reference, receivedOn: input.receivedOn, advantageCents, confirmed: input.confirmedAmountCents === input.amountCents },
  });
  return paymentId;
}

async function refuseDuplicateReference(trx: Transaction<Database>, method: OfflineMethod, reference: string, t: ReturnType<typeof translatorFor>) {
  const duplicate = await trx
    .selectFrom('payments')
    .select(['id', 'pledge_id'])
    .where('method', '=', method)
    .where('status', '<>', 'voided')
    .where(sql<string>`lower(reference)`, '=', reference.toLowerCase())
    .executeTakeFirst();
  if (duplicate) {
    const message = t(method === 'cheque' ? 'giving:staff.errors.duplicateCheque' : 'giving:staff.errors.duplicateReference', { reference, payment: duplicate.id, pledge: duplicate.pledge_id });
    throw fieldError('conflict', 'reference', message);
  }
}

/** An offline payment, locked, that staff may still void or correct. */
async function lockCorrectable(trx: Transaction<Database>, paymentId: number, locale: Locale) {
  const t = translatorFor(locale);
  const payment = await trx.selectFrom('payments').selectAll().where('id', '=', paymentId).forUpdate().executeTakeFirst();
  if (!payment) throw new DomainError('not_found', t('giving:staff.errors.noPayment', { id: paymentId }));
  if (payment.method === 'card') throw new DomainError('conflict', t('giving:staff.errors.cardCorrection'));
  if (payment.status === 'voided') throw new DomainError('conflict', t('giving:staff.errors.alreadyVoided', { id: paymentId }));
  return payment;
}

export type Correction = OfflineChecks & { paymentId: number; reason: string; actor: Actor; locale?: Locale; receipts?: ReceiptSettings };

/**
 * Voids an offline payment recorded in error (reason required): a reversing ledger transaction,
 * the payment kept and marked voided, its receipt cancelled (and replaced for any other gifts it
 * covered), the donor wall and every total as if it had never been recorded. Audited.
 */
export async function voidOfflinePayment(trx: Transaction<Database>, input: Correction): Promise<void> {
  const locale = input.locale ?? 'en';
  const calendar = input.calendar ?? charityCalendar();
  const reason = input.reason.trim();
  if (!reason) throw fieldError('invalid', 'reason', translatorFor(locale)('giving:staff.errors.reason'));
  const payment = await lockCorrectable(trx, input.paymentId, locale);
  await voidPayment(trx, { paymentId: payment.id, reason, at: calendar.now() });
  if (input.receipts) await reviseReceiptAfterCorrection(trx, { ...input.receipts, clock: calendar.clock }, { voidedPaymentId: payment.id, replacementPaymentId: null, reason, actor: input.actor });
  await writeAudit(trx, {
    actor: input.actor,
    action: 'payment.voided',
    subject: `payment:${payment.id}`,
    details: { pledgeId: payment.pledge_id, amountCents: payment.amount_cents, method: payment.method, reference: payment.reference, receivedOn: payment.received_on, reason },
  });
}

/**
 * Corrects an offline payment's amount or date received: the original is voided (reversing
 * transaction) and a new payment, naming it, is recorded with its own posting, paying the same
 * instalment; the receipt is cancelled and a replacement states the one it replaces. The new
 * amount and date pass the same checks as a new payment. Returns the new payment's id.
 */
export async function correctOfflinePayment(trx: Transaction<Database>, input: Correction & { amountCents: number; receivedOn: string; confirmedAmountCents?: number }): Promise<number> {
  const locale = input.locale ?? 'en';
  const t = translatorFor(locale);
  const calendar = input.calendar ?? charityCalendar();
  const reason = input.reason.trim();
  if (!reason) throw fieldError('invalid', 'reason', t('giving:staff.errors.reason'));
  const payment = await lockCorrectable(trx, input.paymentId, locale);
  const receivedOn = payment.received_on ?? calendar.dateOf(payment.received_at);
  if (payment.amount_cents === input.amountCents && receivedOn === input.receivedOn) throw fieldError('invalid', 'amount', t('giving:staff.errors.nothingToCorrect'));
  if (input.amountCents < payment.advantage_cents) throw fieldError('invalid', 'amount', t('giving:staff.errors.belowAdvantage', { advantage: formatMoney(payment.advantage_cents, locale) }));
  await checkAmountAndDate(trx, {
    ...input,
    calendar,
    pledgeId: payment.pledge_id,
    advantageCents: payment.advantage_cents,
    advantageDescription: payment.advantage_description,
    locale,
    excludingPaymentId: payment.id,
  });
  const installment = await trx.selectFrom('pledge_installments').select('id').where('payment_id', '=', payment.id).executeTakeFirst();
  await voidPayment(trx, { paymentId: payment.id, reason, at: calendar.now() });
  const replacementId = await recordPayment(trx, {
    pledgeId: payment.pledge_id,
    amountCents: input.amountCents,
    method: payment.method,
    reference: payment.reference,
    receivedOn: input.receivedOn,
    receivedAt: calendar.startOf(input.receivedOn),
    advantageCents: payment.advantage_cents,
    advantageDescription: payment.advantage_description,
    correctsPaymentId: payment.id,
  });
  if (installment) await trx.updateTable('pledge_installments').set({ status: 'paid', payment_id: replacementId }).where('id', '=', installment.id).execute();
  if (input.receipts) await reviseReceiptAfterCorrection(trx, { ...input.receipts, clock: calendar.clock }, { voidedPaymentId: payment.id, replacementPaymentId: replacementId, reason, actor: input.actor });
  const details = { reason, from: { amountCents: payment.amount_cents, receivedOn }, to: { amountCents: input.amountCents, receivedOn: input.receivedOn }, replacementPaymentId: replacementId };
  await writeAudit(trx, { actor: input.actor, action: 'payment.corrected', subject: `payment:${payment.id}`, details });
  await writeAudit(trx, { actor: input.actor, action: 'payment.recorded', subject: `payment:${replacementId}`, details: { pledgeId: payment.pledge_id, amountCents: input.amountCents, correctsPaymentId: payment.id } });
  return replacementId;
}
