import { createHash } from 'node:crypto';
import Stripe from 'stripe';
import type { StripeConfig } from '../config';
import type { Db } from '../db/database';

export type { Stripe };

/**
 * The Stripe SDK for Haven's account, or undefined when card giving is off. Tests point
 * host/port/protocol at the local stand-in (test/support/stripe-stand-in.ts).
 */
export function createStripe(config: StripeConfig | undefined): Stripe | undefined {
  if (!config) return undefined;
  return new Stripe(config.secretKey, {
    host: config.apiHost,
    port: config.apiPort,
    protocol: config.apiProtocol,
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
    appInfo: { name: 'Haven' },
  });
}

/** What "cover the processing fee" adds so that, after the card fee, the charity receives the whole gift. */
export function feeCoverCents(giftCents: number, fee: { basisPoints: number; fixedCents: number }): number {
  // total = ceil((gift + fixed) / (1 - rate)), in integers: basis points, never a float rate.
  const numerator = (giftCents + fee.fixedCents) * 10_000;
  const denominator = 10_000 - fee.basisPoints;
  const total = Math.floor((numerator + denominator - 1) / denominator);
  return total - giftCents;
}

const installations = new WeakMap<Db, Promise<string>>();

/**
 * The start of every idempotency key Haven sends to Stripe: `haven-<installation id>-<address>`.
 * A key belongs to the Stripe account (https://docs.stripe.com/api/idempotent_requests), so keys
 * made of pledge or payment numbers alone would collide between two installations on one account
 * (staging beside production, two developers) and replay one's answer to the other. The
 * installation id is made with the database; the public address's hash tells apart a copy of
 * it (a staging server restored from production's backup).
 */
export async function idempotencyPrefix(deps: { db: Db; publicUrl: string }): Promise<string> {
  let installation = installations.get(deps.db);
  if (!installation) {
    installation = deps.db
      .selectFrom('installation')
      .select('id')
      .executeTakeFirstOrThrow()
      .then((row) => row.id);
    installation.catch(() => installations.delete(deps.db));
    installations.set(deps.db, installation);
  }
  const address = createHash('sha256').update(deps.publicUrl).digest('hex').slice(0, 8);
  return `haven-${await installation}-${address}`;
}
