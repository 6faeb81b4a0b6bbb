import { accounts } from '../ledger/accounts';
import { postTransaction } from '../ledger/ledger';
import { type ChargeFacts, chargeFacts, fundOfPayment, lockPaymentByCharge, receiptsFollowMoney, recordCardPayment, settlePaymentStatus } from './card-payments';
import { type EventEffect, pledgeIdIn, RetryLater } from './stripe-event-context';

/**
 * charge.refunded carries the charge's cumulative amount_refunded: the ledger records only the
 * part not yet recorded, so partial refunds in any order, and repeats, add up exactly.
 */
export const chargeRefunded: EventEffect<'charge.refunded', ChargeFacts | undefined> = {
  async prepare(ctx, event) {
    const charge = event.data.object;
    const known = await ctx.db.selectFrom('payments').select('id').where('stripe_charge_id', '=', charge.id).executeTakeFirst();
    // A refund reported before the payment itself: record the payment from the charge first.
    return known || !pledgeIdIn(charge.metadata) ? undefined : chargeFacts(ctx.stripe, charge);
  },
  async apply(trx, ctx, event, facts) {
    const charge = event.data.object;
    let payment = await lockPaymentByCharge(trx, charge.id);
    if (!payment) {
      const pledgeId = pledgeIdIn(charge.metadata);
      if (!pledgeId || !facts) throw new RetryLater(`refund for charge ${charge.id}, whose payment is not recorded yet`);
      await recordCardPayment(trx, pledgeId, facts, null);
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
    await trx.updateTable('payments').set({ refunded_cents: refundedCents }).where('id', '=', payment.id).execute();
    await settlePaymentStatus(trx, payment.id);
    await receiptsFollowMoney(trx, ctx, payment.id);
  },
};
