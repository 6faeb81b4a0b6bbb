import type { Actor } from '../audit/audit';
import { writeAudit } from '../audit/audit';
import type { ReceiptFrequency } from '../db/schema';
import {
  calendarOf,
  insertReceipt,
  type IssuedReceipt,
  issueReceiptIfDue,
  type Line,
  lineColumns,
  ReceiptError,
  type ReceiptSettings,
  receiptableCents,
  receivedOn,
  SYSTEM,
  type Trx,
  unreceiptedPayments,
  yearOf,
} from './issuing';

/*
 * Correcting a receipt already issued: it is never edited. The receipt is cancelled (kept, marked
 * cancelled) and a replacement with a new serial states the one it replaces, for what remains.
 * Staff corrections, refunds and lost disputes, and offline-payment corrections all come here.
 */

export type LockedReceipt = {
  id: number;
  serial: string;
  donor_id: number;
  frequency: ReceiptFrequency;
  tax_year: number;
  amount_cents: number;
  advantage_cents: number;
  advantage_description: string | null;
  donor_address: string;
  status: 'issued' | 'cancelled';
};

export async function lockReceipt(trx: Trx, receiptId: number): Promise<LockedReceipt | undefined> {
  return trx
    .selectFrom('receipts')
    .select(['id', 'serial', 'donor_id', 'frequency', 'tax_year', 'amount_cents', 'advantage_cents', 'advantage_description', 'donor_address', 'status'])
    .where('id', '=', receiptId)
    .forUpdate()
    .executeTakeFirst();
}

/** The receipt's payments as they stand now (refunds and lost disputes taken off). */
export async function currentLines(trx: Trx, settings: ReceiptSettings, receiptId: number): Promise<(Line & { receiptedCents: number })[]> {
  return trx
    .selectFrom('receipt_payments as rp')
    .innerJoin('payments as p', 'p.id', 'rp.payment_id')
    .select(['p.id as paymentId', receiptableCents.as('amountCents'), receivedOn(settings).as('receivedOn'), 'rp.amount_cents as receiptedCents', ...lineColumns])
    .where('rp.receipt_id', '=', receiptId)
    .where('rp.in_force', '=', true)
    .where('p.receiptable', '=', true)
    .orderBy('p.id')
    .execute();
}

async function cancel(trx: Trx, settings: ReceiptSettings, receiptId: number, reason: string): Promise<void> {
  await trx.updateTable('receipt_payments').set({ in_force: false }).where('receipt_id', '=', receiptId).where('in_force', '=', true).execute();
  await trx.updateTable('receipts').set({ status: 'cancelled', cancelled_at: calendarOf(settings).now(), cancel_reason: reason }).where('id', '=', receiptId).execute();
}

export type Replacement = { cancelled: { id: number; serial: string }; replacement: IssuedReceipt | null };

export async function cancelAndReissue(trx: Trx, settings: ReceiptSettings, original: LockedReceipt, lines: Line[], reason: string, taxYear = original.tax_year): Promise<Replacement> {
  await cancel(trx, settings, original.id, reason);
  const remaining = lines.filter((l) => l.amountCents > 0);
  const replacement =
    remaining.length === 0
      ? null
      : await insertReceipt(trx, settings, {
          donorId: original.donor_id,
          frequency: original.frequency,
          taxYear,
          lines: remaining,
          replaces: {
            id: original.id,
            serial: original.serial,
            advantageCents: original.advantage_cents,
            advantageDescription: original.advantage_description,
            donorAddress: original.donor_address,
          },
        });
  return { cancelled: { id: original.id, serial: original.serial }, replacement };
}

/**
 * Staff correction: cancels a receipt (kept, marked cancelled) and issues a replacement with a
 * new serial that states the one it replaces, for the donor's current name and address.
 */
