import express, { Router } from 'express';
import { DomainError } from '../domain-error';
import { allow } from '../http/policy';
import type { GivingDeps } from './gifts';
import { createStripeEventInbox, type StripeEventProcessor } from './stripe-event-queue';
import { verifyStripeEvent } from './stripe-webhooks';

/**
 * POST /webhooks/stripe: mounted in app.ts BEFORE the body parsers, so the signature is checked
 * on the raw bytes. It verifies, stores the event (one INSERT, shared with deliveries arriving at
 * the same moment) and answers; the processor
 * (stripe-event-queue.ts), nudged after the answer, applies the effect. Without a processor
 * (some tests) events wait in the queue for whoever drains it.
 */
export function stripeWebhookRoutes(deps: GivingDeps & { stripeEvents?: Pick<StripeEventProcessor, 'nudge'> }): Router {
  const router = Router();
  const inbox = createStripeEventInbox(deps.db);
  router.post('/webhooks/stripe', allow.anyone, express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const stripe = deps.stripe;
    const secret = deps.config.stripe?.webhookSecret;
    // Never skip verification: without a secret, card giving is off and so is this endpoint
    // (any non-2xx makes Stripe retry, so events sent during a misconfiguration are not lost).
    if (!stripe || !secret) throw new DomainError('not_found', 'Card giving is not configured.');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const event = verifyStripeEvent(stripe, body, req.header('stripe-signature'), secret);
    const stored = await inbox.store(event, body.toString('utf8'));
    res.json({ received: true, duplicate: !stored });
    if (stored) deps.stripeEvents?.nudge();
  });
  return router;
}
