import { type Kysely, sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import { type DonorDetails, detailsOfRow, rowOfDetails, sameDetails } from './donor-details';

/**
 * Donor identity (server/giving/README.md). A donor record is one e-mail address and the
 * details (name, address, language, receipt choice) its owner or staff set. A gift form never
 * changes it: it creates the record for an e-mail never seen, and otherwise keeps the details it
 * typed on the gift itself when they differ (`pledge_donor_details`).
 */
type Handle = Kysely<Database> | Transaction<Database>;
type Trx = Transaction<Database>;

export type DonorInput = {
  email: string;
  name: string;
  addressLine1?: string | null;
  addressLine2?: string | null;
  city?: string | null;
  province?: string | null;
  postalCode?: string | null;
  country?: string;
  locale?: 'en' | 'fr' | 'ko';
  receiptLocale?: 'en' | 'fr' | null;
};

function detailsOfInput(input: DonorInput): DonorDetails {
  return {
    name: input.name.trim(),
    addressLine1: input.addressLine1 ?? null,
    addressLine2: input.addressLine2 ?? null,
    city: input.city ?? null,
    province: input.province ?? null,
    postalCode: input.postalCode ?? null,
    country: input.country ?? 'CA',
    locale: input.locale ?? 'en',
    receiptLocale: input.receiptLocale ?? null,
  };
}

/** The record an e-mail leads to: its own, or the one staff merged it into. */
export async function findDonorIdByEmail(db: Handle, email: string): Promise<number | undefined> {
  const row = await db.selectFrom('donors').select(['id', 'merged_into_donor_id']).where(sql`lower(email)`, '=', email.trim().toLowerCase()).executeTakeFirst();
  if (!row) return undefined;
  return resolveMerged(db, row.id, row.merged_into_donor_id);
}

async function resolveMerged(db: Handle, id: number, mergedInto: number | null): Promise<number> {
  let current = id;
  let next = mergedInto;
  for (let hops = 0; next !== null && hops < 10; hops++) {
    current = next;
    const row = await db.selectFrom('donors').select('merged_into_donor_id').where('id', '=', current).executeTakeFirstOrThrow();
    next = row.merged_into_donor_id;
  }
  return current;
}

/**
 * The donor record of an e-mail, created from these details if the e-mail is new. An existing
 * record is returned as it is: never updated from what a form typed.
 */
export async function findOrCreateDonor(trx: Trx, input: DonorInput): Promise<number> {
  const inserted = await trx
    .insertInto('donors')
    .values({ email: input.email.trim(), ...rowOfDetails(detailsOfInput(input)) })
    .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return inserted.id;
  const id = await findDonorIdByEmail(trx, input.email);
  if (id === undefined) throw new Error('a donor row vanished between insert and select');
  return id;
}

/** Kept for callers written before issue 14: it never updates an existing record (see findOrCreateDonor). */
export const upsertDonor = findOrCreateDonor;

/**
 * The details typed on a gift: kept on the gift when they differ from its donor's record, so the
 * gift's receipts and e-mails carry them and the record stays as its owner set it. Returns
 * whether they differ (the owner of the e-mail is then asked whether to take them for their record).
 */
export async function keepGiftDetails(trx: Trx, pledgeId: number, donorId: number, typed: DonorDetails): Promise<boolean> {
  const record = await trx
    .selectFrom('donors')
    .select(['name', 'address_line1', 'address_line2', 'city', 'province', 'postal_code', 'country', 'locale', 'receipt_locale'])
    .where('id', '=', donorId)
    .executeTakeFirstOrThrow();
  if (sameDetails(detailsOfRow(record), typed)) return false;
  await trx.insertInto('pledge_donor_details').values({ pledge_id: pledgeId, ...rowOfDetails(typed) }).execute();
  return true;
}

export type DonorRecord = {
  id: number;
  email: string;
  details: DonorDetails;
  receiptFrequency: 'per_gift' | 'annual' | null;
  confirmedAt: Date | null;
  mergedIntoDonorId: number | null;
  createdAt: Date;
};

export async function findDonor(db: Handle, donorId: number): Promise<DonorRecord | undefined> {
  const row = await db
    .selectFrom('donors')
    .select(['id', 'email', 'name', 'address_line1', 'address_line2', 'city', 'province', 'postal_code', 'country', 'locale', 'receipt_locale', 'receipt_frequency', 'confirmed_at', 'merged_into_donor_id', 'created_at'])
    .where('id', '=', donorId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    email: row.email,
    details: detailsOfRow(row),
    receiptFrequency: row.receipt_frequency,
    confirmedAt: row.confirmed_at,
    mergedIntoDonorId: row.merged_into_donor_id,
    createdAt: row.created_at,
  };
}

/**
 * The donor (through a signed link) or staff set the record's details. Gifts that use the record
 * take them for every receipt still to come; receipts already issued keep what they say. Audited
 * with what it was before, so it can be put back.
 */
export async function updateDonorDetails(trx: Trx, input: { donorId: number; details: DonorDetails; actor: Actor; by: 'donor' | 'staff'; reason: string | null }): Promise<void> {
  const before = await trx.selectFrom('donors').selectAll().where('id', '=', input.donorId).forUpdate().executeTakeFirst();
  if (!before) throw new DomainError('not_found', 'giving:errors.noDonor');
  if (before.merged_into_donor_id !== null) throw new DomainError('conflict', 'giving:errors.mergedRecord');
  await trx
    .updateTable('donors')
    .set({ ...rowOfDetails(input.details), confirmed_at: new Date(), updated_at: new Date() })
    .where('id', '=', input.donorId)
    .execute();
  await writeAudit(trx, {
    actor: input.actor,
    action: input.by === 'staff' ? 'donor.details_edited' : 'donor.details_updated_by_donor',
    subject: `donor:${input.donorId}`,
    details: { reason: input.reason, before: detailsOfRow(before), after: rowOfDetails(input.details) },
  });
}

/**
 * A gift's own details become its donor's record, and the gift uses the record from now on: the
 * owner of the e-mail confirmed them (link sent to it), or staff did on their word.
 */
export async function adoptGiftDetails(trx: Trx, input: { pledgeId: number; actor: Actor; by: 'donor' | 'staff'; reason: string | null }): Promise<void> {
  const own = await trx
    .selectFrom('pledge_donor_details as g')
    .innerJoin('pledges as p', 'p.id', 'g.pledge_id')
    .select(['p.donor_id', 'g.name', 'g.address_line1', 'g.address_line2', 'g.city', 'g.province', 'g.postal_code', 'g.country', 'g.locale', 'g.receipt_locale'])
    .where('g.pledge_id', '=', input.pledgeId)
    .executeTakeFirst();
  if (!own) return; // already uses the record
  await updateDonorDetails(trx, { donorId: own.donor_id, details: detailsOfRow(own), actor: input.actor, by: input.by, reason: input.reason ?? `details of pledge ${input.pledgeId}` });
  await trx.deleteFrom('pledge_donor_details').where('pledge_id', '=', input.pledgeId).execute();
}

/**
 * Staff say a gift made under other details is the record holder's: the gift uses the record
 * (its typed details are kept in the audit row).
 */
export async function attachGiftToRecord(trx: Trx, input: { pledgeId: number; actor: Actor; reason: string }): Promise<void> {
  const own = await trx.selectFrom('pledge_donor_details').selectAll().where('pledge_id', '=', input.pledgeId).executeTakeFirst();
  if (!own) return;
  await trx.deleteFrom('pledge_donor_details').where('pledge_id', '=', input.pledgeId).execute();
  await writeAudit(trx, {
    actor: input.actor,
    action: 'donor.gift_attached_to_record',
    subject: `pledge:${input.pledgeId}`,
    details: { reason: input.reason, giftDetails: own },
  });
}

/** The record and every record merged into it (receipts stay with the record they were issued to). */
/** Each donor's name by id, for pages that say who did something (the audit log). */
export async function donorNamesOf(db: Handle, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('donors').select(['id', 'name']).where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

export async function donorRecordIds(db: Handle, donorId: number): Promise<number[]> {
  const { rows } = await sql<{ id: number }>`
    with recursive merged(id) as (
      select ${donorId}::bigint
      union select d.id from donors d join merged m on d.merged_into_donor_id = m.id
    ) select id from merged`.execute(db);
  return rows.map((r) => Number(r.id));
}

export type GiftDetailsSummary = { pledgeId: number; usesRecord: boolean; details: DonorDetails };

/** Whose details each of these pledges carries. */
export async function listGiftDetails(db: Handle, pledgeIds: number[]): Promise<Map<number, GiftDetailsSummary>> {
  if (pledgeIds.length === 0) return new Map();
  const rows = await db.selectFrom('pledge_donors').selectAll().where('pledge_id', 'in', pledgeIds).execute();
  return new Map(rows.map((r) => [r.pledge_id, { pledgeId: r.pledge_id, usesRecord: r.uses_record, details: detailsOfRow(r) }]));
}

function likePattern(text: string): string {
  return `%${text.replace(/[%_\\]/g, '\\$&')}%`;
}

export type DonorSearchRow = { id: number; email: string; name: string; city: string | null; mergedIntoDonorId: number | null; createdAt: Date };

/**
 * Staff search: by name (the record's, or one typed on a gift), e-mail, a pledge reference
 * (HAVEN-123), a cheque or e-transfer reference, or a receipt serial. Newest first, keyset-paged.
 */
export async function searchDonors(db: Handle, filter: { q?: string; before?: number }, pageSize = 50) {
  let query = db
    .selectFrom('donors as d')
    .select(['d.id', 'd.email', 'd.name', 'd.city', 'd.merged_into_donor_id as mergedIntoDonorId', 'd.created_at as createdAt'])
    .orderBy('d.id', 'desc')
    .limit(pageSize + 1);
  const q = filter.q?.trim();
  if (q) {
    const like = likePattern(q);
    const reference = /^HAVEN-(\d{1,15})$/i.exec(q);
    query = query.where((eb) =>
      eb.or([
        eb('d.name', 'ilike', like),
        eb('d.email', 'ilike', like),
        eb.exists(
          eb
            .selectFrom('pledges as p')
            .leftJoin('pledge_donor_details as g', 'g.pledge_id', 'p.id')
            .leftJoin('payments as pay', 'pay.pledge_id', 'p.id')
            .select('p.id')
            .whereRef('p.donor_id', '=', 'd.id')
            .where((inner) => inner.or([inner('g.name', 'ilike', like), inner('pay.reference', 'ilike', like), ...(reference ? [inner('p.id', '=', Number(reference[1]))] : [])])),
        ),
        eb.exists(eb.selectFrom('receipts as r').select('r.id').whereRef('r.donor_id', '=', 'd.id').where('r.serial', '=', q.toUpperCase())),
      ]),
    );
  }
  if (filter.before) query = query.where('d.id', '<', filter.before);
  const rows: DonorSearchRow[] = await query.execute();
  return { rows: rows.slice(0, pageSize), nextBefore: rows.length > pageSize ? rows[pageSize - 1]!.id : undefined };
}

/** A donor's gifts: each pledge with whose details it carries and what was received on it. */
export async function listDonorPledges(db: Handle, donorId: number) {
  const pledges = await db
    .selectFrom('pledges as p')
    .innerJoin('pledge_donors as pd', 'pd.pledge_id', 'p.id')
    .select([
      'p.id', 'p.amount_cents', 'p.fee_cover_cents', 'p.frequency', 'p.installments', 'p.method', 'p.status', 'p.created_at', 'p.stripe_subscription_id',
      'p.stripe_customer_id', 'pd.uses_record', 'pd.name', 'pd.address_line1', 'pd.address_line2', 'pd.city', 'pd.province', 'pd.postal_code', 'pd.country', 'pd.locale',
    ])
    .where('p.donor_id', '=', donorId)
    .orderBy('p.id', 'desc')
    .limit(500)
    .execute();
  const payments = pledges.length
    ? await db
        .selectFrom('payments')
        .select(['id', 'pledge_id', 'amount_cents', 'refunded_cents', 'method', 'status', 'reference', 'received_at'])
        .where('pledge_id', 'in', pledges.map((p) => p.id))
        .orderBy('id')
        .execute()
    : [];
  return pledges.map((p) => ({ ...p, details: detailsOfRow(p), payments: payments.filter((pay) => pay.pledge_id === p.id) }));
}

/** E-mails queued to these addresses, newest first: what was sent, when, and whether it went. */
export async function listEmailsTo(db: Handle, emails: string[], limit = 100) {
  if (emails.length === 0) return [];
  return db
    .selectFrom('outbox')
    .select(['id', sql<string>`payload->>'template'`.as('template'), sql<string>`payload->>'locale'`.as('locale'), sql<string>`payload->>'to'`.as('to'), 'created_at', 'sent_at', 'failed_at'])
    .where(sql`lower(payload->>'to')`, 'in', emails.map((e) => e.toLowerCase()))
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** Merges into or out of this record, newest first. */
export async function listDonorMerges(db: Handle, donorId: number) {
  return db
    .selectFrom('donor_merges')
    .select(['id', 'from_donor_id', 'into_donor_id', 'reason', 'merged_at', 'undone_at'])
    .where((eb) => eb.or([eb('from_donor_id', '=', donorId), eb('into_donor_id', '=', donorId)]))
    .orderBy('id', 'desc')
    .execute();
}
