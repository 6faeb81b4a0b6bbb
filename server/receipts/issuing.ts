import { createHash, randomBytes } from 'node:crypto';
import { renderReceiptPdf } from './pdf';
import { findReceipt, hashToken } from './receipts';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Actor } from '../audit/audit';
import { writeAudit } from '../audit/audit';
import { charityCalendar, type CharityCalendar, type Clock, DEFAULT_CHARITY_TIME_ZONE } from '../calendar/charity-calendar';
import type { Config } from '../config';
import type { Database, ReceiptFrequency } from '../db/schema';
import { paymentDay } from '../giving/payments';
import { DomainError, type DomainErrorKind } from '../domain-error';
import { defaultReceiptLocale, translatorFor } from '../i18n/i18n';
import { queueEmail } from '../notifications/outbox';
import { detailsOfRow, formatDonorAddress } from '../giving/donor-details';

/**
 * What issuing needs from configuration: the serial prefix, the address for download links, and
 * the charity's time zone, whose calendar decides a gift's date received and so its tax year
 * (a clock may stand in for the real one: tests).
 */
export type ReceiptSettings = Pick<Config, 'charity' | 'publicUrl' | 'charityTimeZone'> & { clock?: Clock };

export function calendarOf(settings: Pick<ReceiptSettings, 'charityTimeZone' | 'clock'>): CharityCalendar {
  return charityCalendar(settings.charityTimeZone, settings.clock);
}

/**
 * A DomainError whose message is a receipts message key: English by default (logs, callers
 * outside HTTP), and shown in the reader's language by the receipts routes' error translator.
 */
export class ReceiptError extends DomainError {
  constructor(
    kind: DomainErrorKind,
    readonly messageKey: string,
    readonly messageParams: Record<string, string | number> = {},
  ) {
    super(kind, String(translatorFor('en')(`receipts:errors.${messageKey}`, messageParams)));
  }
}

export const SYSTEM: Actor = { userId: null, label: 'system' };

export type Trx = Transaction<Database>;

/** One payment on a receipt: what it counts for now (amount less refunds), when it was received, and any advantage (CRA). */
export type Line = { paymentId: number; amountCents: number; receivedOn: string; advantageCents: number; advantageDescription: string | null };

export const lineColumns = ['p.advantage_cents as advantageCents', 'p.advantage_description as advantageDescription'] as const;

export type IssuedReceipt = { id: number; serial: string; token: string; amountCents: number };

export { hashToken };

/**
 * What a payment may still be receipted for: the amount less refunds, and nothing while the
 * payment is disputed (a lost dispute is money the charity no longer holds) or fully refunded.
 */
export const receiptableCents = sql<number>`case when p.status in ('succeeded', 'partially_refunded') then p.amount_cents - p.refunded_cents else 0 end`;
/** The charity's date the gift was received (the date typed for an offline gift): its tax year. */
export const receivedOn = (settings: Pick<ReceiptSettings, 'charityTimeZone'>) => sql<string>`(${paymentDay(settings.charityTimeZone)})::text`;

/**
 * Whose details a payment's receipt carries is its pledge's `pledge_donors` row (alias pd): the
 * details typed on that gift when they differ from the donor's record, else the record, which
 * only the donor (through a link sent to the e-mail) or staff change (server/giving/README.md).
 * CRA: a receipt states the donor's address; a payment whose details have none waits in the queue.
 */
export const hasAddress = sql<boolean>`(coalesce(trim(pd.address_line1), '') <> '' and coalesce(trim(pd.city), '') <> '')`;

/**
 * The donor's choice, or the default: annual for anyone giving monthly, otherwise one receipt per
 * gift. Both apply only to gifts that use the donor's record: a gift made under other details (a
 * stranger typing someone's e-mail, or the owner before confirming new details) is receipted on its
 * own, so it can neither join the owner's annual receipt nor switch the owner's choice.
 */
export const effectiveFrequency = sql<ReceiptFrequency>`case when not pd.uses_record then 'per_gift' else coalesce(d.receipt_frequency, case when exists (
  select 1 from pledges m where m.donor_id = d.id and m.frequency = 'monthly'
    and not exists (select 1 from pledge_donor_details g where g.pledge_id = m.id)) then 'annual' else 'per_gift' end) end`;

/**
 * Payments received, receiptable and not covered by a receipt in force: the staff queue and
 * the year-end run read this. Pledges never appear: only payments (money received) do.
 */
