import { sql, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import { writeAudit } from '../audit/audit';
import type { Database, PaymentStatus } from '../db/schema';
import { recordPayments } from './payments';
import { type LockedPledge, lockPledge } from './pledges';
import type { FundRef } from '../ledger/accounts';
import { issueReceiptIfDue, issueReceiptsIfDue, type ReceiptSettings } from '../receipts/issuing';
import { reviseReceiptsAfterRefund } from '../receipts/replacing';
import { idOf, RetryLater } from './stripe-event-context';

/**
 * Card payments as Stripe reports them: what was charged and what Stripe kept (read from the
 * charge's balance transaction), recorded once per charge, and the payment's status and receipt
 * kept in line with the money still held (refunds, failed refunds, disputes).
 */
export type ChargeFacts = {
  chargeId: string;
  paymentIntentId: string | null;
  amountCents: number;
  feeCents: number;
  currency: string;
  receivedAt: Date;
};

export const STRIPE_ACTOR = { userId: null, label: 'stripe' } as const;

export async function chargeFactsOfPaymentIntent(stripe: Stripe, paymentIntentId: string): Promise<ChargeFacts> {
  const intent = await stripe.paymentIntents.retrieve(paymentIntentId, { expand: ['latest_charge.balance_transaction'] });
  const charge = intent.latest_charge;
  if (!charge || typeof charge === 'string') throw new RetryLater(`payment intent ${paymentIntentId} has no charge yet`);
  return chargeFacts(stripe, charge);
}

export async function chargeFactsOfCharge(stripe: Stripe, chargeId: string): Promise<ChargeFacts> {
  return chargeFacts(stripe, await stripe.charges.retrieve(chargeId, { expand: ['balance_transaction'] }));
}

/** The fee is what Stripe's balance transaction says it took, never a computed estimate. */
export async function chargeFacts(stripe: Stripe, charge: Stripe.Charge): Promise<ChargeFacts> {
  const reference = charge.balance_transaction;
  if (!reference) throw new RetryLater(`charge ${charge.id} has no balance transaction yet`);
  const balance = typeof reference === 'string' ? await stripe.balanceTransactions.retrieve(reference) : reference;
  return {
    chargeId: charge.id,
    paymentIntentId: charge.payment_intent ? idOf(charge.payment_intent) : null,
    amountCents: charge.amount,
    feeCents: balance.fee,
    currency: charge.currency,
    receivedAt: new Date(charge.created * 1000),
  };
}

/**
 * Records a card payment once per charge (and payment intent); undefined when it was already
 * recorded. An invoice may be paid by several charges: each is its own payment, all naming the invoice.
 */
export async function recordCardPayment(
  trx: Transaction<Database>,
  pledgeId: number,
  facts: ChargeFacts,
  invoiceId: string | null,
  options: { locked?: boolean; pledge?: LockedPledge } = {},
): Promise<number | undefined> {
  // Lock the pledge first (unless the caller holds its lock, and maybe passes the row it read
  // with it): every path that records card money for it queues here.
  const pledge =
    options.pledge ?? (options.locked ? await trx.selectFrom('pledges').selectAll().where('id', '=', pledgeId).executeTakeFirst() : await lockPledge(trx, pledgeId));
  if (!pledge) return undefined;
  return (await recordCardPayments(trx, [{ pledge, facts }], invoiceId)).get(pledge.id);
}

/**
 * recordCardPayment for several pledges whose rows the caller holds locked and passes, each
 * pledge, charge and payment intent once: one statement finds the charges already recorded, and
 * the rest are recorded together (recordPayments). Returns the new payments' ids by pledge id (a
 * pledge whose charge was already recorded is absent).
 */
export async function recordCardPayments(trx: Transaction<Database>, items: { pledge: LockedPledge; facts: ChargeFacts }[], invoiceId: string | null): Promise<Map<number, number>> {
  if (items.length === 0) return new Map();
  const intents = items.flatMap((i) => (i.facts.paymentIntentId ? [i.facts.paymentIntentId] : []));
  const existing = await trx
    .selectFrom('payments')
    .select(['stripe_charge_id', 'stripe_payment_intent_id'])
    .where((eb) =>
      eb.or([
        eb(
          'stripe_charge_id',
          'in',
          items.map((i) => i.facts.chargeId),
        ),
        ...(intents.length > 0 ? [eb('stripe_payment_intent_id', 'in', intents)] : []),
      ]),
    )
    .execute();
  const known = new Set(existing.flatMap((r) => [r.stripe_charge_id, r.stripe_payment_intent_id]));
  const fresh = items.filter(({ facts }) => !known.has(facts.chargeId) && !(facts.paymentIntentId && known.has(facts.paymentIntentId)));
  const ids = await recordPayments(
    trx,
    fresh.map(({ pledge, facts }) => ({
      pledge,
      input: {
        pledgeId: pledge.id,
        amountCents: facts.amountCents,
        feeCents: facts.feeCents,
        method: 'card' as const,
        stripeChargeId: facts.chargeId,
        stripePaymentIntentId: facts.paymentIntentId,
        stripeInvoiceId: invoiceId,
        receivedAt: facts.receivedAt,
      },
    })),
  );
  return new Map(fresh.map((f, i) => [f.pledge.id, ids[i]!]));
}

/** Money Stripe holds is real: what was charged is recorded, and a difference from the pledge leaves a trail for staff. */
export async function flagAmountMismatch(
  trx: Transaction<Database>,
  pledgeId: number,
  charged: { amountCents: number; currency: string; chargeIds: string[]; statedCents: number | null },
  known?: { amount_cents: number; fee_cover_cents: number },
): Promise<void> {
  // What was promised never changes once money arrives: the caller's copy of the row will do.
  const pledge = known ?? (await trx.selectFrom('pledges').select(['amount_cents', 'fee_cover_cents']).where('id', '=', pledgeId).executeTakeFirstOrThrow());
  const expected = pledge.amount_cents + pledge.fee_cover_cents;
  if (charged.currency === 'cad' && charged.amountCents === expected && (charged.statedCents === null || charged.statedCents === charged.amountCents)) return;
  await writeAudit(trx, {
    actor: STRIPE_ACTOR,
    action: 'payment.amount_mismatch',
    subject: `pledge:${pledgeId}`,
    details: { expectedCents: expected, chargedCents: charged.amountCents, currency: charged.currency, chargeId: charged.chargeIds.join(',') },
  });
}

export async function lockPaymentByCharge(trx: Transaction<Database>, chargeId: string) {
  return trx.selectFrom('payments').selectAll().where('stripe_charge_id', '=', chargeId).forUpdate().executeTakeFirst();
}

export async function fundOfPayment(trx: Transaction<Database>, paymentId: number): Promise<FundRef> {
  const row = await trx
    .selectFrom('payments')
    .innerJoin('pledges', 'pledges.id', 'payments.pledge_id')
    .select(['pledges.group_id'])
    .where('payments.id', '=', paymentId)
    .executeTakeFirstOrThrow();
  return { groupId: row.group_id };
}

/**
 * A payment's status from the money: `disputed` while a dispute's funds are withdrawn (its
 * balance transactions net below zero), else refunded, partially refunded or succeeded by the
 * amount refunded; a voided payment keeps its status. Returns the status it has.
 */
export async function settlePaymentStatus(trx: Transaction<Database>, paymentId: number): Promise<PaymentStatus> {
  return (await settlePaymentStatuses(trx, [paymentId])).get(paymentId)!;
}

/** settlePaymentStatus for several payments in one statement; returns each one's status by id. */
export async function settlePaymentStatuses(trx: Transaction<Database>, paymentIds: number[]): Promise<Map<number, PaymentStatus>> {
  if (paymentIds.length === 0) return new Map();
  const withdrawn = sql<number>`coalesce((select -sum(bt.amount_cents) from stripe_dispute_balance_transactions bt where bt.payment_id = payments.id), 0)`;
  const rows = await trx
    .updateTable('payments')
    .set({
      status: sql<PaymentStatus>`case
        when ${withdrawn} > 0 then 'disputed'
        when refunded_cents = 0 then 'succeeded'
        when refunded_cents >= amount_cents then 'refunded'
        else 'partially_refunded' end`,
    })
    .where('id', 'in', paymentIds)
    // A payment recorded in error and reversed (voided): nothing more moves its status.
    .where('status', '<>', 'voided')
    .returning(['id', 'status'])
    .execute();
  const set = new Map(rows.map((r) => [r.id, r.status]));
  return new Map(paymentIds.map((id) => [id, set.get(id) ?? 'voided']));
}

/**
 * Per-gift donors get their official receipt at once (annual donors at year end). A donor with
 * no address on file waits in the receipts queue rather than failing the webhook.
 */
export async function receiptIfDue(trx: Transaction<Database>, ctx: { receipts: ReceiptSettings }, paymentId: number): Promise<void> {
  await issueReceiptIfDue(trx, ctx.receipts, paymentId);
}

/**
 * Receipts follow the money, both ways: after a refund or a lost dispute the receipt in force is
 * replaced by one for what remains; after a refund fails or a dispute's funds come back, the
 * replacement states the restored amount, or (when nothing remained, so no receipt was in force)
 * a new receipt is issued for the gift.
 */
export async function receiptsFollowMoney(trx: Transaction<Database>, ctx: { receipts: ReceiptSettings }, paymentId: number): Promise<void> {
  await receiptsFollowMoneyOf(trx, ctx, [paymentId]);
}

/**
 * receiptsFollowMoney for several payments: one statement finds which have a receipt in force
 * (each of those is revised on its own); the others are issued a receipt if one is due, together.
 */
export async function receiptsFollowMoneyOf(trx: Transaction<Database>, ctx: { receipts: ReceiptSettings }, paymentIds: number[]): Promise<void> {
  if (paymentIds.length === 0) return;
  const inForce = await trx.selectFrom('receipt_payments').select('payment_id').distinct().where('payment_id', 'in', paymentIds).where('in_force', '=', true).execute();
  const receipted = new Set(inForce.map((r) => r.payment_id));
  const notRevised = paymentIds.filter((id) => !receipted.has(id));
  for (const id of paymentIds.filter((p) => receipted.has(p))) {
    if (!(await reviseReceiptsAfterRefund(trx, id, ctx.receipts))) notRevised.push(id);
  }
  await issueReceiptsIfDue(trx, ctx.receipts, notRevised);
}
