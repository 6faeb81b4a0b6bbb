import { sql, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import { writeAudit } from '../audit/audit';
import type { Config } from '../config';
import type { Db } from '../db/database';
import type { Database, PledgeStatus } from '../db/schema';
import { DomainError } from '../domain-error';
import { recordPayment } from '../donations/payments';
import type { Logger } from '../logger';
import { accounts } from '../ledger/accounts';
import { postTransaction } from '../ledger/ledger';
import { queueEmail } from '../notifications/outbox';
import { issueReceiptIfDue, type ReceiptSettings, reviseReceiptsAfterRefund } from '../receipts/issuing';
import { queueGiftConfirmation } from './gift-emails';
import { monthlyCancelUrl } from './gift-links';
import { applyPayoutEvent } from './stripe-payouts';
import { createStripe } from './stripe-client';

/**
 * The effects of Stripe webhook events (DESIGN §5, STYLE §5). The endpoint has verified and
 * stored the event (webhook-routes.ts); the queue (stripe-event-queue.ts) leases it and calls
 * applyStripeEvent. Facts that need Stripe's API (the fee, from the charge's balance transaction)
 * are fetched first, outside any transaction; then ONE transaction locks the event's row, skips it
 * if another pass already applied it, applies its effect and marks it processed. Effects are keyed
 * by Stripe object ids with unique indexes, so duplicate or reordered events, or two events about
 * one charge, record money once.
 */
export type WebhookContext = {
  db: Db;
  stripe: Stripe;
  publicUrl: string;
  logger: Logger;
  /** For official receipts: issued per gift when due, revised after refunds and lost disputes. */
  receipts: ReceiptSettings;
};

/** What the effects need, built from the app's config; undefined when card giving is off. */
export function webhookContext(deps: { config: Config; db: Db; logger: Logger }): WebhookContext | undefined {
  const stripe = createStripe(deps.config.stripe);
  if (!stripe) return undefined;
  return { db: deps.db, stripe, publicUrl: deps.config.publicUrl, logger: deps.logger, receipts: deps.config };
}

/** The effect cannot be applied yet (e.g. a dispute on a payment Stripe has not told us about): the queue tries again later. */
export class RetryLater extends Error {
  override name = 'RetryLater';
}

export type ChargeFacts = {
  chargeId: string;
  paymentIntentId: string | null;
  amountCents: number;
  feeCents: number;
  currency: string;
  receivedAt: Date;
};

type AfterCommit = () => Promise<void>;
const STRIPE_ACTOR = { userId: null, label: 'stripe' } as const;

/**
 * Applies one stored event: 'applied', or 'already_processed' when another pass (another
 * process, or this one after a lease expired) got there first. Throws RetryLater when a
 * precondition is missing, or whatever went wrong; the caller reschedules the event.
 */
export async function applyStripeEvent(ctx: WebhookContext, event: Stripe.Event): Promise<'applied' | 'already_processed'> {
  const facts = await prepareFacts(ctx, event);
  let afterCommit: AfterCommit[] = [];
  let outcome: 'applied' | 'already_processed' | undefined;
  // Two events about one object at once (a refund racing its gift) serialize on the pledge
  // row; a deadlock or a lost race on a unique index is retried here at once.
  for (let attempt = 1; outcome === undefined; attempt++) {
    afterCommit = [];
    const pending = afterCommit;
    try {
      outcome = await ctx.db.transaction().execute(async (trx) => {
        // One statement locks the event's row and marks it processed, unless a pass already did;
        // if the effect then fails, the rollback undoes the mark with everything else.
        const claimed = await trx
          .updateTable('stripe_events')
          .set({ processed_at: sql<Date>`now()`, last_error: null })
          .where('id', '=', event.id)
          .where('processed_at', 'is', null)
          .returning('id')
          .executeTakeFirst();
        if (!claimed) return 'already_processed' as const;
        await applyEvent(trx, ctx, event, facts, pending);
        return 'applied' as const;
      });
    } catch (error) {
      if (attempt >= 3 || !isRetryable(error)) throw error;
    }
  }
  if (outcome === 'applied') {
    for (const action of afterCommit) {
      await action().catch((error: unknown) => ctx.logger.error({ err: error, eventId: event.id }, 'a follow-up call to Stripe failed'));
    }
  }
  return outcome;
}

/** Deadlock, serialization failure, or a unique index that another delivery filled first. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '40P01' || code === '40001' || code === '23505';
}

/** API look-ups an event's effect needs, made before the transaction so no lock is held across the network. */
async function prepareFacts(ctx: WebhookContext, event: Stripe.Event): Promise<ChargeFacts | undefined> {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      const session = event.data.object;
      if (session.mode !== 'payment' || session.payment_status !== 'paid' || !session.payment_intent) return undefined;
      return chargeFactsOfPaymentIntent(ctx.stripe, idOf(session.payment_intent));
    }
    case 'invoice.paid': {
      const invoice = event.data.object;
      if (invoice.amount_paid <= 0 || !invoice.id) return undefined;
      const payments = await ctx.stripe.invoicePayments.list({ invoice: invoice.id, status: 'paid', limit: 1 });
      const intent = payments.data[0]?.payment.payment_intent;
      if (!intent) throw new RetryLater(`invoice ${invoice.id} has no paid payment yet`);
      return chargeFactsOfPaymentIntent(ctx.stripe, idOf(intent));
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      const known = await ctx.db.selectFrom('payments').select('id').where('stripe_charge_id', '=', charge.id).executeTakeFirst();
      // A refund reported before the payment itself: record the payment from the charge first.
      return known || !pledgeIdIn(charge.metadata) ? undefined : chargeFacts(ctx.stripe, charge);
    }
    default:
      return undefined;
  }
}

