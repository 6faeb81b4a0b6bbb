import type Stripe from 'stripe';
import { stripeId, unixNow } from './ids';

/**
 * Balance transactions: how each movement changes the account's Stripe balance. `amount` is the
 * gross, `fee` what Stripe took (negative when Stripe gives a fee back), `net = amount - fee`.
 * Shaped after Stripe's example balance_transaction (shared/stripe/fixtures3.json) and
 * https://docs.stripe.com/api/balance_transactions/object.
 */
export function balanceTransaction(fields: Pick<Stripe.BalanceTransaction, 'amount' | 'fee' | 'type' | 'reporting_category'> & Partial<Stripe.BalanceTransaction>): Stripe.BalanceTransaction {
  const created = fields.created ?? unixNow();
  const base = {
    id: stripeId('txn'),
    object: 'balance_transaction',
    amount: fields.amount,
    available_on: created + 2 * 86_400,
    balance_type: 'payments',
    created,
    currency: 'cad',
    description: null,
    exchange_rate: null,
    fee: fields.fee,
    fee_details: fields.fee === 0 ? [] : [{ amount: fields.fee, application: null, currency: 'cad', description: 'Stripe processing fees', type: 'stripe_fee' }],
    net: fields.amount - fields.fee,
    reporting_category: fields.reporting_category,
    source: null,
    status: 'pending',
    type: fields.type,
  } satisfies Stripe.BalanceTransaction;
  return { ...base, ...fields, net: fields.amount - fields.fee };
}

/** A card charge's balance transaction: Stripe's fee taken from the gross. */
export function chargeBalanceTransaction(chargeId: string, amount: number, fee: number): Stripe.BalanceTransaction {
  return balanceTransaction({ amount, fee, type: 'charge', reporting_category: 'charge', source: chargeId, description: 'Gift to Haven' });
}

/**
 * A dispute's balance transactions (https://docs.stripe.com/api/disputes/object, field
 * `balance_transactions`: "zero, one, or two balance transactions that show funds withdrawn and
 * reinstated"). The withdrawal takes the disputed amount and the dispute fee; a reinstatement
 * returns the amount, and the fee too when Stripe returns it (then `fee` is negative).
 */
export function disputeWithdrawal(disputeId: string, amount: number, disputeFee: number): Stripe.BalanceTransaction {
  return {
    ...balanceTransaction({ amount: -amount, fee: disputeFee, type: 'adjustment', reporting_category: 'dispute', source: disputeId, description: 'Chargeback withdrawal' }),
    fee_details: [{ amount: disputeFee, application: null, currency: 'cad', description: 'Dispute fee', type: 'stripe_fee' }],
  };
}

export function disputeReinstatement(disputeId: string, amount: number, returnedFee: number): Stripe.BalanceTransaction {
  return {
    ...balanceTransaction({ amount, fee: -returnedFee, type: 'adjustment', reporting_category: 'dispute_reversal', source: disputeId, description: 'Chargeback reversal' }),
    fee_details: returnedFee === 0 ? [] : [{ amount: -returnedFee, application: null, currency: 'cad', description: 'Dispute fee refund', type: 'stripe_fee' }],
  };
}

/** A refund's debit, and the credit that reverses it when the refund fails (Refund.failure_balance_transaction). */
export function refundBalanceTransaction(refundId: string, amount: number): Stripe.BalanceTransaction {
  return balanceTransaction({ amount: -amount, fee: 0, type: 'refund', reporting_category: 'refund', source: refundId, description: 'REFUND FOR CHARGE' });
}

export function refundFailureBalanceTransaction(refundId: string, amount: number): Stripe.BalanceTransaction {
  return balanceTransaction({ amount, fee: 0, type: 'refund_failure', reporting_category: 'refund_failure', source: refundId, description: 'REFUND FAILURE' });
}
