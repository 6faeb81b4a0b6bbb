import { randomBytes } from 'node:crypto';

/**
 * Ids and timestamps as Stripe writes them: a type prefix, `_test_` in test mode, then random
 * characters; Unix seconds for every timestamp.
 */
export function stripeId(prefix: string): string {
  return `${prefix}_test_${randomBytes(9).toString('hex')}`;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
