import type { Request } from 'express';
import type { Db } from '../db/database';
import { formatDonorAddress } from './donor-details';
import { findDonorLink, issueDonorLink, useDonorLink } from './donor-links';
import { donorRecordIds, findDonor, findDonorIdByEmail, listDonorPledges } from './donors';
import { consumeRateLimit } from '../http/rate-limit';
import { listReceipts } from '../receipts/receipts';
import { queueDonorSignIn } from './donor-emails';
import { pledgeReference } from './gift-emails';

/**
 * A donor's own page (/donor): no account, no password. The donor asks for a link by e-mail; the
 * link (single use, 30 minutes) starts a session of two hours held in a cookie. The answer to the
 * request is the same whether or not the e-mail has gifts, and requests are limited per e-mail
 * and per IP address.
 */
export const DONOR_COOKIE = 'haven_donor';
export const DONOR_LINK_LIMITS = { perEmail: 3, perIp: 20, windowSeconds: 3600 } as const;

/** Counts a request for a sign-in link and sends one if the e-mail leads to a donor record. */
export async function requestDonorSignIn(db: Db, publicUrl: string, email: string, ip: string): Promise<'sent_if_known' | 'rate_limited'> {
  const byIp = await consumeRateLimit(db, { name: 'donor-link-ip', max: DONOR_LINK_LIMITS.perIp, windowSeconds: DONOR_LINK_LIMITS.windowSeconds }, ip);
  const byEmail = await consumeRateLimit(db, { name: 'donor-link-email', max: DONOR_LINK_LIMITS.perEmail, windowSeconds: DONOR_LINK_LIMITS.windowSeconds }, email.trim().toLowerCase());
  if (byIp.limited || byEmail.limited) return 'rate_limited';
  await db.transaction().execute(async (trx) => {
    const donorId = await findDonorIdByEmail(trx, email);
    if (donorId !== undefined) await queueDonorSignIn(trx, publicUrl, donorId);
  });
  return 'sent_if_known';
}

/** Uses a sign-in link once and opens a session: the session's token, or undefined if the link is not (or no longer) valid. */
export async function signInWithLink(db: Db, token: unknown): Promise<string | undefined> {
  return db.transaction().execute(async (trx) => {
    const link = await findDonorLink(trx, 'sign_in', token);
    if (!link?.donorId) return undefined;
    if (!(await useDonorLink(trx, link.id))) return undefined;
    return issueDonorLink(trx, 'session', { donorId: link.donorId });
  });
}

/** The donor this request's session cookie is for (the record kept, if it was merged since). */
export async function sessionDonorId(db: Db, req: Request): Promise<number | undefined> {
  const link = await findDonorLink(db, 'session', (req.cookies as Record<string, unknown> | undefined)?.[DONOR_COOKIE]);
  if (!link?.donorId) return undefined;
  const donor = await findDonor(db, link.donorId);
  if (!donor) return undefined;
  return donor.mergedIntoDonorId === null ? donor.id : ((await findDonorIdByEmail(db, donor.email)) ?? undefined);
}

/** Everything the donor page shows: the record, gifts (with their payments) and receipts, only this donor's. */
export async function loadDonorPage(db: Db, donorId: number) {
  const donor = (await findDonor(db, donorId))!;
  const ids = await donorRecordIds(db, donorId);
  const [pledges, receipts] = await Promise.all([listDonorPledges(db, donorId), listReceipts(db, { donorIds: ids, limit: 200 })]);
  // A receipt can be reissued on request when its gift now carries other details than it printed.
  const current = receipts.rows.length
    ? await db
        .selectFrom('receipt_payments as rp')
        .innerJoin('payments as p', 'p.id', 'rp.payment_id')
        .innerJoin('pledge_donors as pd', 'pd.pledge_id', 'p.pledge_id')
        .innerJoin('receipts as r', 'r.id', 'rp.receipt_id')
        .select(['rp.receipt_id', 'r.donor_name', 'r.donor_address', 'pd.name', 'pd.address_line1', 'pd.address_line2', 'pd.city', 'pd.province', 'pd.postal_code', 'pd.country'])
        .where('rp.receipt_id', 'in', receipts.rows.map((r) => r.id))
        .execute()
    : [];
  const outdated = new Set(
    current
      .filter((c) => c.name !== c.donor_name || formatDonorAddress({ addressLine1: c.address_line1, addressLine2: c.address_line2, city: c.city, province: c.province, postalCode: c.postal_code, country: c.country }) !== c.donor_address)
      .map((c) => c.receipt_id),
  );
  return {
    donor,
    pledges: pledges.map((p) => ({
      ...p,
      // A voided payment was recorded in error (staff kept it for the trail): it never was money received.
      payments: p.payments.filter((pay) => pay.status !== 'voided'),
      reference: pledgeReference(p.id),
      totalCents: p.amount_cents + p.fee_cover_cents,
      monthly: p.frequency === 'monthly',
      cancellable: p.frequency === 'monthly' && (p.status === 'active' || p.status === 'pending'),
      cardUpdatable: p.frequency === 'monthly' && p.method === 'card' && p.status === 'active' && p.stripe_customer_id !== null,
    })),
    receipts: receipts.rows.map((r) => ({ ...r, reissuable: r.status === 'issued' && outdated.has(r.id) })),
  };
}

/** A pledge of this donor's, or undefined: nobody reaches another donor's gift from their own page. */
export async function findOwnPledge(db: Db, donorId: number, pledgeId: number) {
  return db
    .selectFrom('pledges')
    .select(['id', 'frequency', 'method', 'status', 'stripe_customer_id'])
    .where('id', '=', pledgeId)
    .where('donor_id', '=', donorId)
    .executeTakeFirst();
}

/** A receipt of this donor's (or of a record merged into theirs), or undefined. */
export async function ownsReceipt(db: Db, donorId: number, receiptId: number): Promise<boolean> {
  const ids = await donorRecordIds(db, donorId);
  const row = await db.selectFrom('receipts').select('id').where('id', '=', receiptId).where('donor_id', 'in', ids).executeTakeFirst();
  return row !== undefined;
}
