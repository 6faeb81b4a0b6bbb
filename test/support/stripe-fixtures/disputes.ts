import type Stripe from 'stripe';
import { stripeId, unixNow } from './ids';

/**
 * Disputes, shaped after Stripe's example dispute (shared/stripe/fixtures3.json: an inquiry,
 * `warning_needs_response`, no balance transactions) and https://docs.stripe.com/api/disputes/object.
 * The lifecycle (https://docs.stripe.com/disputes/how-disputes-work):
 * - an inquiry (`payment_method_details.card.case_type: 'inquiry'`, status `warning_needs_response`
 *   → `warning_under_review` → `warning_closed`) withdraws nothing: `balance_transactions` stays empty;
 *   if it escalates it becomes a chargeback (status `needs_response`) and the funds are withdrawn;
 * - a chargeback (`case_type: 'chargeback'`, status `needs_response` → `under_review` → `won` | `lost`)
 *   withdraws the amount and the dispute fee when it is opened (one balance transaction,
 *   `charge.dispute.funds_withdrawn`), and reinstates the amount when won (a second one,
 *   `charge.dispute.funds_reinstated`), with the fee when Stripe returns it.
 */
export function dispute(fields: Pick<Stripe.Dispute, 'amount' | 'charge' | 'status'> & Partial<Stripe.Dispute> & { caseType?: 'inquiry' | 'chargeback' }): Stripe.Dispute {
  const { caseType = fields.status.startsWith('warning_') ? 'inquiry' : 'chargeback', ...rest } = fields;
  const created = rest.created ?? unixNow();
  const base = {
    id: stripeId('du'),
    object: 'dispute',
    amount: rest.amount,
    balance_transactions: [],
    charge: rest.charge,
    created,
    currency: 'cad',
    enhanced_eligibility_types: [],
    evidence: {
      access_activity_log: null,
      billing_address: null,
      cancellation_policy: null,
      cancellation_policy_disclosure: null,
      cancellation_rebuttal: null,
      customer_communication: null,
      customer_email_address: null,
      customer_name: null,
      customer_purchase_ip: null,
      customer_signature: null,
      duplicate_charge_documentation: null,
      duplicate_charge_explanation: null,
      duplicate_charge_id: null,
      enhanced_evidence: {},
      product_description: null,
      receipt: null,
      refund_policy: null,
      refund_policy_disclosure: null,
      refund_refusal_explanation: null,
      service_date: null,
      service_documentation: null,
      shipping_address: null,
      shipping_carrier: null,
      shipping_date: null,
      shipping_documentation: null,
      shipping_tracking_number: null,
      uncategorized_file: null,
      uncategorized_text: null,
    },
    evidence_details: {
      due_by: created + 14 * 86_400,
      enhanced_eligibility: {},
      has_evidence: false,
      past_due: false,
      submission_count: 0,
      submission_method: 'not_submitted',
    },
    intended_submission_method: null,
    is_charge_refundable: caseType === 'inquiry',
    livemode: false,
    metadata: {},
    payment_intent: null,
    payment_method_details: { type: 'card', card: { brand: 'visa', case_type: caseType, network: 'visa', network_reason_code: caseType === 'inquiry' ? '10.4' : '13.1' } },
    reason: caseType === 'inquiry' ? 'general' : 'fraudulent',
    status: rest.status,
  } satisfies Stripe.Dispute;
  return { ...base, ...rest };
}
