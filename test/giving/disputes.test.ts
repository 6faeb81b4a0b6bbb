import { accounts } from '../../server/ledger/accounts';
import { balanceOf } from '../../server/ledger/ledger';
import { requestRefund } from '../../server/giving/staff';
import { createStripe } from '../../server/giving/stripe-client';
import { createGivingTest, deliverAll, type GivingTest, ledgerImbalance, paidCardGift, receiptsOfPayment, totals } from '../support/giving';
import { DISPUTE_FEE_CENTS } from '../support/stripe-stand-in';

/**
 * Disputes as Stripe runs them (https://docs.stripe.com/disputes/how-disputes-work and the
 * Dispute object's `balance_transactions`, https://docs.stripe.com/api/disputes/object):
 * an inquiry (status warning_*) withdraws nothing and warning_closed restores nothing; a
 * chargeback withdraws the amount and the dispute fee (charge.dispute.funds_withdrawn) and, when
 * won, reinstates the amount, with the fee when Stripe returns it (charge.dispute.funds_reinstated).
 * Haven's ledger must move exactly what those balance transactions move, and receipts follow.
 */
let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest();
});
afterAll(() => t.destroyAll());

const actor = { userId: null, label: 'staff@example.org' };

async function paymentStatus(paymentId: number) {
  return (await t.db.selectFrom('payments').select('status').where('id', '=', paymentId).executeTakeFirstOrThrow()).status;
}

/** What a test compares before and after: the campaign total, Stripe's balance and the fees paid. */
async function money() {
  return {
    raised: (await totals(t.db)).raisedCents,
    stripe: await balanceOf(t.db, accounts.stripe),
    fees: await balanceOf(t.db, accounts.fees({ groupId: null })),
  };
}

