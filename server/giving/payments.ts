import { type RawBuilder, sql, type Transaction } from 'kysely';
import type { Database, PaymentMethod, PledgeStatus } from '../db/schema';
import { DomainError } from '../domain-error';
import { accounts } from '../ledger/accounts';
import { postTransaction, postTransactions } from '../ledger/ledger';
import { lockPledge, type LockedPledge, openPledgeCents } from './pledges';

export type ReceivedPayment = {
  pledgeId: number;
  amountCents: number;
  feeCents?: number;
  method: PaymentMethod;
  reference?: string | null;
  stripePaymentIntentId?: string | null;
  stripeChargeId?: string | null;
  stripeInvoiceId?: string | null;
  /** The instant the money arrived (card: Stripe's charge time; offline: the start of receivedOn where the charity is). */
  receivedAt: Date;
  /** The calendar date staff typed for an offline payment: a date, with no time. */
  receivedOn?: string | null;
  /** What the donor received in return (CRA): the receipt's eligible amount is the gift less this. */
  advantageCents?: number;
  advantageDescription?: string | null;
  /** The payment this one corrects (voided in the same transaction). */
  correctsPaymentId?: number | null;
};

/**
 * The charity's calendar date of a payment (`p` is the payments alias): the date staff typed, or
 * for a card payment the date of Stripe's instant in the charity's time zone. Receipts (tax year),
 * reports and reconciliation all read this one expression.
 */
export function paymentDay(timeZone: string, alias = 'p'): RawBuilder<string> {
  // A literal, not a parameter, so the same expression in SELECT and GROUP BY is the same to PostgreSQL (the name is a validated IANA zone).
  return sql<string>`coalesce(${sql.ref(`${alias}.received_on`)}, (${sql.ref(`${alias}.received_at`)} at time zone ${sql.lit(timeZone)})::date)`;
}

/** Money received on a pledge that is in force (a voided payment never was). */
async function liveReceivedCents(trx: Transaction<Database>, pledgeId: number): Promise<{ received: number; count: number }> {
  return (await liveReceivedCentsOf(trx, [pledgeId])).get(pledgeId) ?? { received: 0, count: 0 };
}

/** The same for several pledges, in one statement. */
async function liveReceivedCentsOf(trx: Transaction<Database>, pledgeIds: number[]): Promise<Map<number, { received: number; count: number }>> {
  const rows = await trx
    .selectFrom('payments')
    .select(['pledge_id', sql<number>`coalesce(sum(amount_cents), 0)::bigint`.as('received'), sql<number>`count(*)::int`.as('count')])
    .where('pledge_id', 'in', pledgeIds)
    .where('status', '<>', 'voided')
    .groupBy('pledge_id')
    .execute();
  return new Map(rows.map((r) => [r.pledge_id, { received: r.received, count: r.count }]));
}

/**
 * The pledged-but-unpaid memo moves with the pledge: after any change to its payments the memo
 * holds exactly openPledgeCents, so this posts the difference (receivable against deferred).
 */
function memoEntries(pledge: LockedPledge, openBefore: number, openAfter: number) {
  const fund = { groupId: pledge.group_id };
  const change = openAfter - openBefore;
  return [
    { account: accounts.receivable(fund), amountCents: change },
    { account: accounts.deferredPledges, amountCents: -change },
  ];
}

/**
 * A pledge's status from its payments in force (how many, and how much): a cancelled pledge stays
 * cancelled; a pay-later pledge is fulfilled only once its promised total has arrived, so one paid
 * in part stays open (staff record the rest or end it) instead of counting the rest forever.
 */
function statusAfter(pledge: LockedPledge, liveCount: number, liveCents: number): PledgeStatus {
  if (pledge.status === 'cancelled') return 'cancelled';
  if (liveCount === 0) return pledge.status === 'fulfilled' ? 'active' : pledge.status;
  const allPaid = pledge.frequency === 'once' || (pledge.installments !== null && liveCount >= pledge.installments);
  return allPaid && (pledge.committed_cents === null || liveCents >= pledge.committed_cents) ? 'fulfilled' : 'active';
}

/**
 * Records money received against a pledge, in one balanced ledger transaction: the cash
 * (net of the processor's fee) and the fee against the pledge's fund, and, when the pledge
 * was counted as pledged-but-unpaid, the matching release of that memo amount.
 */