async function chargeFactsOfPaymentIntent(stripe: Stripe, paymentIntentId: string): Promise<ChargeFacts> {
  const intent = await stripe.paymentIntents.retrieve(paymentIntentId, { expand: ['latest_charge.balance_transaction'] });
  const charge = intent.latest_charge;
  if (!charge || typeof charge === 'string') throw new RetryLater(`payment intent ${paymentIntentId} has no charge yet`);
  return chargeFacts(stripe, charge);
}

/** The fee is what Stripe's balance transaction says it took, never a computed estimate. */
async function chargeFacts(stripe: Stripe, charge: Stripe.Charge): Promise<ChargeFacts> {
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

async function applyEvent(
  trx: Transaction<Database>,
  ctx: WebhookContext,
  event: Stripe.Event,
  facts: ChargeFacts | undefined,
  afterCommit: AfterCommit[],
): Promise<void> {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return onCheckoutCompleted(trx, ctx, event.data.object, facts, afterCommit);
    case 'checkout.session.async_payment_failed':
    case 'checkout.session.expired':
      return onCheckoutFailed(trx, event.data.object);
    case 'invoice.paid':
      return onInvoicePaid(trx, ctx, event.data.object, facts, afterCommit);
    case 'invoice.payment_failed':
      return onInvoiceFailed(trx, ctx, event.data.object);
    case 'customer.subscription.deleted':
      return onSubscriptionDeleted(trx, event.data.object);
    case 'charge.refunded':
      return onChargeRefunded(trx, ctx, event.data.object, facts);
    case 'payout.paid': case 'payout.failed': return applyPayoutEvent(trx, event);
    case 'charge.dispute.created':
      return onDisputeOpened(trx, event.data.object);
    case 'charge.dispute.closed':
      return onDisputeClosed(trx, ctx, event.data.object);
    default:
      return; // stored and acknowledged
  }
}

