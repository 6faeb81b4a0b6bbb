import { createHash, randomBytes } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, DonorLinkPurpose } from '../db/schema';

/**
 * Every link handed to a donor carries a random 256-bit token; only its SHA-256 is stored, with
 * ONE purpose, the pledge or donor it is for, and (most) an expiry. Nothing is derived from a
 * server secret, so a leaked SESSION_SECRET or a guessed pledge id opens nothing, and a token
 * made for one purpose (the thank-you page in Stripe's URLs) never opens another (the resume
 * form's personal data).
 */
type Handle = Kysely<Database> | Transaction<Database>;

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

/** How long each kind of link works (null: as long as what it opens exists), and whether it works once. */
export const DONOR_LINK_RULES: Record<DonorLinkPurpose, { lifetimeMs: number | null; singleUse: boolean }> = {
  // The giving form's details, for the browser that typed them (a cookie), while Checkout is open.
  resume: { lifetimeMs: DAY, singleUse: false },
  // The thank-you or pay-later page: amounts and the payment reference, no personal data.
  thanks: { lifetimeMs: 90 * DAY, singleUse: false },
  // Stopping a monthly gift, from its e-mails: works as long as the gift runs.
  cancel_monthly: { lifetimeMs: null, singleUse: false },
  // Signing in to /donor: e-mailed on request.
  sign_in: { lifetimeMs: HOUR / 2, singleUse: true },
  // The donor page's session cookie after signing in.
  session: { lifetimeMs: 2 * HOUR, singleUse: false },
  // "Were these details yours?" after a gift typed details other than the record's.
  confirm_details: { lifetimeMs: 30 * DAY, singleUse: true },
};

export function hashDonorToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A token as it may arrive from a link or cookie: anything else is not worth a query. */
export function looksLikeDonorToken(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);
}

/** A new link's token (returned once, to be put in a URL or cookie) for one purpose. */
export async function issueDonorLink(db: Handle, purpose: DonorLinkPurpose, target: { pledgeId?: number; donorId?: number }): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const { lifetimeMs } = DONOR_LINK_RULES[purpose];
  await db
    .insertInto('donor_links')
    .values({
      token_hash: hashDonorToken(token),
      purpose,
      pledge_id: target.pledgeId ?? null,
      donor_id: target.donorId ?? null,
      expires_at: lifetimeMs === null ? null : new Date(Date.now() + lifetimeMs),
    })
    .execute();
  return token;
}

export type DonorLink = { id: number; pledgeId: number | null; donorId: number | null };

/**
 * The link a token opens for `purpose`, if it is that purpose's, unexpired and (single-use
 * kinds) unused; with `pledgeId`, only if it is for that pledge. Anything else: undefined.
 */
export async function findDonorLink(db: Handle, purpose: DonorLinkPurpose, token: unknown, expect: { pledgeId?: number } = {}): Promise<DonorLink | undefined> {
  if (!looksLikeDonorToken(token)) return undefined;
  let query = db
    .selectFrom('donor_links')
    .select(['id', 'pledge_id', 'donor_id'])
    .where('token_hash', '=', hashDonorToken(token))
    .where('purpose', '=', purpose)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]));
  if (DONOR_LINK_RULES[purpose].singleUse) query = query.where('used_at', 'is', null);
  if (expect.pledgeId !== undefined) query = query.where('pledge_id', '=', Number.isSafeInteger(expect.pledgeId) ? expect.pledgeId : -1);
  const row = await query.executeTakeFirst();
  return row ? { id: row.id, pledgeId: row.pledge_id, donorId: row.donor_id } : undefined;
}

/** Uses a single-use link: true for the one caller that did, false if it was used meanwhile. */
export async function useDonorLink(trx: Transaction<Database>, linkId: number): Promise<boolean> {
  const result = await trx.updateTable('donor_links').set({ used_at: new Date() }).where('id', '=', linkId).where('used_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Ends a link (signing out of /donor). */
export async function revokeDonorLink(db: Handle, purpose: DonorLinkPurpose, token: unknown): Promise<void> {
  if (!looksLikeDonorToken(token)) return;
  await db.updateTable('donor_links').set({ expires_at: new Date() }).where('token_hash', '=', hashDonorToken(token)).where('purpose', '=', purpose).execute();
}

/** Drops links that expired more than a day ago. */
export async function pruneDonorLinks(db: Handle): Promise<void> {
  await db.deleteFrom('donor_links').where('expires_at', '<', sql<Date>`now() - interval '1 day'`).execute();
}
