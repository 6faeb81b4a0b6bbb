import { sql } from 'kysely';
import type { Actor } from '../audit/audit';
import { writeAudit } from '../audit/audit';
import { paymentDay } from '../giving/payments';
import {
  calendarOf,
  effectiveFrequency,
  hasAddress,
  insertReceipt,
  type Line,
  lineColumns,
  ReceiptError,
  type ReceiptSettings,
  receiptableCents,
  receivedOn,
  type Trx,
  unreceiptedPayments,
} from './issuing';
import { cancelAndReissue, currentLines, lockReceipt } from './replacing';

export type YearEndResult = {
  year: number;
  annualIssued: number;
  annualReplaced: number;
  perGiftIssued: number;
  /** Donors with gifts in the year who have no address on file: they wait in the queue. */
  donorsWithoutAddress: number;
  serials: string[];
};

/**
 * The year-end run, in one transaction: every annual donor with gifts received in `year` ends
 * with exactly one annual receipt in force for the year's total (an earlier annual receipt for
 * that year is cancelled and replaced when late gifts arrived), and every per-gift payment of the
 * year still without a receipt gets one. Running it twice changes nothing the second time.
 */
export async function runYearEnd(trx: Trx, settings: ReceiptSettings, year: number, actor: Actor): Promise<YearEndResult> {
  const currentYear = Number(calendarOf(settings).today().slice(0, 4));
  if (!Number.isInteger(year) || year < 2000 || year > currentYear) throw new ReceiptError('invalid', 'badYear', { latest: currentYear });
  // One run at a time; concurrent issuing of single receipts is guarded by the unique indexes.
  await sql`select pg_advisory_xact_lock(hashtext('receipts.year_end'))`.execute(trx);

  const due = await unreceiptedPayments(trx, settings)
    .select(['p.id as paymentId', 'd.id as donorId', receiptableCents.as('amountCents'), receivedOn(settings).as('receivedOn'), effectiveFrequency.as('frequency'), ...lineColumns])
    .where(hasAddress)
    .where(sql`extract(year from ${paymentDay(settings.charityTimeZone)})`, '=', year)
    .orderBy('d.id')
    .orderBy('p.received_at')
    .orderBy('p.id')
    .forUpdate('p')
    .execute();

  const waiting = await unreceiptedPayments(trx, settings)
    .select(sql<number>`count(distinct d.id)::bigint`.as('n'))
    .where(sql<boolean>`not ${hasAddress}`)
    .where(sql`extract(year from ${paymentDay(settings.charityTimeZone)})`, '=', year)
    .executeTakeFirstOrThrow();
  const result: YearEndResult = { year, annualIssued: 0, annualReplaced: 0, perGiftIssued: 0, donorsWithoutAddress: waiting.n, serials: [] };
  const annualByDonor = new Map<number, Line[]>();
  for (const row of due) {
    const line = { paymentId: row.paymentId, amountCents: row.amountCents, receivedOn: row.receivedOn, advantageCents: row.advantageCents, advantageDescription: row.advantageDescription };
    if (row.frequency === 'annual') {
      annualByDonor.set(row.donorId, [...(annualByDonor.get(row.donorId) ?? []), line]);
    } else {
      const receipt = await insertReceipt(trx, settings, { donorId: row.donorId, frequency: 'per_gift', taxYear: year, lines: [line] });
      result.perGiftIssued += 1;
      result.serials.push(receipt.serial);
    }
  }
  for (const [donorId, lines] of annualByDonor) {
    const existing = await trx
      .selectFrom('receipts')
      .select('id')
      .where('donor_id', '=', donorId)
      .where('tax_year', '=', year)
      .where('frequency', '=', 'annual')
      .where('status', '=', 'issued')
      .executeTakeFirst();
    if (existing) {
      const original = (await lockReceipt(trx, existing.id))!;
      const kept = await currentLines(trx, settings, original.id);
      const { replacement } = await cancelAndReissue(trx, settings, original, [...kept, ...lines], 'gifts received after the annual receipt');
      result.annualReplaced += 1;
      if (replacement) result.serials.push(replacement.serial);
    } else {
      const receipt = await insertReceipt(trx, settings, { donorId, frequency: 'annual', taxYear: year, lines });
      result.annualIssued += 1;
      result.serials.push(receipt.serial);
    }
  }
  await writeAudit(trx, {
    actor,
    action: 'receipt.year_end_run',
    subject: `receipts:${year}`,
    details: { annualIssued: result.annualIssued, annualReplaced: result.annualReplaced, perGiftIssued: result.perGiftIssued, donorsWithoutAddress: result.donorsWithoutAddress },
  });
  return result;
}
