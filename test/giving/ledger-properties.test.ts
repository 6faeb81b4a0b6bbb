import fc from 'fast-check';
import type Stripe from 'stripe';
import { feeCoverCents } from '../../server/giving/stripe-client';
import { accounts } from '../../server/ledger/accounts';
import { balanceOf } from '../../server/ledger/ledger';
import { DISPUTE_FEE_CENTS, standInFee } from '../support/stripe-stand-in';
import { createGivingTest, type GivingTest, ledgerImbalance, postEvent, startCardGift, totals } from '../support/giving';

/**
 * Property: whatever the sequence of card gifts, partial or full refunds, refunds that fail,
 * inquiries (closed, or escalating to chargebacks), chargebacks won (with or without Stripe
 * returning its fee) or lost, and repeated deliveries, the ledger stays balanced, each fund's
 * balance is exactly the payments less refunds still standing and dispute funds still withdrawn,
 * and the campaign total, Stripe's balance and the fees paid are what an independent model of
 * Stripe's money movements (below, written from Stripe's documented rules, not from Haven's code) says.
 */
let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest();
});
afterAll(() => t.destroyAll());

type Action =
  | { kind: 'gift'; dollars: number; cover: boolean }
  | { kind: 'refund'; target: number; cents: number }
  | { kind: 'failRefund'; target: number }
  | { kind: 'inquiry'; target: number; then: 'open' | 'closed' | 'escalated' }
  | { kind: 'chargeback'; target: number }
  | { kind: 'decide'; target: number; won: boolean; returnFee: boolean }
  | { kind: 'redeliver'; target: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('gift' as const), dollars: fc.integer({ min: 5, max: 2_000 }), cover: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('refund' as const), target: fc.nat(), cents: fc.integer({ min: 1, max: 200_000 }) }) },
  fc.record({ kind: fc.constant('failRefund' as const), target: fc.nat() }),
  fc.record({ kind: fc.constant('inquiry' as const), target: fc.nat(), then: fc.constantFrom('open' as const, 'closed' as const, 'escalated' as const) }),
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('chargeback' as const), target: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('decide' as const), target: fc.nat(), won: fc.boolean(), returnFee: fc.boolean() }) },
  fc.record({ kind: fc.constant('redeliver' as const), target: fc.nat() }),
);

/** The model of one gift at Stripe. */
type ModelGift = {
  chargeId: string;
  amount: number;
  refunds: { id: string; cents: number; failed: boolean }[];
  dispute?: { id: string; amount: number; stage: 'inquiry' | 'inquiry_closed' | 'withdrawn' | 'won' | 'lost' };
};

const standing = (g: ModelGift) => g.refunds.filter((r) => !r.failed).reduce((sum, r) => sum + r.cents, 0);

async function fundFromTables(): Promise<number> {
  const payments = await t.db
    .selectFrom('payments')
    .select((eb) => [eb.fn.sum<string>('amount_cents').as('paid'), eb.fn.sum<string>('refunded_cents').as('refunded')])
    .executeTakeFirstOrThrow();
  const disputes = await t.db.selectFrom('stripe_dispute_balance_transactions').select((eb) => eb.fn.sum<string>('amount_cents').as('moved')).executeTakeFirstOrThrow();
  return Number(payments.paid ?? 0) - Number(payments.refunded ?? 0) + Number(disputes.moved ?? 0);
}

