import fc from 'fast-check';
import type Stripe from 'stripe';
import { feeCoverCents } from '../../server/giving/stripe-client';
import { balanceOf } from '../../server/ledger/ledger';
import { standInFee } from '../support/stripe-stand-in';
import { createGivingTest, type GivingTest, ledgerImbalance, postEvent, startCardGift, totals } from '../support/giving';

/**
 * Property: whatever the sequence of card gifts, partial or full refunds, disputes and repeated
 * deliveries, the ledger stays balanced, each fund's balance is exactly the payments less
 * refunds and disputes, and the campaign total is the sum the model expects.
 */
let t: GivingTest;
beforeAll(async () => {
  t = await createGivingTest();
});
afterAll(() => t.destroyAll());

type Action =
  | { kind: 'gift'; dollars: number; cover: boolean }
  | { kind: 'refund'; target: number; cents: number }
  | { kind: 'dispute'; target: number }
  | { kind: 'redeliver'; target: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('gift' as const), dollars: fc.integer({ min: 5, max: 2_000 }), cover: fc.boolean() }),
  fc.record({ kind: fc.constant('refund' as const), target: fc.nat(), cents: fc.integer({ min: 1, max: 200_000 }) }),
  fc.record({ kind: fc.constant('dispute' as const), target: fc.nat() }),
  fc.record({ kind: fc.constant('redeliver' as const), target: fc.nat() }),
);

async function fundFromTables(): Promise<number> {
  const payments = await t.db
    .selectFrom('payments')
    .select((eb) => [eb.fn.sum<string>('amount_cents').as('paid'), eb.fn.sum<string>('refunded_cents').as('refunded')])
    .executeTakeFirstOrThrow();
  const disputes = await t.db.selectFrom('stripe_disputes').select((eb) => eb.fn.sum<string>('amount_cents').as('d')).where('reversed', '=', false).executeTakeFirstOrThrow();
  return Number(payments.paid ?? 0) - Number(payments.refunded ?? 0) - Number(disputes.d ?? 0);
}

test('the ledger stays balanced and totals equal payments less refunds and disputes, under random sequences with duplicates', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 8 }), async (actions) => {
      const before = (await totals(t.db)).raisedCents;
      const gifts: { chargeId: string; amount: number; refunded: number; disputed: boolean }[] = [];
      const delivered: Stripe.Event[] = [];
      let expected = 0;
      const deliver = async (events: Stripe.Event[]) => {
        for (const e of events) {
          await postEvent(t.app, t.stand, e).expect(200);
          delivered.push(e);
        }
      };
      for (const a of actions) {
        if (a.kind === 'gift') {
          const { sessionId } = await startCardGift(t.app, { amount: 'other', customAmount: String(a.dollars), ...(a.cover ? { coverFee: 'on' } : {}) });
          const events = t.stand.completeCheckout(sessionId);
          await deliver(events);
          const session = t.stand.objects.get(sessionId)!;
          const intent = t.stand.objects.get(session.payment_intent)!;
          gifts.push({ chargeId: intent.latest_charge, amount: session.amount_total, refunded: 0, disputed: false });
          expected += session.amount_total;
        } else if (a.kind === 'refund' && gifts.length > 0) {
          const g = gifts[a.target % gifts.length]!;
          const cents = Math.min(a.cents, g.amount - g.refunded);
          if (cents <= 0 || g.disputed) continue;
          await deliver([t.stand.refundCharge(g.chargeId, cents)]);
          g.refunded += cents;
          expected -= cents;
        } else if (a.kind === 'dispute' && gifts.length > 0) {
          const g = gifts[a.target % gifts.length]!;
          if (g.disputed || g.refunded > 0) continue;
          await deliver(t.stand.openDispute(g.chargeId).events);
          g.disputed = true;
          expected -= g.amount;
        } else if (a.kind === 'redeliver' && delivered.length > 0) {
          const res = await postEvent(t.app, t.stand, delivered[a.target % delivered.length]!).expect(200);
          expect(res.body.duplicate).toBe(true);
        }
      }
      t.stand.takeEvents();
      expect((await totals(t.db)).raisedCents - before).toBe(expected);
      expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
      expect(0 - (await balanceOf(t.db, 'fund:general'))).toBe(await fundFromTables());
    }),
    { numRuns: 12 },
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
