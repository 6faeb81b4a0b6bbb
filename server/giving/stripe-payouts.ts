import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import { writeAudit } from '../audit/audit';
import type { Database } from '../db/schema';
import { accounts } from '../ledger/accounts';
import { postTransaction } from '../ledger/ledger';

/**
 * Stripe payouts to the charity's bank (DESIGN §5: money follows Stripe's balance). `payout.paid`
 * moves the amount from `stripe` to `bank`; `payout.failed` after it (the bank returned the money,
 * which Stripe puts back in the balance) moves it back. Keyed by the payout id in `stripe_payouts`,
 * so a repeat or a reordered event moves money once: a failure seen before its payment leaves a
 * `failed` row, and the late `payout.paid` then moves nothing. Read by the reconciliation page.
 */
const STRIPE_ACTOR = { userId: null, label: 'stripe' } as const;

/** Stripe sends a payout's arrival date as midnight UTC of that day. */
function arrivalOn(payout: Stripe.Payout): string {
  return new Date(payout.arrival_date * 1000).toISOString().slice(0, 10);
}

export async function applyPayoutEvent(trx: Transaction<Database>, event: Stripe.PayoutPaidEvent | Stripe.PayoutFailedEvent): Promise<void> {
  const payout = event.data.object;
  if (payout.currency !== 'cad' || payout.amount <= 0) {
    // The ledger is in Canadian dollars: leave a trail for the treasurer rather than guess a rate.
    await writeAudit(trx, { actor: STRIPE_ACTOR, action: 'payout.not_recorded', subject: `payout:${payout.id}`, details: { currency: payout.currency, amountCents: payout.amount, eventId: event.id } });
    return;
  }
  const row = await trx.selectFrom('stripe_payouts').select(['id', 'status', 'paid_transaction_id']).where('id', '=', payout.id).forUpdate().executeTakeFirst();
  if (event.type === 'payout.paid') {
    if (row) return; // already paid, or already failed: nothing more moves
    const transactionId = await postTransaction(trx, {
      kind: 'payout_paid',
      description: `Stripe payout ${payout.id} to the bank`,
      entries: [
        { account: accounts.bank, amountCents: payout.amount },
        { account: accounts.stripe, amountCents: -payout.amount },
      ],
    });
    await trx
      .insertInto('stripe_payouts')
      .values({ id: payout.id, amount_cents: payout.amount, currency: payout.currency, arrival_on: arrivalOn(payout), status: 'paid', paid_transaction_id: transactionId })
      .execute();
    return;
  }
  if (row?.status === 'failed') return;
  let failedTransactionId: number | null = null;
  if (row?.paid_transaction_id) {
    failedTransactionId = await postTransaction(trx, {
      kind: 'payout_failed',
      description: `Stripe payout ${payout.id} returned by the bank`,
      entries: [
        { account: accounts.stripe, amountCents: payout.amount },
        { account: accounts.bank, amountCents: -payout.amount },
      ],
    });
  }
  if (row) {
    await trx.updateTable('stripe_payouts').set({ status: 'failed', failed_transaction_id: failedTransactionId }).where('id', '=', payout.id).execute();
  } else {
    await trx.insertInto('stripe_payouts').values({ id: payout.id, amount_cents: payout.amount, currency: payout.currency, arrival_on: arrivalOn(payout), status: 'failed' }).execute();
  }
}
