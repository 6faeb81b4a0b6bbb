import type Stripe from 'stripe';
import { holdStripeEvent, rescheduleStripeEvent } from './stripe-event-failures';
import { applyStripeEvent, applyStripeEvents, HoldEvent, type WebhookContext } from './stripe-webhooks';

/**
 * Applying leased Stripe events (part of the queue, stripe-event-queue.ts, its one entry point):
 * a share together in one transaction, or each on its own when that fails, so a failure is its
 * own event's (rescheduled or held: stripe-event-failures.ts).
 */

export type LeasedEvent = { id: string; type: string; payload: unknown; attempts: number; read_from_api: boolean };

export type EventOutcome = 'applied' | 'already_processed' | 'rescheduled' | 'held';

/**
 * Applies one leased event; on any failure the event is due again after the backoff, with
 * last_error saved: a missing precondition (RetryLater) is a warning, anything else an error.
 * An event Haven cannot read (HoldEvent) is held for staff with its reason, and not retried.
 */
export async function processLeasedEvent(ctx: WebhookContext, leased: LeasedEvent): Promise<EventOutcome> {
  try {
    return await applyStripeEvent(ctx, leased.payload as Stripe.Event, { readFromApi: leased.read_from_api });
  } catch (error) {
    return failed(ctx, leased, error);
  }
}

/** An event that could not be applied: held for staff (HoldEvent) or due again after the backoff. */
async function failed(ctx: WebhookContext, leased: LeasedEvent, error: unknown): Promise<EventOutcome> {
  if (error instanceof HoldEvent) {
    await holdStripeEvent(ctx, leased, error.message);
    return 'held';
  }
  await rescheduleStripeEvent(ctx, leased, error);
  return 'rescheduled';
}

/**
 * Applies leased events together in one transaction (applyStripeEvents). An event whose Stripe
 * look-up failed there is rescheduled with its error, and the others are applied without being
 * looked up again. Should the transaction fail for any of them, each is applied on its own
 * (processLeasedEvent), so one event's failure is its own and the others are applied in the same
 * pass, their attempt counted once. Events to be read again from Stripe's API are always applied
 * on their own.
 */
export async function processLeasedEvents(ctx: WebhookContext, leased: LeasedEvent[]): Promise<EventOutcome[]> {
  const together = leased.filter((e) => !e.read_from_api);
  if (together.length > 1) {
    let outcomes: Awaited<ReturnType<typeof applyStripeEvents>> | undefined;
    try {
      outcomes = await applyStripeEvents(
        ctx,
        together.map((e) => e.payload as Stripe.Event),
      );
    } catch {
      // Each event on its own below: the one that failed is retried or held, with its error.
    }
    if (outcomes) {
      const results = await Promise.all(
        together.map((e) => {
          const outcome = outcomes.get(e.id)!;
          return typeof outcome === 'string' ? outcome : failed(ctx, e, outcome.failed);
        }),
      );
      const alone = await Promise.all(leased.filter((e) => e.read_from_api).map((e) => processLeasedEvent(ctx, e)));
      return [...results, ...alone];
    }
  }
  const outcomes: EventOutcome[] = [];
  for (const event of leased) outcomes.push(await processLeasedEvent(ctx, event));
  return outcomes;
}