test('the ledger stays balanced and totals, Stripe balance and fees follow Stripe, under random sequences with failed refunds, inquiries, disputes and duplicates', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 12 }), async (actions) => {
      const before = { raised: (await totals(t.db)).raisedCents, stripe: await balanceOf(t.db, accounts.stripe), fees: await balanceOf(t.db, accounts.fees({ groupId: null })) };
      const gifts: ModelGift[] = [];
      const delivered: Stripe.Event[] = [];
      // Stripe's money, by its documented rules: a charge nets amount − fee; a refund takes its
      // amount and gives it back if it fails; a chargeback withdraws amount + dispute fee;
      // winning reinstates the amount, plus the fee when Stripe returns it; inquiries move nothing.
      const expected = { raised: 0, stripe: 0, fees: 0 };
      const deliver = async (events: Stripe.Event[]) => {
        for (const e of events) {
          await postEvent(t.app, t.stand, e).expect(200);
          delivered.push(e);
        }
      };
      const pick = (target: number) => (gifts.length > 0 ? gifts[target % gifts.length]! : undefined);
      for (const a of actions) {
        if (a.kind === 'gift') {
          const { sessionId } = await startCardGift(t.app, { amount: 'other', customAmount: String(a.dollars), ...(a.cover ? { coverFee: 'on' } : {}) });
          await deliver(t.stand.completeCheckout(sessionId));
          const session = t.stand.objects.get(sessionId)!;
          const intent = t.stand.objects.get(session.payment_intent)!;
          const amount = session.amount_total as number;
          gifts.push({ chargeId: intent.latest_charge, amount, refunds: [] });
          expected.raised += amount;
          expected.stripe += amount - standInFee(amount);
          expected.fees += standInFee(amount);
          continue;
        }
        const g = pick(a.target);
        if (!g) continue;
        const chargedBack = g.dispute?.stage === 'withdrawn' || g.dispute?.stage === 'won' || g.dispute?.stage === 'lost';
        if (a.kind === 'refund') {
          const cents = Math.min(a.cents, g.amount - standing(g));
          if (cents <= 0 || chargedBack) continue;
          await deliver([t.stand.refundCharge(g.chargeId, cents)]);
          const refunds = [...t.stand.objects.values()].filter((o) => o.object === 'refund' && o.charge === g.chargeId);
          g.refunds.push({ id: refunds[refunds.length - 1]!.id, cents, failed: false });
          expected.raised -= cents;
          expected.stripe -= cents;
        } else if (a.kind === 'failRefund') {
          const refund = g.refunds.find((r) => !r.failed);
          if (!refund || chargedBack) continue;
          await deliver(t.stand.failRefund(refund.id));
          refund.failed = true;
          expected.raised += refund.cents;
          expected.stripe += refund.cents;
        } else if (a.kind === 'inquiry') {
          if (g.dispute || standing(g) >= g.amount) continue;
          const { disputeId, events } = t.stand.openDispute(g.chargeId, { inquiry: true });
          await deliver(events);
          g.dispute = { id: disputeId, amount: g.amount - standing(g), stage: 'inquiry' };
          if (a.then === 'closed') {
            await deliver(t.stand.closeDispute(disputeId, 'warning_closed'));
            g.dispute.stage = 'inquiry_closed';
          } else if (a.then === 'escalated' && g.refunds.length === 0) {
            await deliver(t.stand.escalateInquiry(disputeId));
            g.dispute.stage = 'withdrawn';
            expected.raised -= g.amount;
            expected.stripe -= g.amount + DISPUTE_FEE_CENTS;
            expected.fees += DISPUTE_FEE_CENTS;
          }
        } else if (a.kind === 'chargeback') {
          if (g.dispute || standing(g) >= g.amount) continue;
          const disputed = g.amount - standing(g);
          const { disputeId, events } = t.stand.openDispute(g.chargeId);
          await deliver(events);
          // The dispute is for what was not refunded.
          g.dispute = { id: disputeId, amount: disputed, stage: 'withdrawn' };
          expected.raised -= disputed;
          expected.stripe -= disputed + DISPUTE_FEE_CENTS;
          expected.fees += DISPUTE_FEE_CENTS;
        } else if (a.kind === 'decide') {
          if (g.dispute?.stage !== 'withdrawn') continue;
          const disputed = g.dispute.amount;
          await deliver(t.stand.closeDispute(g.dispute.id, a.won ? 'won' : 'lost', { returnFee: a.returnFee }));
          g.dispute.stage = a.won ? 'won' : 'lost';
          if (a.won) {
            expected.raised += disputed;
            expected.stripe += disputed + (a.returnFee ? DISPUTE_FEE_CENTS : 0);
            expected.fees -= a.returnFee ? DISPUTE_FEE_CENTS : 0;
          }
        } else if (a.kind === 'redeliver' && delivered.length > 0) {
          const res = await postEvent(t.app, t.stand, delivered[a.target % delivered.length]!).expect(200);
          expect(res.body.duplicate).toBe(true);
        }
      }
      t.stand.takeEvents();
      expect((await totals(t.db)).raisedCents - before.raised).toBe(expected.raised);
      expect((await balanceOf(t.db, accounts.stripe)) - before.stripe).toBe(expected.stripe);
      expect((await balanceOf(t.db, accounts.fees({ groupId: null }))) - before.fees).toBe(expected.fees);
      expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
      expect(0 - (await balanceOf(t.db, 'fund:general'))).toBe(await fundFromTables());
    }),
    { numRuns: 40 },
  );
});

test('covering the fee always leaves at least the whole gift after Stripe\'s 2.9% + 30¢, and never a cent more than needed', () => {
  fc.assert(
    fc.property(fc.integer({ min: 500, max: 10_000_000 }), (gift) => {
      const total = gift + feeCoverCents(gift, { basisPoints: 290, fixedCents: 30 });
      expect(total - standInFee(total)).toBeGreaterThanOrEqual(gift);
      expect(total - 1 - standInFee(total - 1)).toBeLessThanOrEqual(gift);
    }),
    { numRuns: 2_000 },
  );
});
