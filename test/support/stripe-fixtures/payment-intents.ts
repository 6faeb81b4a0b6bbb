import type Stripe from 'stripe';
import { stripeId, unixNow } from './ids';

/**
 * A succeeded card payment intent, shaped after Stripe's example payment_intent
 * (shared/stripe/fixtures3.json) and https://docs.stripe.com/api/payment_intents/object.
 * `latest_charge` names the charge that paid it (expandable).
 */
export function succeededPaymentIntent(fields: Pick<Stripe.PaymentIntent, 'amount' | 'latest_charge'> & Partial<Stripe.PaymentIntent>): Stripe.PaymentIntent {
  const id = fields.id ?? stripeId('pi');
  const base = {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: fields.amount,
    amount_capturable: 0,
    amount_received: fields.amount,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: `${id}_secret_standin`,
    confirmation_method: 'automatic',
    created: unixNow(),
    currency: 'cad',
    customer: null,
    customer_account: null,
    description: null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: fields.latest_charge,
    livemode: false,
    managed_payments: null,
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'succeeded',
    transfer_group: null,
  } satisfies Stripe.PaymentIntent;
  return { ...base, ...fields };
}
