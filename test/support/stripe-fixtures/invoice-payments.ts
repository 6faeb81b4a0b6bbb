import type Stripe from 'stripe';
import { stripeId, unixNow } from './ids';

/**
 * One payment toward an invoice (`GET /v1/invoice_payments?invoice=…`), shaped after Stripe's
 * example invoice_payment (shared/stripe/fixtures3.json) and
 * https://docs.stripe.com/api/invoice-payment/object. An invoice can have several (partial
 * payments, https://docs.stripe.com/changelog/basil/2025-05-28/partial-payments); a payment made
 * on Stripe names its `payment_intent` (or, for older charges, its `charge`), one made outside
 * Stripe (paid out of band) a `payment_record` instead.
 */
export function invoicePayment(fields: Pick<Stripe.InvoicePayment, 'invoice' | 'amount_paid' | 'payment'> & Partial<Stripe.InvoicePayment>): Stripe.InvoicePayment {
  const created = unixNow();
  const base = {
    id: stripeId('inpay'),
    object: 'invoice_payment',
    amount_paid: fields.amount_paid,
    amount_requested: fields.amount_paid ?? 0,
    created,
    currency: 'cad',
    invoice: fields.invoice,
    is_default: true,
    livemode: false,
    payment: fields.payment,
    status: 'paid',
    status_transitions: { canceled_at: null, paid_at: created },
  } satisfies Stripe.InvoicePayment;
  return { ...base, ...fields };
}
