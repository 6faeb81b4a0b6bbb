import type Stripe from 'stripe';
import { STRIPE_API_VERSION } from './stripe-event-context';
import { HANDLED_EVENT_TYPES } from './stripe-webhooks';

export type WebhookEndpointCheck = {
  /** What is wrong, one sentence each; empty when the endpoint is right. */
  problems: string[];
  endpoint: Stripe.WebhookEndpoint | undefined;
};

/**
 * Reads the account's webhook endpoints through Stripe's API (GET /v1/webhook_endpoints,
 * https://docs.stripe.com/api/webhook_endpoints/list) and says what the endpoint for `url` is
 * missing: none at all, disabled, another API version than the one Haven reads (its events would
 * be held), or event types Haven needs that it does not send (a missing type silently skews
 * totals: a refund or dispute Haven never hears of).
 */
export async function checkWebhookEndpoint(stripe: Stripe, url: string): Promise<WebhookEndpointCheck> {
  const endpoints = await stripe.webhookEndpoints.list({ limit: 100 }).autoPagingToArray({ limit: 1_000 });
  const endpoint = endpoints.find((e) => e.url === url);
  if (!endpoint) return { problems: [`No webhook endpoint sends events to ${url}.`], endpoint };
  const problems: string[] = [];
  if (endpoint.status !== 'enabled') problems.push(`The endpoint is ${endpoint.status}.`);
  if (endpoint.api_version !== STRIPE_API_VERSION) {
    problems.push(`The endpoint sends API version ${endpoint.api_version ?? "(the account's default)"}; Haven reads ${STRIPE_API_VERSION}.`);
  }
  const sent = new Set(endpoint.enabled_events);
  const missing = sent.has('*') ? [] : HANDLED_EVENT_TYPES.filter((type) => !sent.has(type));
  if (missing.length > 0) problems.push(`The endpoint does not send: ${missing.join(', ')}.`);
  return { problems, endpoint };
}