export async function cancelAndReplaceReceipt(trx: Trx, settings: ReceiptSettings, receiptId: number, reason: string, actor: Actor): Promise<Replacement> {
  const original = await lockReceipt(trx, receiptId);
  if (!original) throw new ReceiptError('not_found', 'noReceipt');
  if (original.status !== 'issued') throw new ReceiptError('conflict', 'alreadyCancelled');
  const result = await cancelAndReissue(trx, settings, original, await currentLines(trx, settings, receiptId), reason);
  await writeAudit(trx, {
    actor,
    action: 'receipt.replaced',
    subject: `receipt:${original.id}`,
    details: { serial: original.serial, reason, replacementSerial: result.replacement?.serial ?? null },
  });
  return result;
}

/**
 * After a receipted payment is refunded (wholly or partly) or a dispute on it is lost: cancels
 * the receipt in force and issues a replacement for what remains (none if nothing does). Call it
 * in the same transaction that records the refund or the dispute's outcome. Does nothing when
 * the payment has no receipt or its receipt still states the right amounts.
 */
export async function reviseReceiptsAfterRefund(trx: Trx, paymentId: number, settings: ReceiptSettings): Promise<Replacement | null> {
  const line = await trx.selectFrom('receipt_payments').select('receipt_id').where('payment_id', '=', paymentId).where('in_force', '=', true).executeTakeFirst();
  if (!line) return null;
  const original = await lockReceipt(trx, line.receipt_id);
  if (!original || original.status !== 'issued') return null;
  const lines = await currentLines(trx, settings, original.id);
  if (lines.every((l) => l.amountCents === l.receiptedCents)) return null;
  const result = await cancelAndReissue(trx, settings, original, lines, `payment ${paymentId} refunded or disputed`);
  await writeAudit(trx, {
    actor: SYSTEM,
    action: 'receipt.revised_after_refund',
    subject: `receipt:${original.id}`,
    details: { serial: original.serial, paymentId, replacementSerial: result.replacement?.serial ?? null },
  });
  return result;
}

/**
 * Staff voided or corrected a payment (giving's offline corrections): the receipt in force for the
 * voided payment is cancelled (kept, marked cancelled) and a replacement with a new serial, stating
 * the one it replaces, covers what remains, with the corrected payment in the voided one's place
 * (a per-gift receipt takes the corrected date's tax year; an annual receipt keeps its year and the
 * corrected payment only if it falls in it). A voided payment with no receipt leaves the corrected
 * one to be receipted as any new payment is.
 */
export async function reviseReceiptAfterCorrection(
  trx: Trx,
  settings: ReceiptSettings,
  input: { voidedPaymentId: number; replacementPaymentId: number | null; reason: string; actor: Actor },
): Promise<Replacement | null> {
  const line = await trx.selectFrom('receipt_payments').select('receipt_id').where('payment_id', '=', input.voidedPaymentId).where('in_force', '=', true).executeTakeFirst();
  const original = line && (await lockReceipt(trx, line.receipt_id));
  if (!original || original.status !== 'issued') {
    if (input.replacementPaymentId !== null) await issueReceiptIfDue(trx, settings, input.replacementPaymentId);
    return null;
  }
  const lines: Line[] = await currentLines(trx, settings, original.id);
  let taxYear = original.tax_year;
  if (input.replacementPaymentId !== null) {
    const replacement = await unreceiptedPayments(trx, settings)
      .select(['p.id as paymentId', receiptableCents.as('amountCents'), receivedOn(settings).as('receivedOn'), ...lineColumns])
      .where('p.id', '=', input.replacementPaymentId)
      .executeTakeFirst();
    if (replacement && original.frequency === 'per_gift') taxYear = yearOf(replacement.receivedOn);
    if (replacement && (original.frequency === 'per_gift' || yearOf(replacement.receivedOn) === original.tax_year)) lines.push(replacement);
  }
  const result = await cancelAndReissue(trx, settings, original, lines, input.reason, taxYear);
  await writeAudit(trx, {
    actor: input.actor,
    action: 'receipt.replaced',
    subject: `receipt:${original.id}`,
    details: { serial: original.serial, reason: input.reason, voidedPaymentId: input.voidedPaymentId, replacementSerial: result.replacement?.serial ?? null },
  });
  if (!result.replacement && input.replacementPaymentId !== null) await issueReceiptIfDue(trx, settings, input.replacementPaymentId);
  return result;
}
