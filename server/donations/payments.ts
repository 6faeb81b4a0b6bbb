import { sql, type Transaction } from 'kysely';
import type { Database, PaymentMethod } from '../db/schema';
import { DomainError } from '../domain-error';
import { accounts } from '../ledger/accounts';
import { postTransaction } from '../ledger/ledger';
import { lockPledge } from './pledges';

export type ReceivedPayment = {
  pledgeId: number;
  amountCents: number;
  feeCents?: number;
  method: PaymentMethod;
  reference?: string | null;
  stripePaymentIntentId?: string | null;
  stripeChargeId?: string | null;
  stripeInvoiceId?: string | null;
  receivedAt: Date;
};

/**
 * Records money received against a pledge, in one balanced ledger transaction: the cash
 * (net of the processor's fee) and the fee against the pledge's fund, and, when the pledge
 * was counted as pledged-but-unpaid, the matching release of that memo amount.
 */
export async function recordPayment(trx: Transaction<Database>, input: ReceivedPayment): Promise<number> {
  const pledge = await lockPledge(trx, input.pledgeId);
  if (!pledge) throw new DomainError('not_found', `Pledge ${input.pledgeId} does not exist.`);
  // Card money Stripe reports after a cancellation was still received and must be recorded.
  if (pledge.status === 'cancelled' && input.method !== 'card') throw new DomainError('conflict', 'This pledge was cancelled.');
  const fee = input.feeCents ?? 0;
  if (fee > input.amountCents) throw new DomainError('invalid', 'The fee cannot exceed the amount received.');

  const { received, count } = await trx
    .selectFrom('payments')
    .select([sql<number>`coalesce(sum(amount_cents), 0)::bigint`.as('received'), sql<number>`count(*)::int`.as('count')])
    .where('pledge_id', '=', pledge.id)
    .executeTakeFirstOrThrow();

  const payment = await trx
    .insertInto('payments')
    .values({
      pledge_id: pledge.id,
      amount_cents: input.amountCents,
      fee_cents: fee,
      method: input.method,
      reference: input.reference ?? null,
      stripe_payment_intent_id: input.stripePaymentIntentId ?? null,
      stripe_charge_id: input.stripeChargeId ?? null,
      stripe_invoice_id: input.stripeInvoiceId ?? null,
      received_at: input.receivedAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();

  const fund = { groupId: pledge.group_id };
  const released = Math.min(input.amountCents, Math.max(0, (pledge.committed_cents ?? 0) - received));
  await postTransaction(trx, {
    kind: 'gift_received',
    description: `${input.method} gift for pledge ${pledge.id}`,
    paymentId: payment.id,
    entries: [
      { account: input.method === 'card' ? accounts.stripe : accounts.bank, amountCents: input.amountCents - fee },
      { account: accounts.fees(fund), amountCents: fee },
      { account: accounts.fund(fund), amountCents: -input.amountCents },
      { account: accounts.receivable(fund), amountCents: -released },
      { account: accounts.deferredPledges, amountCents: released },
    ],
  });

  await trx
    .insertInto('campaign_donors')
    .values({ campaign_id: pledge.campaign_id, donor_id: pledge.donor_id, first_gift_at: input.receivedAt })
    .onConflict((oc) => oc.columns(['campaign_id', 'donor_id']).doNothing())
    .execute();

  const paidCount = count + 1;
  const fulfilled = pledge.frequency === 'once' || (pledge.installments !== null && paidCount >= pledge.installments);
  await trx
    .updateTable('pledges')
    .set({ status: pledge.status === 'cancelled' ? 'cancelled' : fulfilled ? 'fulfilled' : 'active', updated_at: new Date() })
    .where('id', '=', pledge.id)
    .execute();
  return payment.id;
}
