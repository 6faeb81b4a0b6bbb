import { accounts } from '../../server/ledger/accounts';
import { balanceOf } from '../../server/ledger/ledger';
import { createGivingTest, deliverAll, type GivingTest, ledgerImbalance, paidCardGift, receiptsOfPayment, totals } from '../support/giving';

/**
 * Refunds as Stripe reports them (https://docs.stripe.com/api/refunds/object): a refund debits
 * the balance when made (charge.refunded), and can still fail later (a closed card): its status
 * becomes `failed`, a `failure_balance_transaction` credits the amount back, the charge's
 * `amount_refunded` goes back down, and Stripe sends refund.failed, refund.updated and
 * charge.refund.updated. The books and the donor's receipt must follow, in any order of events.
 */
let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest();
});
afterAll(() => t.destroyAll());

/** The refund the stand-in made last for a charge. */
function lastRefundOf(chargeId: string): string {
  const refunds = [...t.stand.objects.values()].filter((o) => o.object === 'refund' && o.charge === chargeId);
  return refunds[refunds.length - 1]!.id as string;
}

async function paymentRow(paymentId: number) {
  return t.db.selectFrom('payments').select(['status', 'refunded_cents']).where('id', '=', paymentId).executeTakeFirstOrThrow();
}

async function money() {
  return { raised: (await totals(t.db)).raisedCents, stripe: await balanceOf(t.db, accounts.stripe) };
}

test('a partial refund that fails restores the total, the Stripe balance and the receipt', async () => {
  const gift = await paidCardGift(t, 100);
  const before = await money();
  await deliverAll(t.app, t.stand, [t.stand.refundCharge(gift.chargeId, 3_000)]);
  expect(await money()).toEqual({ raised: before.raised - 3_000, stripe: before.stripe - 3_000 });
  expect(await receiptsOfPayment(t.db, gift.paymentId)).toEqual([{ status: 'cancelled', amount_cents: 10_000 }, { status: 'issued', amount_cents: 7_000 }]);

  const failed = t.stand.failRefund(lastRefundOf(gift.chargeId));
  await deliverAll(t.app, t.stand, [...failed, ...failed]);
  expect(await money()).toEqual(before);
  expect(await paymentRow(gift.paymentId)).toEqual({ status: 'succeeded', refunded_cents: 0 });
  expect(await receiptsOfPayment(t.db, gift.paymentId)).toEqual([
    { status: 'cancelled', amount_cents: 10_000 },
    { status: 'cancelled', amount_cents: 7_000 },
    { status: 'issued', amount_cents: 10_000 },
  ]);
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('a full refund that fails: the gift counts again and is receipted again', async () => {
  const gift = await paidCardGift(t, 45);
  const before = await money();
  await deliverAll(t.app, t.stand, [t.stand.refundCharge(gift.chargeId)]);
  expect(await paymentRow(gift.paymentId)).toEqual({ status: 'refunded', refunded_cents: 4_500 });
  expect(await receiptsOfPayment(t.db, gift.paymentId)).toEqual([{ status: 'cancelled', amount_cents: 4_500 }]);

  // Only refund.failed reaches Haven (the other two could be lost or late): enough.
  const [refundFailed] = t.stand.failRefund(lastRefundOf(gift.chargeId));
  await deliverAll(t.app, t.stand, [refundFailed!]);
  expect(await money()).toEqual(before);
  expect(await paymentRow(gift.paymentId)).toEqual({ status: 'succeeded', refunded_cents: 0 });
  expect(await receiptsOfPayment(t.db, gift.paymentId)).toEqual([{ status: 'cancelled', amount_cents: 4_500 }, { status: 'issued', amount_cents: 4_500 }]);
});

test('two refunds, the first failing, with the events newest first and a stale charge.refunded last: only the second counts', async () => {
  const gift = await paidCardGift(t, 80);
  const before = await money();
  const first = t.stand.refundCharge(gift.chargeId, 2_000); // amount_refunded 20.00
  const firstRefund = lastRefundOf(gift.chargeId);
  const second = t.stand.refundCharge(gift.chargeId, 3_000); // amount_refunded 50.00
  const failed = t.stand.failRefund(firstRefund); // amount_refunded back to 30.00
  await deliverAll(t.app, t.stand, [...failed.reverse(), second, first]);
  expect(await money()).toEqual({ raised: before.raised - 3_000, stripe: before.stripe - 3_000 });
  expect(await paymentRow(gift.paymentId)).toEqual({ status: 'partially_refunded', refunded_cents: 3_000 });
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});