async function onCheckoutCompleted(
  trx: Transaction<Database>,
  ctx: WebhookContext,
  session: Stripe.Checkout.Session,
  facts: ChargeFacts | undefined,
  afterCommit: AfterCommit[],
): Promise<void> {
  const pledgeId = pledgeIdIn(session.metadata) ?? Number(session.client_reference_id);
  // One statement: the update takes the pledge's row lock that every card-money path queues on.
  const pledge = await trx
    .updateTable('pledges')
    .set({
      stripe_checkout_session_id: session.id,
      stripe_customer_id: session.customer ? idOf(session.customer) : sql<string | null>`stripe_customer_id`,
      stripe_subscription_id: session.subscription ? idOf(session.subscription) : sql<string | null>`stripe_subscription_id`,
      status: sql<PledgeStatus>`case when status = 'pending' then 'active' else status end`,
      updated_at: new Date(),
    })
    .where('id', '=', Number.isSafeInteger(pledgeId) ? pledgeId : -1)
    .returning('id')
    .executeTakeFirst();
  if (!pledge) {
    ctx.logger.warn({ sessionId: session.id }, 'checkout session for an unknown pledge');
    return;
  }

  if (session.mode === 'subscription') {
    await queueGiftConfirmation(trx, ctx, pledge.id);
    await endIfComplete(trx, ctx, pledge.id, afterCommit);
    return;
  }
  if (session.payment_status !== 'paid' || !facts) return; // async methods: wait for async_payment_succeeded
  const recorded = await recordCardPayment(trx, pledge.id, facts, null, session.amount_total, { locked: true });
  if (!recorded) return;
  await queueGiftConfirmation(trx, ctx, pledge.id);
  await receiptIfDue(trx, ctx, recorded);
}

/** The donor's bank refused a delayed payment, or the donor never paid (the session expired): the pledge lapses. */
async function onCheckoutFailed(trx: Transaction<Database>, session: Stripe.Checkout.Session): Promise<void> {
  const pledgeId = pledgeIdIn(session.metadata);
  if (!pledgeId) return;
  // Only a pledge with no money recorded: an expiry or failure reported late never undoes a payment.
  await trx
    .updateTable('pledges')
    .set({ status: 'lapsed', updated_at: new Date() })
    .where('id', '=', pledgeId)
    .where('status', 'in', ['pending', 'active'])
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('payments').select('payments.id').where('payments.pledge_id', '=', pledgeId))))
    .execute();
}

/** Records a card payment once per charge (and per invoice); undefined when it was already recorded. */
export async function recordCardPayment(
  trx: Transaction<Database>,
  pledgeId: number,
  facts: ChargeFacts,
  invoiceId: string | null,
  statedAmountCents: number | null,
  options: { locked?: boolean } = {},
): Promise<number | undefined> {
  // Lock the pledge first (unless the caller holds its lock): every path that records card money for it queues here.
  let query = trx.selectFrom('pledges').select(['amount_cents', 'fee_cover_cents']).where('id', '=', pledgeId);
  if (!options.locked) query = query.forUpdate();
  const pledge = await query.executeTakeFirst();
  if (!pledge) return undefined;
  const existing = await trx
    .selectFrom('payments')
    .select('id')
    .where((eb) =>
      eb.or([
        eb('stripe_charge_id', '=', facts.chargeId),
        ...(facts.paymentIntentId ? [eb('stripe_payment_intent_id', '=', facts.paymentIntentId)] : []),
        ...(invoiceId ? [eb('stripe_invoice_id', '=', invoiceId)] : []),
      ]),
    )
    .executeTakeFirst();
  if (existing) return undefined;

  const expected = pledge.amount_cents + pledge.fee_cover_cents;
  if (facts.currency !== 'cad' || facts.amountCents !== expected || (statedAmountCents !== null && statedAmountCents !== facts.amountCents)) {
    // Money Stripe holds is real: record what was charged, and leave a trail for staff to look into.
    await writeAudit(trx, {
      actor: STRIPE_ACTOR,
      action: 'payment.amount_mismatch',
      subject: `pledge:${pledgeId}`,
      details: { expectedCents: expected, chargedCents: facts.amountCents, currency: facts.currency, chargeId: facts.chargeId },
    });
  }
  return recordPayment(trx, {
    pledgeId,
    amountCents: facts.amountCents,
    feeCents: facts.feeCents,
    method: 'card',
    stripeChargeId: facts.chargeId,
    stripePaymentIntentId: facts.paymentIntentId,
    stripeInvoiceId: invoiceId,
    receivedAt: facts.receivedAt,
  });
}

