import { type ExpressionBuilder, sql, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema';
import { queueEmail } from '../notifications/outbox';
import { type ChargeFacts, chargeFactsOfPaymentIntent, flagAmountMismatch, receiptIfDue, recordCardPayment } from './card-payments';
import { queueStripeCall } from './stripe-calls';
import { type EventEffect, idOf, pledgeIdIn, RetryLater } from './stripe-event-context';

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

export const invoicePaid: EventEffect<'invoice.paid', ChargeFacts | undefined> = {
  async prepare(ctx, event) {
    const invoice = event.data.object;
    if (invoice.amount_paid <= 0 || !invoice.id) return undefined;
    const payments = await ctx.stripe.invoicePayments.list({ invoice: invoice.id, status: 'paid', limit: 1 });
    const intent = payments.data[0]?.payment.payment_intent;
    if (!intent) throw new RetryLater(`invoice ${invoice.id} has no paid payment yet`);
    return chargeFactsOfPaymentIntent(ctx.stripe, idOf(intent));
  },
  async apply(trx, ctx, event, facts) {
    const invoice = event.data.object;
    const { pledgeId, subscriptionId } = subscriptionOf(invoice);
    if (!pledgeId || !facts || !invoice.id) return;
    const pledge = await trx.selectFrom('pledges').selectAll().where('id', '=', pledgeId).forUpdate().executeTakeFirst();
    if (!pledge) return;
    if (subscriptionId) await attachSubscription(trx, pledge.id, subscriptionId);
    const paymentId = await recordCardPayment(trx, pledge.id, facts, invoice.id, { locked: true });
    if (!paymentId) return;
    await flagAmountMismatch(trx, pledge.id, { amountCents: facts.amountCents, currency: facts.currency, chargeIds: [facts.chargeId], statedCents: invoice.amount_paid });
    await receiptIfDue(trx, ctx, paymentId);
    await markInstallment(trx, pledge.id, invoice.id, facts.amountCents, 'paid', paymentId);
  },
};

export const invoicePaymentFailed: EventEffect<'invoice.payment_failed'> = {
  async apply(trx, ctx, event) {
    const invoice = event.data.object;
    const { pledgeId } = subscriptionOf(invoice);
    if (!pledgeId || !invoice.id) return;
    const pledge = await trx.selectFrom('pledges').select(['id', 'donor_id']).where('id', '=', pledgeId).forUpdate().executeTakeFirst();
    if (!pledge) return;
    await markInstallment(trx, pledge.id, invoice.id, invoice.amount_due, 'failed', null);
    const donor = await trx.selectFrom('donors').select(['email', 'name', 'locale']).where('id', '=', pledge.donor_id).executeTakeFirstOrThrow();
    await queueEmail(trx, {
      to: donor.email,
      template: 'donations/payment-failed',
      locale: donor.locale,
      data: { name: donor.name, amountCents: invoice.amount_due, cancelUrl: `${ctx.publicUrl}/give/monthly/${pledge.id}/cancel?t=${ctx.links.sign('cancel', pledge.id)}` },
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
