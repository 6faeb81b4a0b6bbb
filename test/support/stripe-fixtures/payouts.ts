import Stripe from 'stripe';

/**
 * Payouts to the charity's bank, shaped after Stripe's published example payout object (the
 * openapi fixtures: every field it carries, its id and balance-transaction prefixes) and typed
 * with the SDK's Stripe.Payout / Stripe.PayoutPaidEvent for the pinned API version, so the
 * compiler refuses a field Stripe does not have. Amounts and dates are the test's own.
 */
let counter = 0;

function stripeId(prefix: string): string {
  counter += 1;
  return `${prefix}_1Pgc79B7WZ01zgkW${String(counter).padStart(8, '0')}`;
}

/** A payout that Stripe reports as paid (`status: 'paid'`); `arrival_date` is midnight UTC of its arrival day, as Stripe sends it. */
export function paidPayout(amountCents: number, arrivalOn: string, overrides: Partial<Stripe.Payout> = {}): Stripe.Payout {
  const arrival = Math.floor(Date.parse(`${arrivalOn}T00:00:00Z`) / 1000);
  return {
    id: stripeId('po'),
    object: 'payout',
    amount: amountCents,
    application_fee: null,
    application_fee_amount: null,
    arrival_date: arrival,
    automatic: true,
    balance_transaction: stripeId('txn'),
    created: arrival - 2 * 86_400,
    currency: 'cad',
    description: 'STRIPE PAYOUT',
    destination: stripeId('ba'),
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: {},
    method: 'standard',
    original_payout: null,
    payout_method: null,
    reconciliation_status: 'completed',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: null,
    status: 'paid',
    trace_id: { status: 'supported', value: null },
    type: 'bank_account',
    ...overrides,
  };
}

/** The bank returned a payout Stripe had reported paid (Stripe then sends payout.failed). */
export function failedPayout(paid: Stripe.Payout): Stripe.Payout {
  return { ...paid, status: 'failed', failure_code: 'account_closed', failure_message: 'The bank account has been closed.', failure_balance_transaction: stripeId('txn') };
}

export function payoutEvent(type: 'payout.paid', payout: Stripe.Payout): Stripe.PayoutPaidEvent;
export function payoutEvent(type: 'payout.failed', payout: Stripe.Payout): Stripe.PayoutFailedEvent;
export function payoutEvent(type: 'payout.paid' | 'payout.failed', payout: Stripe.Payout): Stripe.PayoutPaidEvent | Stripe.PayoutFailedEvent {
  const base = {
    id: stripeId('evt'),
    object: 'event' as const,
    api_version: Stripe.API_VERSION,
    created: payout.arrival_date,
    data: { object: payout },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
  };
  return type === 'payout.paid' ? { ...base, type } : { ...base, type };
}