function subscriptionOf(invoice: Stripe.Invoice): { pledgeId: number | undefined; subscriptionId: string | null } {
  const details = invoice.parent?.subscription_details;
  return {
    pledgeId: pledgeIdIn(details?.metadata ?? invoice.metadata),
    subscriptionId: details?.subscription ? idOf(details.subscription) : null,
  };
}

async function onInvoicePaid(
  trx: Transaction<Database>,
  ctx: WebhookContext,
  invoice: Stripe.Invoice,
  facts: ChargeFacts | undefined,
  afterCommit: AfterCommit[],
): Promise<void> {
  const { pledgeId, subscriptionId } = subscriptionOf(invoice);
  if (!pledgeId || !facts || !invoice.id) return;
  const pledge = await trx.selectFrom('pledges').selectAll().where('id', '=', pledgeId).forUpdate().executeTakeFirst();
  if (!pledge) return;
  if (subscriptionId && !pledge.stripe_subscription_id) {
    await trx.updateTable('pledges').set({ stripe_subscription_id: subscriptionId }).where('id', '=', pledge.id).execute();
  }
  const paymentId = await recordCardPayment(trx, pledge.id, facts, invoice.id, invoice.amount_paid, { locked: true });
  if (!paymentId) return;
  await receiptIfDue(trx, ctx, paymentId);
  await markInstallment(trx, pledge.id, invoice.id, facts.amountCents, 'paid', paymentId);
  await endIfComplete(trx, ctx, pledge.id, afterCommit);
}

/** Each Stripe invoice is one instalment row, paid or failed; a failed one that is later paid becomes paid. */
async function markInstallment(
  trx: Transaction<Database>,
  pledgeId: number,
  invoiceId: string,
  amountCents: number,
  status: 'paid' | 'failed',
  paymentId: number | null,
): Promise<void> {
  const row = await trx.selectFrom('pledge_installments').select(['id', 'status']).where('stripe_invoice_id', '=', invoiceId).executeTakeFirst();
  if (row) {
    if (row.status !== 'paid') await trx.updateTable('pledge_installments').set({ status, payment_id: paymentId }).where('id', '=', row.id).execute();
    return;
  }
  const { next } = await trx
    .selectFrom('pledge_installments')
    .select(sql<number>`coalesce(max(seq), 0)::int + 1`.as('next'))
    .where('pledge_id', '=', pledgeId)
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('pledge_installments')
    .values({ pledge_id: pledgeId, seq: next, due_on: sql<string>`current_date` as never, amount_cents: amountCents, status, payment_id: paymentId, stripe_invoice_id: invoiceId })
    .execute();
}

/**
 * Per-gift donors get their official receipt at once (annual donors at year end). A donor with
 * no address on file waits in the receipts queue rather than failing the webhook.
 */
export async function receiptIfDue(trx: Transaction<Database>, ctx: { receipts: ReceiptSettings }, paymentId: number): Promise<void> {
  await issueReceiptIfDue(trx, ctx.receipts, paymentId);
}

/** A monthly pledge for N months ends itself after its Nth payment: its subscription is cancelled after commit. */
async function endIfComplete(trx: Transaction<Database>, ctx: WebhookContext, pledgeId: number, afterCommit: AfterCommit[]): Promise<void> {
  const pledge = await trx
    .selectFrom('pledges')
    .select(['id', 'status', 'frequency', 'stripe_subscription_id', 'ended_at'])
    .where('id', '=', pledgeId)
    .executeTakeFirstOrThrow();
  if (pledge.frequency !== 'monthly' || pledge.status !== 'fulfilled' || !pledge.stripe_subscription_id || pledge.ended_at) return;
  await trx.updateTable('pledges').set({ ended_at: new Date() }).where('id', '=', pledge.id).execute();
  const subscriptionId = pledge.stripe_subscription_id;
  afterCommit.push(async () => {
    await ctx.stripe.subscriptions.cancel(subscriptionId, {}, { idempotencyKey: `pledge-${pledgeId}-subscription-end` });
  });
}

