import Stripe from 'stripe';
import type { StripeConfig } from '../config';

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
