import type Stripe from 'stripe';
import { stripeId, unixNow } from './ids';

/**
 * A Checkout session as `POST /v1/checkout/sessions` answers it (status `open`, unpaid), shaped
 * after Stripe's example checkout.session (shared/stripe/fixtures3.json) and
 * https://docs.stripe.com/api/checkout/sessions/object. When the donor pays, status becomes
 * `complete` and `payment_status` `paid` (or stays `unpaid` for delayed methods such as
 * pre-authorised debit, which later send `checkout.session.async_payment_succeeded`); a
 * one-time session then names its `payment_intent`, a subscription session its `subscription`.
 */
export function openCheckoutSession(fields: Pick<Stripe.Checkout.Session, 'mode' | 'amount_total'> & Partial<Stripe.Checkout.Session>): Stripe.Checkout.Session {
  const id = fields.id ?? stripeId('cs');
  const created = unixNow();
  const base = {
    id,
    object: 'checkout.session',
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: fields.amount_total,
    amount_total: fields.amount_total,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: null,
    client_reference_id: null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created,
    currency: 'cad',
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: null,
    customer_account: null,
    customer_creation: fields.mode === 'payment' ? 'if_required' : 'always',
    customer_details: null,
    customer_email: null,
    discounts: [],
    expires_at: created + 86_400,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: {},
    mode: fields.mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: 'always',
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted_page',
    url: `https://checkout.stripe.com/c/pay/${id}`,
    wallet_options: null,
  } satisfies Stripe.Checkout.Session;
  return { ...base, ...fields };
}

/** What the donor typed on Stripe's page, as a completed session reports it. */
export function customerDetails(email: string | null): Stripe.Checkout.Session.CustomerDetails {
  return { address: { city: 'Toronto', country: 'CA', line1: null, line2: null, postal_code: 'M5V 1A1', state: 'ON' }, business_name: null, email, individual_name: null, name: 'Min-ji Park', phone: null, tax_exempt: 'none', tax_ids: [] };
}