async function onInvoiceFailed(trx: Transaction<Database>, ctx: WebhookContext, invoice: Stripe.Invoice): Promise<void> {
  const { pledgeId } = subscriptionOf(invoice);
  if (!pledgeId || !invoice.id) return;
  const pledge = await trx.selectFrom('pledges').select(['id', 'donor_id']).where('id', '=', pledgeId).forUpdate().executeTakeFirst();
  if (!pledge) return;
  await markInstallment(trx, pledge.id, invoice.id, invoice.amount_due, 'failed', null);
  const donor = await trx.selectFrom('pledge_donors').select(['email', 'name', 'locale']).where('pledge_id', '=', pledge.id).executeTakeFirstOrThrow();
  await queueEmail(trx, {
    to: donor.email,
    template: 'donations/payment-failed',
    locale: donor.locale,
    data: { name: donor.name, amountCents: invoice.amount_due, cancelUrl: await monthlyCancelUrl(trx, ctx.publicUrl, pledge.id) },
  });
}

async function onSubscriptionDeleted(trx: Transaction<Database>, subscription: Stripe.Subscription): Promise<void> {
  const pledgeId = pledgeIdIn(subscription.metadata);
  let query = trx.updateTable('pledges').set({ status: 'cancelled', ended_at: new Date(), updated_at: new Date() }).where('status', 'in', ['pending', 'active']);
  query = pledgeId ? query.where('id', '=', pledgeId) : query.where('stripe_subscription_id', '=', subscription.id);
  await query.execute();
}

async function fundOfPayment(trx: Transaction<Database>, paymentId: number) {
  const row = await trx
    .selectFrom('payments')
    .innerJoin('pledges', 'pledges.id', 'payments.pledge_id')
    .select(['pledges.group_id'])
    .where('payments.id', '=', paymentId)
    .executeTakeFirstOrThrow();
  return { groupId: row.group_id };
}

async function lockPaymentByCharge(trx: Transaction<Database>, chargeId: string) {
  return trx.selectFrom('payments').selectAll().where('stripe_charge_id', '=', chargeId).forUpdate().executeTakeFirst();
}

/**
 * charge.refunded carries the charge's cumulative amount_refunded: the ledger records only the
 * part not yet recorded, so partial refunds in any order, and repeats, add up exactly.
 */
async function onChargeRefunded(trx: Transaction<Database>, ctx: WebhookContext, charge: Stripe.Charge, facts: ChargeFacts | undefined): Promise<void> {
  let payment = await lockPaymentByCharge(trx, charge.id);
  if (!payment) {
    const pledgeId = pledgeIdIn(charge.metadata);
    if (!pledgeId || !facts) throw new RetryLater(`refund for charge ${charge.id}, whose payment is not recorded yet`);
    await recordCardPayment(trx, pledgeId, facts, null, null);
    payment = await lockPaymentByCharge(trx, charge.id);
    if (!payment) throw new RetryLater(`charge ${charge.id} could not be recorded`);
  }
  const refundedCents = Math.min(charge.amount_refunded, payment.amount_cents);
  const delta = refundedCents - payment.refunded_cents;
  if (delta <= 0) return;
  const fund = await fundOfPayment(trx, payment.id);
  await postTransaction(trx, {
    kind: 'gift_refunded',
    description: `Refund of card payment ${payment.id}`,
    paymentId: payment.id,
    entries: [
      { account: accounts.stripe, amountCents: -delta },
      { account: accounts.fund(fund), amountCents: delta },
    ],
  });
  await trx
    .updateTable('payments')
    .set({
      refunded_cents: refundedCents,
      status: payment.status === 'disputed' ? 'disputed' : refundedCents === payment.amount_cents ? 'refunded' : 'partially_refunded',
    })
    .where('id', '=', payment.id)
    .execute();
  await reviseReceiptsAfterRefund(trx, payment.id, ctx.receipts);
}

