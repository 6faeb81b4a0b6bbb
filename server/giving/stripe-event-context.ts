import type { Transaction } from 'kysely';
import Stripe from 'stripe';
import type { Config } from '../config';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';
import type { Logger } from '../logger';
import type { ReceiptSettings } from '../receipts/issuing';
import { createStripe } from './stripe-client';

/** What the effects of Stripe events (and Haven's own calls to Stripe) need. */
export type WebhookContext = {
  db: Db;
  stripe: Stripe;
  publicUrl: string;
  logger: Logger;
  /** For official receipts: issued per gift when due, revised when the money behind them changes. */
  receipts: ReceiptSettings;
};

/** What the effects need, built from the app's config; undefined when card giving is off. */
export function webhookContext(deps: { config: Config; db: Db; logger: Logger }): WebhookContext | undefined {
  const stripe = createStripe(deps.config.stripe);
  if (!stripe) return undefined;
  return { db: deps.db, stripe, publicUrl: deps.config.publicUrl, logger: deps.logger, receipts: deps.config };
}

/**
 * The API version Haven reads: the one the SDK's types describe (node_modules/stripe/cjs/apiVersion.js).
 * Haven's webhook endpoint must be set to it (README, "Stripe webhook endpoint"; npm run stripe:check).
 */
export const STRIPE_API_VERSION: string = Stripe.API_VERSION;

/** The effect cannot be applied yet (e.g. a dispute on a payment Stripe has not told us about): the queue tries again later. */
export class RetryLater extends Error {
  override name = 'RetryLater';
}

/**
 * Haven cannot read this event correctly (another API version, a shape it does not know, money it
 * cannot attribute): it is held, with the reason, on the staff Stripe-events page, never marked
 * done and never retried by itself. Staff can have it read again from Stripe's API once the cause is fixed.
 */
export class HoldEvent extends Error {
  override name = 'HoldEvent';
}

export type EventOf<T extends Stripe.Event.Type> = Extract<Stripe.Event, { type: T }>;

/**
 * What one event type does. `prepare` makes the Stripe API look-ups the effect needs before its
 * transaction (no lock is held across the network); `apply` runs in the event's one transaction,
 * which also marks the event processed (`applyAll`, when there is one, does the same for several).
 * Effects are keyed by Stripe object ids, so a duplicate or
 * reordered event records money once.
 */
export type EventEffect<T extends Stripe.Event.Type, Facts = undefined> = {
  prepare?(ctx: WebhookContext, event: EventOf<T>): Promise<Facts>;
  apply(trx: Transaction<Database>, ctx: WebhookContext, event: EventOf<T>, facts: Facts): Promise<void>;
  /**
   * Optional: the effect of several events of these types in that one transaction, as `apply`
   * one after the other would leave it, in fewer round trips (a share of the queue: applyStripeEvents).
   */
  applyAll?(trx: Transaction<Database>, ctx: WebhookContext, items: { event: EventOf<T>; facts: Facts }[]): Promise<void>;
};

/** What is kept and logged about a failure: its kind, code and message (ids, never donor data; PostgreSQL's row detail is left out). */
export function describeError(error: unknown): { name: string; code: string | undefined; message: string } {
  if (!(error instanceof Error)) return { name: 'Error', code: undefined, message: String(error).slice(0, 500) };
  const code = (error as { code?: unknown }).code;
  // Stripe's errors keep the name 'Error'; their class says what they are (StripeInvalidRequestError …).
  const name = error.name !== 'Error' ? error.name : error.constructor.name;
  return { name, code: typeof code === 'string' ? code : undefined, message: error.message.slice(0, 500) };
}

export function idOf(value: string | { id: string }): string {
  return typeof value === 'string' ? value : value.id;
}

/** Haven's pledge id from an object's metadata (Checkout sessions, payment intents, subscriptions). */
export function pledgeIdIn(metadata: Stripe.Metadata | null | undefined): number | undefined {
  const raw = metadata?.pledge_id;
  return raw && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
}

/**
 * How a set-based effect splits a queue share (`applyAll`): the first item for each of its keys
 * (a charge, a pledge, a payment intent) goes into the batch; an item sharing a key with one
 * already there, or with no keys (`undefined`: not for the batch), is left for one-by-one.
 */
export function firstOfEachKey<T>(items: T[], keysOf: (item: T) => string[] | undefined): { first: T[]; rest: T[] } {
  const seen = new Set<string>();
  const first: T[] = [];
  const rest: T[] = [];
  for (const item of items) {
    const keys = keysOf(item);
    if (!keys || keys.some((k) => seen.has(k))) rest.push(item);
    else {
      for (const k of keys) seen.add(k);
      first.push(item);
    }
  }
  return { first, rest };
}
