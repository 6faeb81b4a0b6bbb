import type { Db } from '../../server/db/database';
import { accounts } from '../../server/ledger/accounts';
import { postTransaction } from '../../server/ledger/ledger';
import type { ReceiptSettings } from '../../server/receipts/issuing';
import { reviseReceiptsAfterRefund } from '../../server/receipts/replacing';

/**
 * Records a refund the way the giving branch's charge.refunded handler will: the payment's
 * refunded_cents and status, and a reversing ledger transaction (stripe −R, fund +R), then
 * revises the payment's receipt in the same transaction (the call the lead adds at merge).
 * Replace with the giving module's own function once it is merged.
 */
export async function recordRefundAsGivingWill(db: Db, settings: ReceiptSettings, paymentId: number, refundCents: number, options: { dispute?: boolean } = {}) {
  return db.transaction().execute(async (trx) => {
    const payment = await trx
      .selectFrom('payments as p')
      .innerJoin('pledges as pl', 'pl.id', 'p.pledge_id')
      .select(['p.id', 'p.amount_cents', 'p.refunded_cents', 'p.method', 'pl.group_id'])
      .where('p.id', '=', paymentId)
      .forUpdate('p')
      .executeTakeFirstOrThrow();
    const refunded = payment.refunded_cents + refundCents;
    await trx
      .updateTable('payments')
      .set({ refunded_cents: refunded, status: options.dispute ? 'disputed' : refunded >= payment.amount_cents ? 'refunded' : 'partially_refunded' })
      .where('id', '=', paymentId)
      .execute();
    await postTransaction(trx, {
      kind: options.dispute ? 'dispute_lost' : 'gift_refunded',
      description: `Refund of payment ${paymentId}`,
      paymentId,
      entries: [
        { account: payment.method === 'card' ? accounts.stripe : accounts.bank, amountCents: -refundCents },
        { account: accounts.fund({ groupId: payment.group_id }), amountCents: refundCents },
      ],
    });
    return reviseReceiptsAfterRefund(trx, paymentId, settings);
  });
}
