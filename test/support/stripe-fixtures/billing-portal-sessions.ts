import type Stripe from 'stripe';
import { stripeId, unixNow } from './ids';

/**
 * A Billing Portal session (`POST /v1/billing_portal/sessions`), shaped after
 * https://docs.stripe.com/api/customer_portal/sessions/object: a short-lived `url` where the
 * customer manages their payment method, and the `return_url` Stripe links back to.
 */
export function billingPortalSession(fields: Pick<Stripe.BillingPortal.Session, 'customer' | 'return_url' | 'url'> & Partial<Stripe.BillingPortal.Session>): Stripe.BillingPortal.Session {
  const base = {
    id: stripeId('bps'),
    object: 'billing_portal.session',
    configuration: 'bpc_test_standin',
    created: unixNow(),
    customer: fields.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: fields.return_url,
    url: fields.url,
  } satisfies Stripe.BillingPortal.Session;
  return { ...base, ...fields };
}
