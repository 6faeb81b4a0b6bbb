import { sql } from 'kysely';
import type Stripe from 'stripe';
import { DomainError } from '../domain-error';
import { checkoutCompleted, checkoutFailed } from './stripe-checkout-events';
import { disputeChanged } from './stripe-dispute-events';
import { type AfterCommit, type EventEffect, type WebhookContext } from './stripe-event-context';
import { invoicePaid, invoicePaymentFailed, subscriptionDeleted } from './stripe-invoice-events';
import { refundsChanged } from './stripe-refund-events';

export { RetryLater, HoldEvent, webhookContext, type WebhookContext } from './stripe-event-context';

/**
 * The effects of Stripe webhook events (DESIGN §5, STYLE §5), one entry point: applyStripeEvent.
 * The endpoint has verified and stored the event (webhook-routes.ts); the queue
 * (stripe-event-queue.ts) leases it and calls applyStripeEvent. Facts that need Stripe's API are
 * fetched first, outside any transaction (each effect's `prepare`); then ONE transaction locks
 * the event's row, skips it if another pass already applied it, applies its effect and marks it
 * processed. What each event type does lives with its subject: checkout, invoices (monthly
 * gifts), refunds, disputes.
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
};

/** The event types Haven's webhook endpoint must be subscribed to (README; npm run stripe:check). */
export const HANDLED_EVENT_TYPES = Object.keys(effects).sort() as Stripe.Event.Type[];

/**
 * Applies one stored event: 'applied', or 'already_processed' when another pass (another
 * process, or this one after a lease expired) got there first. Throws RetryLater when a
 * precondition is missing, HoldEvent when Haven cannot read the event, or whatever went wrong;
 * the caller reschedules or holds the event.
 */
export async function applyStripeEvent(ctx: WebhookContext, event: Stripe.Event): Promise<'applied' | 'already_processed'> {
  const effect = effects[event.type];
  const facts = effect?.prepare ? await effect.prepare(ctx, event) : undefined;
  let afterCommit: AfterCommit[] = [];
  let outcome: 'applied' | 'already_processed' | undefined;
  // Two events about one object at once (a refund racing its gift) serialize on the pledge
  // row; a deadlock or a lost race on a unique index is retried here at once.
  for (let attempt = 1; outcome === undefined; attempt++) {
    afterCommit = [];
    const pending = afterCommit;
    try {
      outcome = await ctx.db.transaction().execute(async (trx) => {
        // One statement locks the event's row and marks it processed, unless a pass already did;
        // if the effect then fails, the rollback undoes the mark with everything else.
        const claimed = await trx
          .updateTable('stripe_events')
          .set({ processed_at: sql<Date>`now()`, last_error: null })
          .where('id', '=', event.id)
          .where('processed_at', 'is', null)
          .returning('id')
          .executeTakeFirst();
        if (!claimed) return 'already_processed' as const;
        await effect?.apply(trx, ctx, event, facts, pending);
        return 'applied' as const;
      });
    } catch (error) {
      if (attempt >= 3 || !isRetryable(error)) throw error;
    }
  }
  if (outcome === 'applied') {
    for (const action of afterCommit) {
      await action().catch((error: unknown) => ctx.logger.error({ err: error, eventId: event.id }, 'a follow-up call to Stripe failed'));
    }
  }
  return outcome;
}

/** Deadlock, serialization failure, or a unique index that another delivery filled first. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '40P01' || code === '40001' || code === '23505';
}

/** The event, if the signature on the raw body is Stripe's (default tolerance, 300 s); else a 400. */
export function verifyStripeEvent(stripe: Stripe, rawBody: Buffer, signature: string | undefined, secret: string): Stripe.Event {
  try {
    return stripe.webhooks.constructEvent(rawBody, signature ?? '', secret);
  } catch {
    throw new DomainError('invalid', 'The webhook signature is missing, wrong or too old.');
  }
}
