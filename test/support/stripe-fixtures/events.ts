import Stripe from 'stripe';
import { stripeId, unixNow } from './ids';

/** The API version the SDK is pinned to (node_modules/stripe/cjs/apiVersion.js); Haven reads events rendered in it. */
export const CURRENT_API_VERSION: string = Stripe.API_VERSION;
/** The last version before 2025-03-31.basil changed invoices (https://docs.stripe.com/changelog/acacia). */
export const PRE_BASIL_API_VERSION = '2025-02-24.acacia';

export type EventOf<T extends Stripe.Event.Type> = Extract<Stripe.Event, { type: T }>;
export type EventObject<T extends Stripe.Event.Type> = EventOf<T>['data']['object'];

/**
 * A webhook event as Stripe delivers it, shaped after Stripe's example event
 * (shared/stripe/fixtures3.json) and https://docs.stripe.com/api/events/object: the object as it
 * was when the event happened (a copy: later changes to the object do not touch the event),
 * rendered in the endpoint's API version (`api_version`).
 */
export function stripeEvent<T extends Stripe.Event.Type>(
  type: T,
  object: EventObject<T>,
  options: { apiVersion?: string | null; created?: number; previousAttributes?: Partial<EventObject<T>> } = {},
): EventOf<T> {
  const event = {
    id: stripeId('evt'),
    object: 'event',
    api_version: options.apiVersion === undefined ? CURRENT_API_VERSION : options.apiVersion,
    created: options.created ?? unixNow(),
    data: { object: structuredClone(object), ...(options.previousAttributes ? { previous_attributes: options.previousAttributes } : {}) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  } satisfies Omit<Stripe.EventBase, 'type' | 'data'> & { type: T; data: { object: EventObject<T> } };
  return event as unknown as EventOf<T>;
}

/**
 * An event whose object is in an older API version's shape, which the SDK's types (the pinned
 * version only) do not describe: typed as a Stripe.Event everywhere else, so the old shape
 * reaches Haven exactly as an endpoint on that version would deliver it.
 */
export function olderVersionEvent<T extends Stripe.Event.Type>(type: T, object: object, apiVersion: string): EventOf<T> {
  return stripeEvent(type, object as EventObject<T>, { apiVersion });
}