export function unreceiptedPayments(trx: Kysely<Database>, settings: Pick<ReceiptSettings, 'charityTimeZone' | 'clock'>) {
  return trx
    .selectFrom('payments as p')
    .innerJoin('pledges as pl', 'pl.id', 'p.pledge_id')
    .innerJoin('pledge_donors as pd', 'pd.pledge_id', 'pl.id')
    .innerJoin('donors as d', 'd.id', 'pl.donor_id')
    .where('p.receiptable', '=', true)
    .where(receiptableCents, '>', 0)
    .where(paymentDay(settings.charityTimeZone), '<=', calendarOf(settings).today())
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('receipt_payments as rp').select('rp.payment_id').whereRef('rp.payment_id', '=', 'p.id').where('rp.in_force', '=', true))),
    );
}

export type UnreceiptedPayment = {
  paymentId: number;
  donorId: number;
  donorName: string;
  method: string;
  amountCents: number;
  receivedAt: Date;
  receivedOn: string;
  frequency: ReceiptFrequency;
  hasAddress: boolean;
};

/** The "received but not yet receipted" queue, oldest first. */
export async function listUnreceipted(
  trx: Kysely<Database>,
  options: { limit?: number; donorId?: number; calendar?: Pick<ReceiptSettings, 'charityTimeZone' | 'clock'> } = {},
): Promise<UnreceiptedPayment[]> {
  const settings = options.calendar ?? { charityTimeZone: DEFAULT_CHARITY_TIME_ZONE };
  let query = unreceiptedPayments(trx, settings);
  if (options.donorId !== undefined) query = query.where('d.id', '=', options.donorId);
  const rows = await query
    .select([
      'p.id as paymentId',
      'd.id as donorId',
      'pd.name as donorName',
      'p.method',
      receiptableCents.as('amountCents'),
      'p.received_at as receivedAt',
      receivedOn(settings).as('receivedOn'),
      effectiveFrequency.as('frequency'),
      hasAddress.as('hasAddress'),
    ])
    .orderBy('p.received_at')
    .orderBy('p.id')
    .limit(options.limit ?? 200)
    .execute();
  return rows;
}

async function nextSerial(trx: Trx, settings: ReceiptSettings): Promise<string> {
  // A sequence never hands out the same number twice, whatever the concurrency (and a rolled-back
  // transaction leaves a gap rather than a duplicate). The year is the charity's year of issue.
  const { n } = await sql<{ n: number }>`select nextval('receipt_serial_seq') as n`.execute(trx).then((r) => r.rows[0]!);
  return `${settings.charity.serialPrefix}-${calendarOf(settings).today().slice(0, 4)}-${String(n).padStart(6, '0')}`;
}

type NewReceipt = {
  donorId: number;
  frequency: ReceiptFrequency;
  taxYear: number;
  lines: Line[];
  replaces?: { id: number; serial: string; advantageCents: number; advantageDescription: string | null; donorAddress: string };
};

/**
 * Whom a receipt is for: the details its (first) payment's pledge carries. Every payment on one
 * receipt carries the same: an annual receipt gathers only gifts that use the donor's record.
 */
async function receiptParty(trx: Trx, paymentId: number) {
  const row = await trx
    .selectFrom('payments as p')
    .innerJoin('pledge_donors as pd', 'pd.pledge_id', 'p.pledge_id')
    .select(['pd.donor_id', 'pd.email', 'pd.name', 'pd.address_line1', 'pd.address_line2', 'pd.city', 'pd.province', 'pd.postal_code', 'pd.country', 'pd.locale', 'pd.receipt_locale'])
    .where('p.id', '=', paymentId)
    .executeTakeFirstOrThrow();
  return { donorId: row.donor_id, email: row.email, ...detailsOfRow(row), receiptLocale: row.receipt_locale ?? defaultReceiptLocale(row.locale) };
}