export async function recordPayment(trx: Transaction<Database>, input: ReceivedPayment, options: { lockedPledge?: LockedPledge } = {}): Promise<number> {
  // The caller may hold the pledge's row lock already and pass the row it read with it (one statement fewer).
  const pledge = options.lockedPledge?.id === input.pledgeId ? options.lockedPledge : await lockPledge(trx, input.pledgeId);
  if (!pledge) throw new DomainError('not_found', 'giving:errors.noPledge', {}, { id: input.pledgeId });
  return (await recordPayments(trx, [{ input, pledge }]))[0]!;
}

/**
 * Records payments against several pledges, each exactly as recordPayment records one (the same
 * rows and ledger postings), in six statements however many: for pledges whose rows the caller
 * holds locked and passes, each pledge at most once. Returns the payment ids in the inputs' order.
 */
export async function recordPayments(trx: Transaction<Database>, items: { input: ReceivedPayment; pledge: LockedPledge }[]): Promise<number[]> {
  if (items.length === 0) return [];
  if (new Set(items.map((i) => i.pledge.id)).size !== items.length) throw new Error('recordPayments records one payment per pledge at a time');
  for (const { input, pledge } of items) {
    // Card money Stripe reports after a cancellation was still received and must be recorded.
    if (pledge.status === 'cancelled' && input.method !== 'card') throw new DomainError('conflict', 'giving:errors.pledgeCancelled');
    if ((input.feeCents ?? 0) > input.amountCents) throw new DomainError('invalid', 'giving:errors.feeOverAmount');
    const advantage = input.advantageCents ?? 0;
    if (advantage < 0 || advantage > input.amountCents) throw new DomainError('invalid', 'giving:errors.advantageOverAmount');
  }

  const live = await liveReceivedCentsOf(
    trx,
    items.map((i) => i.pledge.id),
  );
  const planned = items.map(({ input, pledge }) => {
    const { received, count } = live.get(pledge.id) ?? { received: 0, count: 0 };
    return { input, pledge, received, status: statusAfter(pledge, count + 1, received + input.amountCents) };
  });
  const inserted = await trx
    .insertInto('payments')
    .values(
      planned.map(({ input, pledge }) => {
        const advantage = input.advantageCents ?? 0;
        return {
          pledge_id: pledge.id,
          amount_cents: input.amountCents,
          fee_cents: input.feeCents ?? 0,
          method: input.method,
          reference: input.reference ?? null,
          stripe_payment_intent_id: input.stripePaymentIntentId ?? null,
          stripe_charge_id: input.stripeChargeId ?? null,
          stripe_invoice_id: input.stripeInvoiceId ?? null,
          received_at: input.receivedAt,
          received_on: input.receivedOn ?? null,
          advantage_cents: advantage,
          advantage_description: advantage > 0 ? (input.advantageDescription ?? null) : null,
          corrects_payment_id: input.correctsPaymentId ?? null,
        };
      }),
    )
    .returning(['id', 'pledge_id'])
    .execute();
  const paymentOf = new Map(inserted.map((r) => [r.pledge_id, r.id]));
  const paymentIds = planned.map((p) => paymentOf.get(p.pledge.id)!);

  await postTransactions(
    trx,
    planned.map(({ input, pledge, received, status }, i) => {
      const fee = input.feeCents ?? 0;
      const fund = { groupId: pledge.group_id };
      return {
        kind: 'gift_received',
        description: `${input.method} gift for pledge ${pledge.id}`,
        paymentId: paymentIds[i]!,
        entries: [
          { account: input.method === 'card' ? accounts.stripe : accounts.bank, amountCents: input.amountCents - fee },
          { account: accounts.fees(fund), amountCents: fee },
          { account: accounts.fund(fund), amountCents: -input.amountCents },
          ...memoEntries(pledge, openPledgeCents(pledge, received), openPledgeCents({ ...pledge, status }, received + input.amountCents)),
        ],
      };
    }),
  );

  // In the inputs' order: a donor's first gift of the campaign is the first of the lot.
  await trx
    .insertInto('campaign_donors')
    .values(planned.map(({ input, pledge }) => ({ campaign_id: pledge.campaign_id, donor_id: pledge.donor_id, first_gift_at: input.receivedAt })))
    .onConflict((oc) => oc.columns(['campaign_id', 'donor_id']).doNothing())
    .execute();

  const statuses = sql.join(planned.map((p) => sql`(${p.pledge.id}::bigint, ${p.status}::text)`));
  await sql`update pledges set status = v.status, updated_at = ${new Date()} from (values ${statuses}) as v (id, status) where pledges.id = v.id`.execute(trx);
  return paymentIds;
}

