import type Stripe from 'stripe';
import { stripeId, unixNow } from './ids';

/**
 * A refund of a card charge, shaped after Stripe's example refund (shared/stripe/fixtures3.json)
 * and https://docs.stripe.com/api/refunds/object. A card refund is `succeeded` at once (its
 * `balance_transaction` debits the balance); it can still fail later (status `failed`,
 * `failure_reason`, and `failure_balance_transaction` crediting the amount back), which Stripe
 * reports with `refund.failed`, `refund.updated` and `charge.refund.updated`, the charge's
 * `amount_refunded` going back down.
 */
export function cardRefund(fields: Pick<Stripe.Refund, 'amount' | 'charge'> & Partial<Stripe.Refund>): Stripe.Refund {
  const base = {
    id: stripeId('re'),
    object: 'refund',
    amount: fields.amount,
    balance_transaction: null,
    charge: fields.charge,
    created: unixNow(),
    currency: 'cad',
    customer: null,
    customer_account: null,
    destination_details: { type: 'card', card: { type: 'refund', reference_status: 'pending', reference_type: 'acquirer_reference_number' } },
    metadata: {},
    payment_intent: null,
    payment_method: null,
    reason: null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  } satisfies Stripe.Refund;
  return { ...base, ...fields };
}