/** Inserts one receipt and its lines, and queues the donor's e-mail with the download link. */
export async function insertReceipt(trx: Trx, settings: ReceiptSettings, input: NewReceipt): Promise<IssuedReceipt> {
  if (input.lines.length === 0) throw new Error('a receipt needs at least one payment');
  const party = await receiptParty(trx, input.lines[0]!.paymentId);
  const donor = { id: input.donorId, email: party.email, name: party.name, locale: party.locale };
  const amountCents = input.lines.reduce((sum, l) => sum + l.amountCents, 0);
  // The advantages the donor received for these gifts (recorded with each payment), never more than the gifts.
  const advantageCents = Math.min(input.lines.reduce((sum, l) => sum + Math.min(l.advantageCents, l.amountCents), 0), amountCents);
  const advantageDescription = [...new Set(input.lines.filter((l) => l.advantageCents > 0).map((l) => l.advantageDescription ?? ''))].join('; ') || null;
  const dates = input.lines.map((l) => l.receivedOn).sort();
  const serial = await nextSerial(trx, settings);
  const token = randomBytes(32).toString('base64url');
  const { id } = await trx
    .insertInto('receipts')
    .values({
      serial,
      donor_id: donor.id,
      frequency: input.frequency,
      tax_year: input.taxYear,
      amount_cents: amountCents,
      advantage_cents: advantageCents,
      advantage_description: advantageCents > 0 ? advantageDescription : null,
      eligible_amount_cents: amountCents - advantageCents,
      received_from: dates[0]!,
      received_to: dates[dates.length - 1]!,
      issued_on: calendarOf(settings).today(),
      donor_name: donor.name,
      // A replacement keeps the address receipted before if the donor's record has lost it.
      donor_address: formatDonorAddress(party) || input.replaces?.donorAddress || '',
      // The receipt in English or French (CRA), as the donor chose; the e-mail around it in their own language.
      locale: party.receiptLocale,
      charity_name: settings.charity.name,
      charity_address: settings.charity.address,
      charity_registration_number: settings.charity.registrationNumber,
      place_of_issue: settings.charity.receiptLocation,
      signatory_name: settings.charity.signatoryName,
      signatory_title: settings.charity.signatoryTitle,
      replaces_receipt_id: input.replaces?.id ?? null,
      download_token_hash: hashToken(token),
      signature_id: sql<number | null>`(select max(id) from receipt_signatures)`,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('receipt_payments')
    .values(input.lines.map((l) => ({ receipt_id: id, payment_id: l.paymentId, amount_cents: l.amountCents, received_on: l.receivedOn })))
    .execute();
  // The unalterable copy: the PDF as issued, kept beside the row it was rendered from.
  const pdf = await renderReceiptPdf((await findReceipt(trx, id))!);
  await trx.insertInto('receipt_documents').values({ receipt_id: id, pdf, sha256: createHash('sha256').update(pdf).digest('hex') }).execute();
  await queueEmail(trx, {
    to: donor.email,
    template: 'receipts/issued',
    locale: donor.locale,
    data: {
      name: donor.name,
      serial,
      amountCents,
      eligibleAmountCents: amountCents - advantageCents,
      annual: input.frequency === 'annual',
      taxYear: input.taxYear,
      replacesSerial: input.replaces?.serial ?? null,
      // A Korean-speaking donor reads the e-mail in Korean and is told why the receipt is not.
      receiptInOtherLanguage: party.receiptLocale !== party.locale,
      link: `${settings.publicUrl}/receipts/${token}`,
    },
  });
  return { id, serial, token, amountCents };
}

export function yearOf(date: string): number {
  return Number(date.slice(0, 4));
}

/** Locks a payment and returns its line if it can be receipted now, else throws why not. */
async function requireReceiptableLine(trx: Trx, settings: ReceiptSettings, paymentId: number) {
  const payment = await trx
    .selectFrom('payments as p')
    .innerJoin('pledges as pl', 'pl.id', 'p.pledge_id')
    .innerJoin('pledge_donors as pd', 'pd.pledge_id', 'pl.id')
    .innerJoin('donors as d', 'd.id', 'pl.donor_id')
    .select(['p.id', 'p.receiptable', 'p.status', 'd.id as donorId', receiptableCents.as('amountCents'), receivedOn(settings).as('receivedOn'), effectiveFrequency.as('frequency'), hasAddress.as('hasAddress'), ...lineColumns])
    .select(sql<boolean>`${paymentDay(settings.charityTimeZone)} <= ${calendarOf(settings).today()}::date`.as('received'))
    .where('p.id', '=', paymentId)
    .forUpdate('p')
    .executeTakeFirst();
  if (!payment) throw new ReceiptError('not_found', 'noPayment', { id: paymentId });
  if (!payment.receiptable) throw new ReceiptError('conflict', 'notReceiptable');
  if (!payment.received) throw new ReceiptError('conflict', 'notReceived');
  if (payment.amountCents <= 0) throw new ReceiptError('conflict', 'nothingLeft');
  const existing = await trx.selectFrom('receipt_payments').select('receipt_id').where('payment_id', '=', paymentId).where('in_force', '=', true).executeTakeFirst();
  if (existing) throw new ReceiptError('conflict', 'alreadyReceipted');
  if (!payment.hasAddress) throw new ReceiptError('conflict', 'noAddress');
  return payment;
}

/**
 * Issues the receipt for one gift (donors who receive a receipt per gift). Donors who chose
 * one receipt a year get theirs from the year-end run.
 */
export async function issueReceiptForPayment(trx: Trx, settings: ReceiptSettings, paymentId: number, actor: Actor): Promise<IssuedReceipt> {
  const payment = await requireReceiptableLine(trx, settings, paymentId);
  if (payment.frequency === 'annual') {
    throw new ReceiptError('conflict', 'annualDonor');
  }
  const receipt = await insertReceipt(trx, settings, {
    donorId: payment.donorId,
    frequency: 'per_gift',
    taxYear: yearOf(payment.receivedOn),
    lines: [{ paymentId: payment.id, amountCents: payment.amountCents, receivedOn: payment.receivedOn, advantageCents: payment.advantageCents, advantageDescription: payment.advantageDescription }],
  });
  await writeAudit(trx, { actor, action: 'receipt.issued', subject: `receipt:${receipt.id}`, details: { serial: receipt.serial, paymentIds: [paymentId] } });
  return receipt;
}

/**
 * Seam for the payment flow: issues a per-gift receipt right away when the donor receives one
 * per gift; does nothing for annual donors, non-receiptable payments or a gift without an address
 * (it waits in the queue). Returns the receipt, if any.
 */
export async function issueReceiptIfDue(trx: Trx, settings: ReceiptSettings, paymentId: number): Promise<IssuedReceipt | null> {
  return (await issueReceiptsIfDue(trx, settings, [paymentId]))[0] ?? null;
}

/** The same for several payments: one statement finds which are due; returns the receipts issued, in the payments' order. */
export async function issueReceiptsIfDue(trx: Trx, settings: ReceiptSettings, paymentIds: number[]): Promise<IssuedReceipt[]> {
  if (paymentIds.length === 0) return [];
  const rows = await unreceiptedPayments(trx, settings).select(['p.id', effectiveFrequency.as('frequency'), hasAddress.as('hasAddress')]).where('p.id', 'in', paymentIds).execute();
  // No address yet: the gift waits in the staff queue until the donor or staff add one.
  const due = new Set(rows.filter((r) => r.frequency === 'per_gift' && r.hasAddress).map((r) => r.id));
  const issued: IssuedReceipt[] = [];
  for (const id of paymentIds.filter((p) => due.delete(p))) issued.push(await issueReceiptForPayment(trx, settings, id, SYSTEM));
  return issued;
}

/**
 * Issues every per-gift receipt due (all years): each receiptable payment of a per-gift donor that
 * has none yet. Annual donors' payments wait for the year-end run.
 */
export async function issueDuePerGiftReceipts(trx: Trx, settings: ReceiptSettings, actor: Actor): Promise<{ issued: number; serials: string[] }> {
  await sql`select pg_advisory_xact_lock(hashtext('receipts.year_end'))`.execute(trx);
  const due = await unreceiptedPayments(trx, settings)
    .select(['p.id as paymentId', 'd.id as donorId', receiptableCents.as('amountCents'), receivedOn(settings).as('receivedOn'), ...lineColumns])
    .where(effectiveFrequency, '=', 'per_gift')
    .where(hasAddress)
    .orderBy('p.received_at')
    .orderBy('p.id')
    .forUpdate('p')
    .execute();
  const serials: string[] = [];
  for (const row of due) {
    const line = { paymentId: row.paymentId, amountCents: row.amountCents, receivedOn: row.receivedOn, advantageCents: row.advantageCents, advantageDescription: row.advantageDescription };
    const receipt = await insertReceipt(trx, settings, { donorId: row.donorId, frequency: 'per_gift', taxYear: yearOf(row.receivedOn), lines: [line] });
    serials.push(receipt.serial);
  }
  await writeAudit(trx, { actor, action: 'receipt.per_gift_run', subject: 'receipts:per_gift', details: { issued: serials.length, serials } });
  return { issued: serials.length, serials };
}

/** How many per-gift receipts `issueDuePerGiftReceipts` would issue now (the staff dashboard's "receipts due"). */
export async function countDuePerGiftReceipts(db: Kysely<Database>, settings: Pick<ReceiptSettings, 'charityTimeZone' | 'clock'>): Promise<number> {
  const row = await unreceiptedPayments(db, settings)
    .select(sql<number>`count(*)::int`.as('n'))
    .where(effectiveFrequency, '=', 'per_gift')
    .where(hasAddress)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The donor's receipt preference; null returns them to the default. */
export async function setReceiptFrequency(trx: Trx, donorId: number, frequency: ReceiptFrequency | null, actor: Actor): Promise<void> {
  const updated = await trx.updateTable('donors').set({ receipt_frequency: frequency, updated_at: new Date() }).where('id', '=', donorId).executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) throw new ReceiptError('not_found', 'noDonor');
  await writeAudit(trx, { actor, action: 'donor.receipt_frequency_set', subject: `donor:${donorId}`, details: { frequency } });
}
