import type Stripe from 'stripe';
import { stripeId, unixNow } from './ids';
import { addBillingMonths } from './subscriptions';

export type SubscriptionInvoiceFields = {
  subscription: Stripe.Subscription;
  /** Which monthly period this invoice bills: 0 for the first (billing_reason subscription_create). */
  period: number;
  outcome: 'paid' | 'open';
};

/**
 * A subscription's monthly invoice in the current API version, shaped after Stripe's example
 * invoice (shared/stripe/fixtures3.json) and https://docs.stripe.com/api/invoices/object. Since
 * 2025-03-31.basil an invoice names what generated it in `parent`
 * (`parent.subscription_details.subscription` and the subscription's `metadata`), and no longer
 * carries `payment_intent`/`charge`: its payments are listed by `GET /v1/invoice_payments`
 * (https://docs.stripe.com/changelog/basil/2025-03-31/adds-new-parent-field-to-invoicing-objects,
 * https://docs.stripe.com/changelog/basil/2025-03-31/add-support-for-multiple-partial-payments-on-invoices).
 */
export function subscriptionInvoice({ subscription, period, outcome }: SubscriptionInvoiceFields, fields: Partial<Stripe.Invoice> = {}): Stripe.Invoice {
  const id = fields.id ?? stripeId('in');
  const item = subscription.items.data[0]!;
  const amount = item.price.unit_amount ?? 0;
  const periodStart = addBillingMonths(subscription.billing_cycle_anchor, period);
  const periodEnd = addBillingMonths(subscription.billing_cycle_anchor, period + 1);
  const paid = outcome === 'paid';
  const customer = typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
  const created = unixNow();
  const base = {
    id,
    object: 'invoice',
    account_country: 'CA',
    account_name: 'HanVoice',
    account_tax_ids: null,
    amount_due: amount,
    amount_overpaid: 0,
    amount_paid: paid ? amount : 0,
    amount_remaining: paid ? 0 : amount,
    amount_shipping: 0,
    application: null,
    attempt_count: 1,
    attempted: true,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: period === 0 ? 'subscription_create' : 'subscription_cycle',
    collection_method: 'charge_automatically',
    created,
    currency: 'cad',
    custom_fields: null,
    customer,
    customer_account: null,
    customer_address: null,
    customer_email: null,
    customer_name: null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: created,
    ending_balance: 0,
    footer: null,
    from_invoice: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: {
      object: 'list',
      data: [
        {
          id: stripeId('il'),
          object: 'line_item',
          amount,
          currency: 'cad',
          description: '1 × Monthly gift to Haven',
          discount_amounts: [],
          discountable: true,
          discounts: [],
          invoice: id,
          livemode: false,
          metadata: {},
          parent: {
            type: 'subscription_item_details',
            invoice_item_details: null,
            subscription_item_details: { invoice_item: null, proration: false, proration_details: { credited_items: null }, subscription: subscription.id, subscription_item: item.id },
          },
          period: { start: periodStart, end: periodEnd },
          pretax_credit_amounts: [],
          pricing: { type: 'price_details', price_details: { price: item.price.id, product: String(item.price.product) }, unit_amount_decimal: null },
          quantity: 1,
          quantity_decimal: null,
          subscription: subscription.id,
          subtotal: amount,
          taxes: [],
        },
      ],
      has_more: false,
      url: `/v1/invoices/${id}/lines`,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt: paid ? null : created + 3 * 86_400,
    number: `HV-${Math.floor(created % 100_000)}`,
    on_behalf_of: null,
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: subscription.metadata, subscription: subscription.id } },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: periodStart,
    period_start: periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: paid ? 'paid' : 'open',
    status_transitions: { finalized_at: created, marked_uncollectible_at: null, paid_at: paid ? created : null, voided_at: null },
    subtotal: amount,
    subtotal_excluding_tax: amount,
    test_clock: null,
    total: amount,
    total_discount_amounts: [],
    total_excluding_tax: amount,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: created,
  } satisfies Stripe.Invoice;
  return { ...base, ...fields };
}

/**
 * The same invoice as an endpoint set to an API version before 2025-03-31.basil renders it: no
 * `parent`; instead the top-level `subscription`, `subscription_details`, `payment_intent`,
 * `charge`, `paid` and `paid_out_of_band` that basil removed (changelog entries
 * https://docs.stripe.com/changelog/basil/2025-03-31/adds-new-parent-field-to-invoicing-objects
 * and https://docs.stripe.com/changelog/basil/2025-03-31/add-support-for-multiple-partial-payments-on-invoices).
 * The SDK's types describe only the pinned version, so this shape is typed here: the current
 * invoice without `parent`, plus the older fields.
 */
export type InvoiceBeforeBasil = Omit<Stripe.Invoice, 'parent'> & {
  subscription: string | null;
  subscription_details: { metadata: Stripe.Metadata | null } | null;
  payment_intent: string | null;
  charge: string | null;
  paid: boolean;
  paid_out_of_band: boolean;
};

export function invoiceBeforeBasil(current: Stripe.Invoice, payment: { paymentIntent: string | null; charge: string | null }): InvoiceBeforeBasil {
  const { parent, ...rest } = current;
  return {
    ...rest,
    subscription: parent?.subscription_details ? String(parent.subscription_details.subscription) : null,
    subscription_details: parent?.subscription_details ? { metadata: parent.subscription_details.metadata } : null,
    payment_intent: payment.paymentIntent,
    charge: payment.charge,
    paid: current.status === 'paid',
    paid_out_of_band: false,
  };
}
