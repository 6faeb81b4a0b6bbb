import type { Db } from '../db/database';
import type { Database, ReceiptFrequency } from '../db/schema';
import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { paymentDay } from '../giving/payments';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Receipts keep the charity's dates they print (issued_on, and received_on per line). Those issued
 * before the dates were kept are read in the only zone Haven used until then.
 */
const ZONE_BEFORE_DATES_WERE_KEPT = 'America/Toronto';

/** A receipt as issued, with the serial it replaces (if any): what the PDF and staff pages show. */
export type Receipt = {
  id: number;
  serial: string;
  donorId: number;
  frequency: ReceiptFrequency;
  taxYear: number;
  amountCents: number;
  advantageCents: number;
  advantageDescription: string | null;
  eligibleAmountCents: number;
  receivedFrom: string;
  receivedTo: string;
  issuedAt: Date;
  /** The charity's date of issue, 'YYYY-MM-DD' (CHARITY_TIME_ZONE when it was issued). */
  issuedOn: string;
  donorName: string;
  donorAddress: string;
  locale: 'en' | 'fr';
  /** The charity and signatory as they were when the receipt was issued. */
  charity: { name: string; address: string; registrationNumber: string; placeOfIssue: string; signatoryName: string; signatoryTitle: string };
  status: 'issued' | 'cancelled';
  cancelledAt: Date | null;
  replacesSerial: string | null;
  /** The receipt that replaced this one, once it is cancelled and replaced. */
  replacedBySerial: string | null;
  /** The authorised signature printed on it (null: issued before staff uploaded one). */
  signature: { image: Buffer; width: number; height: number } | null;
  gifts: { receivedOn: string; amountCents: number }[];
};

type Handle = Db | Transaction<Database>;

async function loadReceipt(db: Handle, where: { id: number } | { tokenHash: string }): Promise<Receipt | undefined> {
  let query = db
    .selectFrom('receipts as r')
    .leftJoin('receipts as o', 'o.id', 'r.replaces_receipt_id')
    .leftJoin('receipts as n', 'n.replaces_receipt_id', 'r.id')
    .leftJoin('receipt_signatures as s', 's.id', 'r.signature_id')
    .select([
      'r.id',
      'r.serial',
      'r.donor_id as donorId',
      'r.frequency',
      'r.tax_year as taxYear',
      'r.amount_cents as amountCents',
      'r.advantage_cents as advantageCents',
      'r.advantage_description as advantageDescription',
      'r.eligible_amount_cents as eligibleAmountCents',
      'r.received_from as receivedFrom',
      'r.received_to as receivedTo',
      'r.issued_at as issuedAt',
      sql<string>`coalesce(r.issued_on, (r.issued_at at time zone ${sql.lit(ZONE_BEFORE_DATES_WERE_KEPT)})::date)::text`.as('issuedOn'),
      'r.donor_name as donorName',
      'r.donor_address as donorAddress',
      'r.locale',
      'r.charity_name',
      'r.charity_address',
      'r.charity_registration_number',
      'r.place_of_issue',
      'r.signatory_name',
      'r.signatory_title',
      'r.status',
      'r.cancelled_at as cancelledAt',
      'o.serial as replacesSerial',
      'n.serial as replacedBySerial',
      's.image as signatureImage',
      's.width as signatureWidth',
      's.height as signatureHeight',
    ]);
  query = 'id' in where ? query.where('r.id', '=', where.id) : query.where('r.download_token_hash', '=', where.tokenHash);
  const row = await query.executeTakeFirst();
  if (!row) return undefined;
  const gifts = await db
    .selectFrom('receipt_payments as rp')
    .innerJoin('payments as p', 'p.id', 'rp.payment_id')
    .select(['rp.amount_cents as amountCents', sql<string>`coalesce(rp.received_on, ${paymentDay(ZONE_BEFORE_DATES_WERE_KEPT)})::text`.as('receivedOn')])
    .where('rp.receipt_id', '=', row.id)
    .orderBy('p.received_at')
    .orderBy('p.id')
    .execute();
  const { charity_name, charity_address, charity_registration_number, place_of_issue, signatory_name, signatory_title, signatureImage, signatureWidth, signatureHeight, ...receipt } = row;
  return {
    ...receipt,
    signature: signatureImage ? { image: signatureImage, width: signatureWidth!, height: signatureHeight! } : null,
    charity: {
      name: charity_name,
      address: charity_address,
      registrationNumber: charity_registration_number,
      placeOfIssue: place_of_issue,
      signatoryName: signatory_name,
      signatoryTitle: signatory_title,
    },
    gifts,
  };
}

export function findReceipt(db: Handle, id: number): Promise<Receipt | undefined> {
  return loadReceipt(db, { id });
}

/** The receipt a donor's download link names; the token is stored only as its hash. */
export function findReceiptByToken(db: Handle, token: string): Promise<Receipt | undefined> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return Promise.resolve(undefined);
  return loadReceipt(db, { tokenHash: hashToken(token) });
}

export type ReceiptSummary = {
  id: number;
  serial: string;
  donorName: string;
  frequency: ReceiptFrequency;
  taxYear: number;
  amountCents: number;
  issuedAt: Date;
  status: 'issued' | 'cancelled';
  replacesSerial: string | null;
};

/** Receipts newest first, keyset-paged by id. */
export async function listReceipts(db: Handle, options: { before?: number; limit?: number; donorId?: number; donorIds?: number[] } = {}) {
  const limit = Math.min(options.limit ?? 50, 200);
  let query = db
    .selectFrom('receipts as r')
    .leftJoin('receipts as o', 'o.id', 'r.replaces_receipt_id')
    .select([
      'r.id',
      'r.serial',
      'r.donor_name as donorName',
      'r.frequency',
      'r.tax_year as taxYear',
      'r.amount_cents as amountCents',
      'r.issued_at as issuedAt',
      'r.status',
      'o.serial as replacesSerial',
    ])
    .orderBy('r.id', 'desc')
    .limit(limit + 1);
  if (options.before) query = query.where('r.id', '<', options.before);
  if (options.donorId) query = query.where('r.donor_id', '=', options.donorId);
  if (options.donorIds) query = query.where('r.donor_id', 'in', options.donorIds.length > 0 ? options.donorIds : [-1]);
  const rows: ReceiptSummary[] = await query.execute();
  return { rows: rows.slice(0, limit), nextBefore: rows.length > limit ? rows[limit - 1]!.id : undefined };
}

/** The PDF exactly as it was issued (kept since issue 14; receipts issued before have none). */
export async function findIssuedDocument(db: Handle, receiptId: number): Promise<Buffer | undefined> {
  const row = await db.selectFrom('receipt_documents').select('pdf').where('receipt_id', '=', receiptId).executeTakeFirst();
  return row?.pdf;
}