export type VoidedPayment = { id: number; pledgeId: number; amountCents: number; method: PaymentMethod; reference: string | null; receivedOn: string | null; advantageCents: number; advantageDescription: string | null };

/**
 * Voids a payment that was recorded in error: one reversing ledger transaction (cash, fee and fund
 * entries negated; the pledged memo re-opened by what the pledge owes again), the payment kept and
 * marked voided with its reason, its instalment due again, and the donor uncounted if this was
 * their only gift. Nothing posted is edited. Receipts are the caller's (receipts module).
 */
export async function voidPayment(trx: Transaction<Database>, input: { paymentId: number; reason: string; at: Date }): Promise<VoidedPayment> {
  const payment = await trx.selectFrom('payments').selectAll().where('id', '=', input.paymentId).forUpdate().executeTakeFirst();
  if (!payment) throw new DomainError('not_found', 'giving:errors.noPayment', {}, { id: input.paymentId });
  if (payment.status === 'voided') throw new DomainError('conflict', 'giving:errors.alreadyVoided', {}, { id: payment.id });
  const pledge = (await lockPledge(trx, payment.pledge_id))!;
  const { received, count } = await liveReceivedCents(trx, pledge.id);
  const status = statusAfter(pledge, count - 1, received - payment.amount_cents);
  const original = await trx
    .selectFrom('ledger_entries')
    .innerJoin('ledger_transactions', 'ledger_transactions.id', 'ledger_entries.transaction_id')
    .select(['ledger_entries.account', 'ledger_entries.amount_cents'])
    .where('ledger_transactions.payment_id', '=', payment.id)
    .where('ledger_transactions.kind', '=', 'gift_received')
    .execute();
  const memo = new Set([accounts.receivable({ groupId: pledge.group_id }), accounts.deferredPledges]);
  await postTransaction(trx, {
    kind: 'payment_voided',
    description: `Payment ${payment.id} voided: ${input.reason}`.slice(0, 500),
    paymentId: payment.id,
    entries: [
      ...original.filter((e) => !memo.has(e.account)).map((e) => ({ account: e.account, amountCents: -e.amount_cents })),
      ...memoEntries(pledge, openPledgeCents(pledge, received), openPledgeCents({ ...pledge, status }, received - payment.amount_cents)),
    ],
  });
  await trx.updateTable('payments').set({ status: 'voided', voided_at: input.at, void_reason: input.reason }).where('id', '=', payment.id).execute();
  await trx
    .updateTable('pledge_installments')
    .set({ status: pledge.status === 'cancelled' || pledge.status === 'lapsed' ? 'cancelled' : 'due', payment_id: null })
    .where('payment_id', '=', payment.id)
    .execute();
  const stillGiving = await trx
    .selectFrom('payments')
    .innerJoin('pledges', 'pledges.id', 'payments.pledge_id')
    .select('payments.id')
    .where('pledges.donor_id', '=', pledge.donor_id)
    .where('pledges.campaign_id', '=', pledge.campaign_id)
    .where('payments.status', '<>', 'voided')
    .limit(1)
    .executeTakeFirst();
  if (!stillGiving) await trx.deleteFrom('campaign_donors').where('campaign_id', '=', pledge.campaign_id).where('donor_id', '=', pledge.donor_id).execute();
  await trx.updateTable('pledges').set({ status, updated_at: input.at }).where('id', '=', pledge.id).execute();
  return {
    id: payment.id,
    pledgeId: pledge.id,
    amountCents: payment.amount_cents,
    method: payment.method,
    reference: payment.reference,
    receivedOn: payment.received_on,
    advantageCents: payment.advantage_cents,
    advantageDescription: payment.advantage_description,
  };
}
