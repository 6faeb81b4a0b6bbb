import { type ExpressionBuilder, sql, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import { dateIn } from '../calendar/charity-calendar';
import type { Database } from '../db/schema';
import { queueEmail } from '../notifications/outbox';
import { type ChargeFacts, chargeFactsOfCharge, chargeFactsOfPaymentIntent, flagAmountMismatch, receiptIfDue, recordCardPayment } from './card-payments';
import { queueGiftConfirmation } from './gift-emails';
import { monthlyCancelUrl } from './gift-links';
import { queueStripeCall } from './stripe-calls';
import { type EventEffect, HoldEvent, idOf, pledgeIdIn, RetryLater } from './stripe-event-context';

/**
 * Monthly gifts: a Stripe subscription bills one invoice a month (https://docs.stripe.com/api/invoices/object).
 * Since 2025-03-31.basil an invoice names its subscription in `parent.subscription_details` and
 * lists its payments through `GET /v1/invoice_payments`
 * (https://docs.stripe.com/changelog/basil/2025-03-31/adds-new-parent-field-to-invoicing-objects,
 * https://docs.stripe.com/changelog/basil/2025-03-31/add-support-for-multiple-partial-payments-on-invoices).
 * Each invoice is one instalment of the pledge.
 */
function subscriptionOf(invoice: Stripe.Invoice): { pledgeId: number | undefined; subscriptionId: string | null } {
  const details = invoice.parent?.subscription_details;
  return {
    pledgeId: pledgeIdIn(details?.metadata ?? invoice.metadata),
    subscriptionId: details?.subscription ? idOf(details.subscription) : null,
  };
}

/**
 * An invoice's money: every paid invoice payment (an invoice may be paid by several, each its own
 * charge), with the fee its balance transaction shows. One made outside Stripe (a
 * `payment_record`: paid out of band) brings no card money Haven can attribute: the event is held
 * for staff rather than retried forever or recorded as if Stripe held it.
 */
export const invoicePaid: EventEffect<'invoice.paid', ChargeFacts[]> = {
  async prepare(ctx, event) {
    const invoice = event.data.object;
    if (invoice.amount_paid <= 0 || !invoice.id || !subscriptionOf(invoice).pledgeId) return [];
    const payments = await ctx.stripe.invoicePayments.list({ invoice: invoice.id, status: 'paid', limit: 100 }).autoPagingToArray({ limit: 1_000 });
    if (payments.length === 0) throw new RetryLater(`invoice ${invoice.id} has no paid payment yet`);
    const facts: ChargeFacts[] = [];
    for (const payment of payments) {
      const { payment_intent: intent, charge } = payment.payment;
      if (intent) facts.push(await chargeFactsOfPaymentIntent(ctx.stripe, idOf(intent)));
      else if (charge) facts.push(await chargeFactsOfCharge(ctx.stripe, idOf(charge)));
      else {
        throw new HoldEvent(
          `Invoice ${invoice.id} was paid outside Stripe (invoice payment ${payment.id}, ${payment.payment.type}, no payment intent): ` +
            "Stripe holds no money for it, so Haven recorded nothing. Look into it in Stripe's Dashboard, then set this event aside.",
        );
      }
    }
    return facts;
  },
  async apply(trx, ctx, event, facts) {
    const invoice = event.data.object;
    const { pledgeId, subscriptionId } = subscriptionOf(invoice);
    if (!pledgeId || facts.length === 0 || !invoice.id) return;
    const pledge = await trx.selectFrom('pledges').select(['id', 'method', 'stripe_subscription_id']).where('id', '=', pledgeId).forUpdate().executeTakeFirst();
    if (!pledge || pledge.method !== 'card' || (subscriptionId && pledge.stripe_subscription_id && pledge.stripe_subscription_id !== subscriptionId)) {
      ctx.logger.warn({ invoiceId: invoice.id }, 'an invoice for a subscription Haven did not start for this pledge: ignored');
      return;
    }
    if (subscriptionId) await attachSubscription(trx, pledge.id, subscriptionId);
    const { earlier } = await trx.selectFrom('payments').select(sql<number>`count(*)::int`.as('earlier')).where('pledge_id', '=', pledge.id).executeTakeFirstOrThrow();
    const recorded: number[] = [];
    for (const f of facts) {
      const paymentId = await recordCardPayment(trx, pledge.id, f, invoice.id, { locked: true });
      if (paymentId) recorded.push(paymentId);
    }
    if (recorded.length === 0) return;
    const chargedCents = facts.reduce((sum, f) => sum + f.amountCents, 0);
    await flagAmountMismatch(trx, pledge.id, { amountCents: chargedCents, currency: facts[0]!.currency, chargeIds: facts.map((f) => f.chargeId), statedCents: invoice.amount_paid });
    for (const paymentId of recorded) await receiptIfDue(trx, ctx, paymentId);
    await markInstallment(trx, pledge.id, invoice, ctx.receipts.charityTimeZone, chargedCents, 'paid', recorded[0]!);
    await settleMonthlyPledge(trx, pledge.id);
    // The donor hears "gift received" once the first payment has succeeded, not when Checkout completed.
    if (earlier === 0) await queueGiftConfirmation(trx, ctx, pledge.id);
  },
};

/** A monthly pledge is fulfilled by its paid instalments (invoices), however many payments each took. */
async function settleMonthlyPledge(trx: Transaction<Database>, pledgeId: number): Promise<void> {
  const pledge = await trx.selectFrom('pledges').select(['status', 'installments']).where('id', '=', pledgeId).executeTakeFirstOrThrow();
  if (pledge.status === 'cancelled' || pledge.status === 'lapsed') return;
  const { paid } = await trx
    .selectFrom('pledge_installments')
    .select(sql<number>`count(*)::int`.as('paid'))
    .where('pledge_id', '=', pledgeId)
    .where('status', '=', 'paid')
    .executeTakeFirstOrThrow();
  const status = pledge.installments !== null && paid >= pledge.installments ? 'fulfilled' : 'active';
  if (status !== pledge.status) await trx.updateTable('pledges').set({ status, updated_at: new Date() }).where('id', '=', pledgeId).execute();
}

export const invoicePaymentFailed: EventEffect<'invoice.payment_failed'> = {
  async apply(trx, ctx, event) {
    const invoice = event.data.object;
    const { pledgeId } = subscriptionOf(invoice);
    if (!pledgeId || !invoice.id) return;
    const pledge = await trx.selectFrom('pledges').select(['id', 'method']).where('id', '=', pledgeId).forUpdate().executeTakeFirst();
    if (!pledge || pledge.method !== 'card') return;
    await markInstallment(trx, pledge.id, invoice, ctx.receipts.charityTimeZone, invoice.amount_due, 'failed', null);
    const donor = await trx.selectFrom('pledge_donors').select(['email', 'name', 'locale']).where('pledge_id', '=', pledge.id).executeTakeFirstOrThrow();
    await queueEmail(trx, {
      to: donor.email,
      template: 'giving/payment-failed',
      locale: donor.locale,
      data: { name: donor.name, amountCents: invoice.amount_due, cancelUrl: await monthlyCancelUrl(trx, ctx.publicUrl, pledge.id) },
    });
  },
};

/**
 * The subscription ended at Stripe (by itself at cancel_at, or cancelled by the donor, by staff
 * in Stripe's Dashboard, or by Stripe after failed payments): an open pledge is cancelled, and
 * every pledge it carried records when it ended.
 */
export const subscriptionDeleted: EventEffect<'customer.subscription.deleted'> = {
  async apply(trx, _ctx, event) {
    const subscription = event.data.object;
    const endedAt = new Date((subscription.ended_at ?? event.created) * 1000);
    const pledgeId = pledgeIdIn(subscription.metadata);
    // The pledge whose subscription this is, or (its Checkout not applied yet) the one its metadata names.
    const carried = (eb: ExpressionBuilder<Database, 'pledges'>) =>
      eb.or([eb('stripe_subscription_id', '=', subscription.id), ...(pledgeId ? [eb.and([eb('id', '=', pledgeId), eb('stripe_subscription_id', 'is', null)])] : [])]);
    await trx.updateTable('pledges').set({ status: 'cancelled', updated_at: new Date() }).where(carried).where('status', 'in', ['pending', 'active']).execute();
    await trx.updateTable('pledges').set({ ended_at: endedAt }).where(carried).where('ended_at', 'is', null).execute();
  },
};

/**
 * A pledge's subscription is known (from Checkout or its first invoice): a gift for N months
 * gets its end at Stripe queued (cancel_at, stripe-calls.ts), and one the donor has already
 * stopped gets the subscription's cancellation queued.
 */
export async function attachSubscription(trx: Transaction<Database>, pledgeId: number, subscriptionId: string): Promise<void> {
  const pledge = await trx.selectFrom('pledges').select(['id', 'status', 'frequency', 'installments', 'stripe_subscription_id']).where('id', '=', pledgeId).executeTakeFirstOrThrow();
  if (!pledge.stripe_subscription_id) await trx.updateTable('pledges').set({ stripe_subscription_id: subscriptionId }).where('id', '=', pledge.id).execute();
  if (pledge.frequency === 'monthly' && pledge.installments !== null) await queueStripeCall(trx, { kind: 'end_subscription_at_term', pledgeId: pledge.id, subscriptionId });
  if (pledge.status === 'cancelled') await queueStripeCall(trx, { kind: 'cancel_subscription', pledgeId: pledge.id, subscriptionId });
}

/**
 * Each Stripe invoice is one instalment row, paid or failed; a failed one that is later paid becomes paid.
 * Its due date is the charity's date of the invoice (CHARITY_TIME_ZONE), not the database's.
 */
async function markInstallment(
  trx: Transaction<Database>,
  pledgeId: number,
  invoice: Stripe.Invoice & { id: string },
  timeZone: string,
  amountCents: number,
  status: 'paid' | 'failed',
  paymentId: number | null,
): Promise<void> {
  const invoiceId = invoice.id;
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
    .values({ pledge_id: pledgeId, seq: next, due_on: dateIn(new Date(invoice.created * 1000), timeZone), amount_cents: amountCents, status, payment_id: paymentId, stripe_invoice_id: invoiceId })
    .execute();
}
