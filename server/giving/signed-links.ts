import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Tokens in links sent to donors (thank-you page, cancelling a monthly gift): an HMAC of the
 * purpose and the pledge id, so nobody can read or cancel another donor's pledge by guessing ids.
 */
export type LinkPurpose = 'pledge' | 'cancel';

export type LinkSigner = {
  sign(purpose: LinkPurpose, pledgeId: number): string;
  verify(purpose: LinkPurpose, pledgeId: number, token: unknown): boolean;
};

/**
 * Without a configured secret (development, tests) links are valid only for this process's
 * lifetime; one key per process, so the Stripe event processor's signer and the routes' agree.
 */
const processKey = randomBytes(32).toString('hex');

export function createLinkSigner(secret: string | undefined): LinkSigner {
  const key = secret ?? processKey;
  const sign = (purpose: LinkPurpose, pledgeId: number) =>
    createHmac('sha256', key).update(`haven-giving:${purpose}:${pledgeId}`).digest('base64url').slice(0, 32);
  return {
    sign,
    verify(purpose, pledgeId, token) {
      if (typeof token !== 'string' || !Number.isSafeInteger(pledgeId)) return false;
      const expected = Buffer.from(sign(purpose, pledgeId));
      const given = Buffer.from(token);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
