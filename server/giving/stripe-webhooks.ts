import { sql, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import { checkoutCompleted, checkoutFailed } from './stripe-checkout-events';
import { disputeChanged } from './stripe-dispute-events';
import { type EventEffect, HoldEvent, STRIPE_API_VERSION, type WebhookContext } from './stripe-event-context';
import { invoicePaid, invoicePaymentFailed, subscriptionDeleted } from './stripe-invoice-events';
import { applyPayoutEvent } from './stripe-payouts';
import { refundsChanged } from './stripe-refund-events';

export { RetryLater, HoldEvent, webhookContext, type WebhookContext } from './stripe-event-context';

/**
 * The effects of Stripe webhook events (DESIGN §5, STYLE §5), one entry point: applyStripeEvent.
 * The endpoint has verified and stored the event (webhook-routes.ts); the queue
 * (stripe-event-queue.ts) leases it and calls applyStripeEvent. Facts that need Stripe's API are
 * fetched first, outside any transaction (each effect's `prepare`); then ONE transaction locks
 * the event's row, skips it if another pass already applied it, applies its effect and marks it
 * processed. What each event type does lives with its subject: checkout, invoices (monthly
 * gifts), refunds, disputes. Calls to Stripe an effect needs (ending a subscription) are queued
 * in that transaction (stripe-calls.ts) and made after it, retried until Stripe confirms.
 */

type RegisteredEffect = EventEffect<Stripe.Event.Type, unknown>;

/** Dispatch entries for these event types; the compiler checks the effect is written for exactly them. */
function on<T extends Stripe.Event.Type, F>(types: T[], effect: EventEffect<T, F>): Partial<Record<T, RegisteredEffect>> {
  return Object.fromEntries(types.map((type) => [type, effect as unknown as RegisteredEffect])) as Partial<Record<T, RegisteredEffect>>;
}

/**
 * Every event type Haven acts on, and what it does: the dispatch point. Adding one is one line
 * here (and the README's list of events the endpoint must send follows from HANDLED_EVENT_TYPES).
 * Other types are stored, acknowledged and marked processed.
 */
const effects: Partial<Record<Stripe.Event.Type, RegisteredEffect>> = {
  ...on(['checkout.session.completed', 'checkout.session.async_payment_succeeded'], checkoutCompleted),
  ...on(['checkout.session.async_payment_failed', 'checkout.session.expired'], checkoutFailed),
  ...on(['invoice.paid'], invoicePaid),
  ...on(['invoice.payment_failed'], invoicePaymentFailed),
  ...on(['customer.subscription.deleted'], subscriptionDeleted),
  ...on(['charge.refunded', 'refund.failed', 'refund.updated', 'charge.refund.updated'], refundsChanged),
  ...on(['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated', 'charge.dispute.closed'], disputeChanged),
  ...on(['payout.paid', 'payout.failed'], { apply: (trx, _ctx, event) => applyPayoutEvent(trx, event) }),
};

/** The distinct effects, in the order the table lists them: the order a share's set-based effects are applied in. */
const EFFECT_ORDER = [...new Set(Object.values(effects))];

/** The event types Haven's webhook endpoint must be subscribed to (README; npm run stripe:check). */
export const HANDLED_EVENT_TYPES = Object.keys(effects).sort() as Stripe.Event.Type[];

/**
 * Applies one stored event: 'applied', or 'already_processed' when another pass (another
 * process, or this one after a lease expired) got there first. Throws RetryLater when a
 * precondition is missing, HoldEvent when Haven cannot read the event, or whatever went wrong;
 * the caller reschedules or holds the event.
 */
export async function applyStripeEvent(ctx: WebhookContext, stored: Stripe.Event, options: { readFromApi?: boolean } = {}): Promise<'applied' | 'already_processed'> {
  const event = options.readFromApi ? await readAgainFromStripe(ctx.stripe, stored) : stored;
  const effect = effectOf(event);
  const facts = effect?.prepare ? await lookUp(ctx, () => effect.prepare!(ctx, event)) : undefined;
  let outcome: 'applied' | 'already_processed' | undefined;
  // Two events about one object at once (a refund racing its gift) serialize on the pledge
  // row; a deadlock or a lost race on a unique index is retried here at once.
  for (let attempt = 1; outcome === undefined; attempt++) {
    try {
      outcome = await ctx.db.transaction().execute(async (trx) => {
        // One statement locks the event's row and marks it processed, unless a pass already did;
        // if the effect then fails, the rollback undoes the mark with everything else.
        const claimed = await claimEvents(trx, [event.id]);
        if (!claimed.has(event.id)) return 'already_processed' as const;
        await effect?.apply(trx, ctx, event, facts);
        return 'applied' as const;
      });
    } catch (error) {
      if (attempt >= 3 || !isRetryable(error)) throw error;
    }
  }
  return outcome;
}

/**
 * Stripe look-ups one process has in flight at most, whatever the number of workers and the size
 * of their shares: Stripe limits requests per second and requests at once
 * (https://docs.stripe.com/rate-limits), and a share of 64 gifts must not open 64 connections at once.
 */
export const STRIPE_LOOKUPS_AT_ONCE = 16;
const lookups = new WeakMap<Stripe, { running: number; waiting: (() => void)[] }>();

/** Runs one effect's look-up when a slot of the process's Stripe client is free. */
async function lookUp<T>(ctx: WebhookContext, prepare: () => Promise<T>): Promise<T> {
  let slots = lookups.get(ctx.stripe);
  if (!slots) lookups.set(ctx.stripe, (slots = { running: 0, waiting: [] }));
  while (slots.running >= STRIPE_LOOKUPS_AT_ONCE) await new Promise<void>((resolve) => slots.waiting.push(resolve));
  slots.running += 1;
  try {
    return await prepare();
  } finally {
    slots.running -= 1;
    slots.waiting.shift()?.();
  }
}

/** An event of a share that could not be applied: its own failure (a look-up that failed, a missing precondition). */
export type EventFailure = { failed: unknown };

/**
 * Applies several stored events in ONE transaction: their Stripe look-ups first (all at once,
 * outside it), then one statement claims every event not yet processed, and the effects run:
 * those that apply several events at once (`applyAll`: a share's card gifts in a few statements)
 * and then the others in turn; one commit for the lot.
 *
 * An event whose look-up fails (Stripe answers 429 to a giving day's reads, or lacks a fact yet)
 * is left out with its error, and the others go ahead without being looked up again. Past the
 * look-ups it is all or nothing: if any event fails in the transaction, nothing is applied and the
 * error is thrown, so the caller applies each event on its own (applyStripeEvent), where a failure
 * is that event's alone; a deadlock or a lost unique race is first retried here at once, up to 3
 * times. Events read again from Stripe's API never come here.
 */
export async function applyStripeEvents(ctx: WebhookContext, events: Stripe.Event[]): Promise<Map<string, 'applied' | 'already_processed' | EventFailure>> {
  const effectsOf = events.map((event) => effectOf(event));
  const looked = await Promise.allSettled(events.map((event, i) => (effectsOf[i]?.prepare ? lookUp(ctx, () => effectsOf[i]!.prepare!(ctx, event)) : undefined)));
  const ready = events.flatMap((event, i) => (looked[i]!.status === 'fulfilled' ? [i] : []));
  const outcomes = new Map<string, 'applied' | 'already_processed' | EventFailure>();
  for (const [i, result] of looked.entries()) if (result.status === 'rejected') outcomes.set(events[i]!.id, { failed: result.reason });
  if (ready.length === 0) return outcomes;
  for (let attempt = 1; ; attempt++) {
    try {
      const applied = await applyPrepared(
        ctx,
        ready.map((i) => events[i]!),
        ready.map((i) => effectsOf[i]),
        ready.map((i) => (looked[i] as PromiseFulfilledResult<unknown>).value),
      );
      // An event delivered twice in the share, one copy looked up in vain, is what its other copy did.
      for (const [id, outcome] of applied) outcomes.set(id, outcome);
      return outcomes;
    } catch (error) {
      if (attempt >= 3 || !isRetryable(error)) throw error;
    }
  }
}

/** The one transaction of applyStripeEvents, once the facts are in hand: no call to Stripe, or other network wait, happens in it. */
async function applyPrepared(ctx: WebhookContext, events: Stripe.Event[], effectsOf: (RegisteredEffect | undefined)[], facts: unknown[]) {
  return ctx.db.transaction().execute(async (trx) => {
    const claimed = await claimEvents(trx, events.map((e) => e.id));
    const outcomes = new Map<string, 'applied' | 'already_processed'>();
    const one: number[] = [];
    const together = new Map<RegisteredEffect, { event: Stripe.Event; facts: unknown }[]>();
    for (const [i, event] of events.entries()) {
      // The same event twice in one batch (a redelivery leased with it) is applied once.
      if (!claimed.delete(event.id)) {
        outcomes.set(event.id, outcomes.get(event.id) ?? 'already_processed');
        continue;
      }
      outcomes.set(event.id, 'applied');
      const effect = effectsOf[i];
      if (effect?.applyAll) together.set(effect, [...(together.get(effect) ?? []), { event, facts: facts[i] }]);
      else one.push(i);
    }
    // Effects that apply several events at once (a share's card gifts: a few statements for the
    // lot), then the others in turn. Stripe promises no order between events and every effect is
    // written for any order (keyed by Stripe ids), so this is one of the orders they could have come in.
    // The set-based effects run in the dispatch table's order (a share's gifts before its refunds).
    for (const effect of EFFECT_ORDER) {
      const items = together.get(effect);
      if (items) await effect.applyAll!(trx, ctx, items);
    }
    for (const i of one) await effectsOf[i]?.apply(trx, ctx, events[i]!, facts[i]);
    return outcomes;
  });
}

/** The effect of an event's type (undefined: stored and marked processed only); HoldEvent when it is rendered in another API version. */
function effectOf(event: Stripe.Event): RegisteredEffect | undefined {
  const effect = effects[event.type];
  if (effect && event.api_version !== STRIPE_API_VERSION) {
    // Objects differ between API versions (an invoice before 2025-03-31.basil has no `parent`):
    // reading one in another version's shape would record nothing, or the wrong thing.
    throw new HoldEvent(
      `Rendered in Stripe API version ${event.api_version ?? '(none)'}; Haven reads ${STRIPE_API_VERSION}. ` +
        `Set the webhook endpoint's API version to ${STRIPE_API_VERSION} (README, "Stripe webhook endpoint"), then read this event again from Stripe.`,
    );
  }
  return effect;
}

/** Locks the events' rows and marks those not yet processed as processed (one statement); returns the ids it marked. */
async function claimEvents(trx: Transaction<Database>, ids: string[]): Promise<Set<string>> {
  const claimed = await trx
    .updateTable('stripe_events')
    .set({ processed_at: sql<Date>`now()`, last_error: null })
    .where('id', 'in', ids)
    .where('processed_at', 'is', null)
    .returning('id')
    .execute();
  return new Set(claimed.map((r) => r.id));
}

/**
 * The event with its object as Stripe's API returns it now, rendered in Haven's API version (the
 * SDK sends it): how a held event is applied once its cause is fixed. Every object Haven acts on
 * can be retrieved by id; its current state is what the effects want anyway, as they are keyed
 * by ids and follow Stripe's state rather than replaying history.
 */
async function readAgainFromStripe(stripe: Stripe, event: Stripe.Event): Promise<Stripe.Event> {
  const object = event.data.object as { id?: string; object?: string };
  const id = object.id ?? '';
  const read: Record<string, (() => Promise<unknown>) | undefined> = {
    'checkout.session': () => stripe.checkout.sessions.retrieve(id),
    invoice: () => stripe.invoices.retrieve(id),
    subscription: () => stripe.subscriptions.retrieve(id),
    charge: () => stripe.charges.retrieve(id),
    refund: () => stripe.refunds.retrieve(id),
    dispute: () => stripe.disputes.retrieve(id),
    payout: () => stripe.payouts.retrieve(id),
  };
  const retrieve = read[object.object ?? ''];
  if (!retrieve || !id) throw new HoldEvent(`Haven cannot read a ${object.object ?? 'nameless'} object again from Stripe.`);
  return { ...event, api_version: STRIPE_API_VERSION, data: { object: await retrieve() } } as Stripe.Event;
}

/** Deadlock, serialization failure, or a unique index that another delivery filled first. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '40P01' || code === '40001' || code === '23505';
}

/**
 * The event, if the signature on the raw body is Stripe's (default tolerance, 300 s) and the body
 * is an event (an object with an id, a type, a creation time and data.object); else a 400 and
 * nothing is stored.
 */
export function verifyStripeEvent(stripe: Stripe, rawBody: Buffer, signature: string | undefined, secret: string): Stripe.Event {
  let event: unknown;
  try {
    event = stripe.webhooks.constructEvent(rawBody, signature ?? '', secret);
  } catch {
    throw new DomainError('invalid', 'The webhook signature is missing, wrong or too old.');
  }
  if (!isEventShaped(event)) throw new DomainError('invalid', 'The webhook body is not a Stripe event.');
  return event;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEventShaped(value: unknown): value is Stripe.Event {
  if (!isPlainObject(value) || !isPlainObject(value.data) || !isPlainObject(value.data.object)) return false;
  return typeof value.id === 'string' && value.id.length > 0 && value.id.length <= 255 && typeof value.type === 'string' && value.type.length > 0 && Number.isSafeInteger(value.created);
}