/** The disputed amount leaves the fund and Stripe's balance, with Stripe's dispute fee, once per dispute id. */
async function onDisputeOpened(trx: Transaction<Database>, dispute: Stripe.Dispute): Promise<void> {
  const payment = await lockPaymentByCharge(trx, idOf(dispute.charge));
  if (!payment) throw new RetryLater(`dispute ${dispute.id} on charge whose payment is not recorded yet`);
  const feeCents = (dispute.balance_transactions ?? []).reduce((sum, bt) => sum + (bt.amount < 0 ? bt.fee : 0), 0);
  const inserted = await trx
    .insertInto('stripe_disputes')
    .values({ id: dispute.id, payment_id: payment.id, amount_cents: dispute.amount, fee_cents: feeCents, status: dispute.status })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return;
  const fund = await fundOfPayment(trx, payment.id);
  await postTransaction(trx, {
    kind: 'gift_disputed',
    description: `Dispute ${dispute.id} on card payment ${payment.id}`,
    paymentId: payment.id,
    entries: [
      // Same account order as a gift's posting, so concurrent postings lock balance rows in one order.
      { account: accounts.stripe, amountCents: -(dispute.amount + feeCents) },
      { account: accounts.fees(fund), amountCents: feeCents },
      { account: accounts.fund(fund), amountCents: dispute.amount },
    ],
  });
  await trx.updateTable('payments').set({ status: 'disputed' }).where('id', '=', payment.id).execute();
}

/** A dispute won returns the disputed amount to the fund (once); a lost one only changes its status. */
async function onDisputeClosed(trx: Transaction<Database>, ctx: WebhookContext, dispute: Stripe.Dispute): Promise<void> {
  await onDisputeOpened(trx, dispute); // closed delivered before created: apply the opening first
  const row = await trx.selectFrom('stripe_disputes').selectAll().where('id', '=', dispute.id).forUpdate().executeTakeFirstOrThrow();
  await trx.updateTable('stripe_disputes').set({ status: dispute.status, closed_at: new Date() }).where('id', '=', row.id).execute();
  // A lost dispute is money the charity no longer holds: its receipt is revised.
  if (dispute.status === 'lost') await reviseReceiptsAfterRefund(trx, row.payment_id, ctx.receipts);
  if (dispute.status !== 'won' || row.reversed) return;
  const fund = await fundOfPayment(trx, row.payment_id);
  await postTransaction(trx, {
    kind: 'dispute_won',
    description: `Dispute ${dispute.id} won`,
    paymentId: row.payment_id,
    entries: [
      { account: accounts.stripe, amountCents: row.amount_cents },
      { account: accounts.fund(fund), amountCents: -row.amount_cents },
    ],
  });
  await trx.updateTable('stripe_disputes').set({ reversed: true }).where('id', '=', row.id).execute();
  const payment = await trx.selectFrom('payments').select(['refunded_cents', 'amount_cents']).where('id', '=', row.payment_id).executeTakeFirstOrThrow();
  await trx
    .updateTable('payments')
    .set({ status: payment.refunded_cents === 0 ? 'succeeded' : payment.refunded_cents === payment.amount_cents ? 'refunded' : 'partially_refunded' })
    .where('id', '=', row.payment_id)
    .execute();
}

function idOf(value: string | { id: string }): string {
  return typeof value === 'string' ? value : value.id;
}

function pledgeIdIn(metadata: Stripe.Metadata | null | undefined): number | undefined {
  const raw = metadata?.pledge_id;
  return raw && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
}

/** The event, if the signature on the raw body is Stripe's (default tolerance, 300 s); else a 400. */
export function verifyStripeEvent(stripe: Stripe, rawBody: Buffer, signature: string | undefined, secret: string): Stripe.Event {
  try {
    return stripe.webhooks.constructEvent(rawBody, signature ?? '', secret);
  } catch {
    throw new DomainError('invalid', 'The webhook signature is missing, wrong or too old.');
  }
}
