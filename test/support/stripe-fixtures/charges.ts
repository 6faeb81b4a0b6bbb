import type Stripe from 'stripe';
import { stripeId, unixNow } from './ids';

/**
 * A succeeded card charge in CAD (a Canadian Visa), shaped after Stripe's example charge
 * (shared/stripe/fixtures3.json) and https://docs.stripe.com/api/charges/object. The stand-in
 * keeps it up to date as refunds and disputes happen: `amount_refunded` is cumulative and goes
 * back down when a refund fails; `disputed` turns true with the first dispute.
 */
export function cardCharge(fields: Pick<Stripe.Charge, 'amount'> & Partial<Stripe.Charge>): Stripe.Charge {
  const id = fields.id ?? stripeId('ch');
  const base = {
    id,
    object: 'charge',
    amount: fields.amount,
    amount_captured: fields.amount,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: {
      address: { city: null, country: 'CA', line1: null, line2: null, postal_code: 'M5V 1A1', state: null },
      email: null,
      name: 'Min-ji Park',
      phone: null,
      tax_id: null,
    },
    calculated_statement_descriptor: 'HANVOICE',
    captured: true,
    created: unixNow(),
    currency: 'cad',
    customer: null,
    description: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: {
      advice_code: null,
      network_advice_code: null,
      network_decline_code: null,
      network_status: 'approved_by_network',
      reason: null,
      risk_level: 'normal',
      seller_message: 'Payment complete.',
      type: 'authorized',
    },
    paid: true,
    payment_intent: null,
    payment_method: stripeId('pm'),
    payment_method_details: {
      type: 'card',
      card: {
        amount_authorized: fields.amount,
        authorization_code: '123456',
        brand: 'visa',
        checks: { address_line1_check: null, address_postal_code_check: 'pass', cvc_check: 'pass' },
        country: 'CA',
        electronic_commerce_indicator: null,
        exp_month: 8,
        exp_year: 2030,
        funding: 'credit',
        installments: null,
        last4: '4242',
        mandate: null,
        network: 'visa',
        network_transaction_id: '000000000000000',
        regulated_status: 'unregulated',
        three_d_secure: null,
        transaction_link_id: null,
        wallet: null,
      },
    },
    receipt_email: null,
    receipt_number: null,
    receipt_url: `https://pay.stripe.com/receipts/payment/${id}`,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'succeeded',
    transfer_data: null,
    transfer_group: null,
  } satisfies Stripe.Charge;
  return { ...base, ...fields };
}