test('an inquiry opened, reviewed and closed leaves the total, Stripe balance, payment and receipt unchanged', async () => {
  const gift = await paidCardGift(t, 75);
  const before = await money();
  const receipts = await receiptsOfPayment(t.db, gift.paymentId);
  expect(receipts).toEqual([{ status: 'issued', amount_cents: 7_500 }]);

  const { disputeId, events: opened } = t.stand.openDispute(gift.chargeId, { inquiry: true });
  await deliverAll(t.app, t.stand, [...opened, ...opened]);
  expect(await money()).toEqual(before);
  expect(await paymentStatus(gift.paymentId)).toBe('succeeded');

  const closed = t.stand.closeDispute(disputeId, 'warning_closed');
  await deliverAll(t.app, t.stand, closed);
  expect(await money()).toEqual(before);
  expect(await paymentStatus(gift.paymentId)).toBe('succeeded');
  expect(await receiptsOfPayment(t.db, gift.paymentId)).toEqual(receipts);
  const row = await t.db.selectFrom('stripe_disputes').select(['status', 'payment_id']).where('id', '=', disputeId).executeTakeFirstOrThrow();
  expect(row).toEqual({ status: 'warning_closed', payment_id: gift.paymentId });
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('staff refund a payment while an inquiry is open: the total falls once, by the refund', async () => {
  const gift = await paidCardGift(t, 90);
  const { disputeId, events: opened } = t.stand.openDispute(gift.chargeId, { inquiry: true });
  await deliverAll(t.app, t.stand, opened);
  const before = await money();

  // Refunding during an inquiry is the usual way to head off a chargeback.
  await requestRefund({ db: t.db, stripe: createStripe(t.config.stripe), publicUrl: t.config.publicUrl }, { paymentId: gift.paymentId, amountCents: 9_000, actor, requestId: 'inquiry-refund-1' });
  await deliverAll(t.app, t.stand, t.stand.takeEvents());
  await deliverAll(t.app, t.stand, t.stand.closeDispute(disputeId, 'warning_closed'));

  const after = await money();
  expect(after.raised).toBe(before.raised - 9_000);
  expect(after.stripe).toBe(before.stripe - 9_000);
  expect(after.fees).toBe(before.fees);
  expect(await paymentStatus(gift.paymentId)).toBe('refunded');
  expect(await receiptsOfPayment(t.db, gift.paymentId)).toEqual([{ status: 'cancelled', amount_cents: 9_000 }]);
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('an inquiry that escalates to a chargeback withdraws the amount and fee once, when Stripe withdraws them, whatever the order of events', async () => {
  const gift = await paidCardGift(t, 60);
  const before = await money();
  const { disputeId, events: opened } = t.stand.openDispute(gift.chargeId, { inquiry: true });
  const escalated = t.stand.escalateInquiry(disputeId);
  // Newest first, then again in order: each balance transaction counts once.
  await deliverAll(t.app, t.stand, [...escalated].reverse());
  await deliverAll(t.app, t.stand, [...opened, ...escalated]);

  const after = await money();
  expect(after.raised).toBe(before.raised - 6_000);
  expect(after.stripe).toBe(before.stripe - 6_000 - DISPUTE_FEE_CENTS);
  expect(after.fees).toBe(before.fees + DISPUTE_FEE_CENTS);
  expect(await paymentStatus(gift.paymentId)).toBe('disputed');
  expect((await t.db.selectFrom('stripe_disputes').select('status').where('id', '=', disputeId).executeTakeFirstOrThrow()).status).toBe('needs_response');
  // A chargeback with funds withdrawn cannot be refunded (Stripe refuses it too).
  await expect(requestRefund({ db: t.db, stripe: createStripe(t.config.stripe), publicUrl: t.config.publicUrl }, { paymentId: gift.paymentId, amountCents: 100, actor, requestId: 'chargeback-refund' })).rejects.toMatchObject({ kind: 'conflict' });
});

test('a chargeback lost, then won on appeal with the fee returned: the total, balance and fees come back; the receipt is cancelled, then issued again', async () => {
  const gift = await paidCardGift(t, 120);
  const before = await money();
  const { disputeId, events: opened } = t.stand.openDispute(gift.chargeId);
  await deliverAll(t.app, t.stand, opened);
  expect(await money()).toEqual({ raised: before.raised - 12_000, stripe: before.stripe - 12_000 - DISPUTE_FEE_CENTS, fees: before.fees + DISPUTE_FEE_CENTS });

  await deliverAll(t.app, t.stand, t.stand.closeDispute(disputeId, 'lost'));
  expect((await money()).raised).toBe(before.raised - 12_000);
  expect(await receiptsOfPayment(t.db, gift.paymentId)).toEqual([{ status: 'cancelled', amount_cents: 12_000 }]);

  await deliverAll(t.app, t.stand, t.stand.winAppeal(disputeId, { returnFee: true }));
  expect(await money()).toEqual(before);
  expect(await paymentStatus(gift.paymentId)).toBe('succeeded');
  expect(await receiptsOfPayment(t.db, gift.paymentId)).toEqual([
    { status: 'cancelled', amount_cents: 12_000 },
    { status: 'issued', amount_cents: 12_000 },
  ]);
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('a chargeback won where Stripe keeps its fee: the amount comes back, the fee stays an expense', async () => {
  const gift = await paidCardGift(t, 40);
  const before = await money();
  const { disputeId, events: opened } = t.stand.openDispute(gift.chargeId);
  const won = t.stand.closeDispute(disputeId, 'won', { returnFee: false });
  // Closed and reinstated delivered before the dispute was opened.
  await deliverAll(t.app, t.stand, [...won, ...opened, ...won]);

  const after = await money();
  expect(after.raised).toBe(before.raised);
  expect(after.stripe).toBe(before.stripe - DISPUTE_FEE_CENTS);
  expect(after.fees).toBe(before.fees + DISPUTE_FEE_CENTS);
  expect(await paymentStatus(gift.paymentId)).toBe('succeeded');
  expect((await t.db.selectFrom('stripe_disputes').select('status').where('id', '=', disputeId).executeTakeFirstOrThrow()).status).toBe('won');
  expect(await receiptsOfPayment(t.db, gift.paymentId)).toEqual([{ status: 'issued', amount_cents: 4_000 }]);
});
