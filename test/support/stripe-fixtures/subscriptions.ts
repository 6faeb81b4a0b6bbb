import type Stripe from 'stripe';
import { stripeId, unixNow } from './ids';

/** `months` calendar months after a Unix time, in UTC, clamped to the month's last day (how Stripe bills monthly: https://docs.stripe.com/billing/subscriptions/billing-cycle). */
export function addBillingMonths(unixSeconds: number, months: number): number {
  const from = new Date(unixSeconds * 1000);
  const y = from.getUTCFullYear();
  const m = from.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const at = new Date(Date.UTC(y, m, Math.min(from.getUTCDate(), lastDay), from.getUTCHours(), from.getUTCMinutes(), from.getUTCSeconds()));
  return Math.floor(at.getTime() / 1000);
}

/** A monthly CAD price created inline by Checkout (`price_data` with `recurring.interval: month`). */
export function monthlyPrice(unitAmount: number): Stripe.Price {
  const base = {
    id: stripeId('price'),
    object: 'price',
    active: false,
    billing_scheme: 'per_unit',
    created: unixNow(),
    currency: 'cad',
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    product: stripeId('prod'),
    recurring: { interval: 'month', interval_count: 1, meter: null, trial_period_days: null, usage_type: 'licensed' },
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: 'recurring',
    unit_amount: unitAmount,
    unit_amount_decimal: null,
  } satisfies Stripe.Price;
  return base;
}

/**
 * An active monthly subscription started by Checkout, shaped after Stripe's example subscription
 * (shared/stripe/fixtures3.json) and https://docs.stripe.com/api/subscriptions/object. Since
 * 2025-03-31.basil the current period lives on each item (`items.data[].current_period_start/end`);
 * `billing_cycle_anchor` is when every period starts, month after month. `cancel_at` (null until
 * set) is when Stripe ends the subscription by itself.
 */
export function monthlySubscription(fields: { customer: string; unitAmount: number; metadata: Stripe.Metadata; anchor?: number } & Partial<Stripe.Subscription>): Stripe.Subscription {
  const { customer, unitAmount, metadata, anchor = unixNow(), ...rest } = fields;
  const id = rest.id ?? stripeId('sub');
  const price = monthlyPrice(unitAmount);
  const item = {
    id: stripeId('si'),
    object: 'subscription_item',
    billing_thresholds: null,
    created: anchor,
    current_period_end: addBillingMonths(anchor, 1),
    current_period_start: anchor,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: {
      id: price.id,
      object: 'plan',
      active: false,
      amount: unitAmount,
      amount_decimal: null,
      billing_scheme: 'per_unit',
      created: anchor,
      currency: 'cad',
      interval: 'month',
      interval_count: 1,
      livemode: false,
      metadata: {},
      meter: null,
      nickname: null,
      product: price.product,
      tiers_mode: null,
      transform_usage: null,
      trial_period_days: null,
      usage_type: 'licensed',
    },
    price,
    quantity: 1,
    subscription: id,
    tax_rates: [],
  } satisfies Stripe.SubscriptionItem;
  const base = {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: anchor,
    billing_cycle_anchor_config: null,
    billing_mode: { type: 'flexible', flexible: { proration_discounts: 'included' } },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: 'charge_automatically',
    created: anchor,
    currency: 'cad',
    customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: stripeId('pm'),
    default_source: null,
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items: { object: 'list', data: [item], has_more: false, url: `/v1/subscription_items?subscription=${id}` },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: anchor,
    status: 'active',
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' } },
    trial_start: null,
  } satisfies Stripe.Subscription;
  return { ...base, ...rest };
}
