import { type Kysely, sql } from 'kysely';
import { addDays } from '../calendar/dates';
import type { Database, PaymentMethod } from '../db/schema';
import { paymentDay } from '../giving/payments';
import { accounts } from '../ledger/accounts';

/**
 * The treasurer's reconciliation, per charity day: gifts recorded by method (the payments as
 * staff and Stripe reported them, by the date received) against the ledger's postings of those
 * gifts (by the day they were posted), and for cards the Stripe payouts to the bank. Any
 * difference is listed with the payments behind it: a gift recorded days after it was received,
 * a void or correction, a payout larger than the card money Haven holds at Stripe.
 */
type Handle = Kysely<Database>;

export type MethodLine = { method: PaymentMethod; gifts: number; recordedCents: number; postedCents: number; differenceCents: number };
export type DifferenceItem = { paymentId: number; pledgeId: number; method: PaymentMethod; reference: string | null; receivedOn: string; postedOn: string; kind: string; amountCents: number };
export type ReconciliationDay = {
  day: string;
  methods: MethodLine[];
  /** Card money net of fees posted to the Stripe balance that day, and payouts that arrived in the bank. */
  cardNetCents: number;
  payoutsCents: number;
  /** Haven's Stripe balance (ledger) at the end of the day; below zero, Stripe paid out money Haven never recorded. */
  stripeBalanceCents: number;
  stripeShort: boolean;
  differences: DifferenceItem[];
};

const METHODS: PaymentMethod[] = ['cheque', 'etransfer', 'cash', 'card'];

export async function reconciliation(db: Handle, input: { from: string; to: string; timeZone: string }): Promise<ReconciliationDay[]> {
  const { from, to, timeZone } = input;
  const day = paymentDay(timeZone);
  const postedDay = sql<string>`((t.created_at at time zone ${timeZone})::date)::text`;
  const [recorded, postings, payouts, openingStripe, stripeByDay] = await Promise.all([
    db
      .selectFrom('payments as p')
      .select([sql<string>`(${day})::text`.as('day'), 'p.method', sql<number>`count(*)::int`.as('gifts'), sql<number>`sum(p.amount_cents)::bigint`.as('cents')])
      .where('p.status', '<>', 'voided')
      .where(day, '>=', sql<string>`${from}::date`)
      .where(day, '<=', sql<string>`${to}::date`)
      .groupBy([sql`1`, 'p.method'])
      .execute(),
    // Each gift posting and reversal of a void, as the amount credited to the funds, with the day it was received.
    db
      .selectFrom('ledger_transactions as t')
      .innerJoin('ledger_entries as e', 'e.transaction_id', 't.id')
      .innerJoin('payments as p', 'p.id', 't.payment_id')
      .select([
        'p.id as paymentId', 'p.pledge_id as pledgeId', 'p.method', 'p.reference', 't.kind', postedDay.as('postedOn'), sql<string>`(${day})::text`.as('receivedOn'),
        sql<number>`(-sum(e.amount_cents))::bigint`.as('cents'),
      ])
      .where('t.kind', 'in', ['gift_received', 'payment_voided'])
      .where('e.account', 'like', 'fund:%')
      .where((eb) => eb.or([eb.and([eb(day, '>=', sql<string>`${from}::date`), eb(day, '<=', sql<string>`${to}::date`)]), eb.and([eb(sql`(t.created_at at time zone ${timeZone})::date`, '>=', sql`${from}::date`), eb(sql`(t.created_at at time zone ${timeZone})::date`, '<=', sql`${to}::date`)])]))
      .groupBy(['p.id', 't.id'])
      .orderBy('p.id')
      .execute(),
    db.selectFrom('stripe_payouts').select(['arrival_on', sql<number>`sum(amount_cents)::bigint`.as('cents')]).where('status', '=', 'paid').where('arrival_on', '>=', from).where('arrival_on', '<=', to).groupBy('arrival_on').execute(),
    db
      .selectFrom('ledger_entries as e')
      .innerJoin('ledger_transactions as t', 't.id', 'e.transaction_id')
      .select(sql<number>`coalesce(sum(e.amount_cents), 0)::bigint`.as('cents'))
      .where('e.account', '=', accounts.stripe)
      .where(sql`(t.created_at at time zone ${timeZone})::date`, '<', sql`${from}::date`)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('ledger_entries as e')
      .innerJoin('ledger_transactions as t', 't.id', 'e.transaction_id')
      .select([postedDay.as('day'), sql<number>`sum(e.amount_cents)::bigint`.as('cents'), sql<number>`coalesce(sum(e.amount_cents) filter (where t.kind = 'gift_received'), 0)::bigint`.as('giftCents')])
      .where('e.account', '=', accounts.stripe)
      .where(sql`(t.created_at at time zone ${timeZone})::date`, '>=', sql`${from}::date`)
      .where(sql`(t.created_at at time zone ${timeZone})::date`, '<=', sql`${to}::date`)
      .groupBy(sql`1`)
      .execute(),
  ]);

  const days: ReconciliationDay[] = [];
  let stripeBalance = openingStripe.cents;
  for (let d = from; d <= to; d = addDays(d, 1)) {
    const methods = METHODS.map((method): MethodLine => {
      const r = recorded.find((x) => x.day === d && x.method === method);
      const posted = postings.filter((x) => x.postedOn === d && x.method === method).reduce((s, x) => s + x.cents, 0);
      const recordedCents = r?.cents ?? 0;
      return { method, gifts: r?.gifts ?? 0, recordedCents, postedCents: posted, differenceCents: recordedCents - posted };
    }).filter((m) => m.gifts > 0 || m.postedCents !== 0);
    const stripe = stripeByDay.find((x) => x.day === d);
    stripeBalance += stripe?.cents ?? 0;
    // What explains a difference: postings on another day than the gift was received, and voids.
    const differences = postings
      .filter((x) => (x.postedOn === d || x.receivedOn === d) && (x.postedOn !== x.receivedOn || x.kind === 'payment_voided'))
      .filter((x) => methods.some((m) => m.method === x.method && m.differenceCents !== 0))
      .map((x) => ({ ...x, amountCents: x.cents }));
    days.push({
      day: d,
      methods,
      cardNetCents: stripe?.giftCents ?? 0,
      payoutsCents: payouts.find((p) => p.arrival_on === d)?.cents ?? 0,
      stripeBalanceCents: stripeBalance,
      stripeShort: stripeBalance < 0,
      differences: differences.map(({ cents: _cents, ...item }) => item),
    });
  }
  return days.reverse();
}
