import type Stripe from 'stripe';
import { CURRENT_API_VERSION } from './events';
import { stripeId, unixNow } from './ids';

/**
 * A webhook endpoint as `GET /v1/webhook_endpoints` lists it, shaped after Stripe's example
 * webhook_endpoint (shared/stripe/fixtures3.json) and
 * https://docs.stripe.com/api/webhook_endpoints/object. `api_version` is the version its events
 * are rendered in (null: the account's default version); `enabled_events` may be `['*']`.
 */
export function webhookEndpoint(fields: Pick<Stripe.WebhookEndpoint, 'url' | 'enabled_events'> & Partial<Stripe.WebhookEndpoint>): Stripe.WebhookEndpoint {
  const base = {
    id: stripeId('we'),
    object: 'webhook_endpoint',
    api_version: CURRENT_API_VERSION,
    application: null,
    created: unixNow(),
    description: 'Haven',
    enabled_events: fields.enabled_events,
    livemode: false,
    metadata: {},
    status: 'enabled',
    url: fields.url,
  } satisfies Stripe.WebhookEndpoint;
  return { ...base, ...fields };
}
