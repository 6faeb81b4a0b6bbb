import express, { Router } from 'express';
import { DomainError } from '../domain-error';
import { allow } from '../http/policy';
import type { GivingDeps } from './gifts';
import type { Logger } from '../logger';
import { ingestStripeEvent, RetryLater, verifyStripeEvent } from './stripe-webhooks';

/** POST /webhooks/stripe: mounted in app.ts BEFORE the body parsers, so the signature is checked on the raw bytes. */
export function stripeWebhookRoutes(deps: GivingDeps & { logger: Logger }): Router {
  const router = Router();
  router.post('/webhooks/stripe', allow.anyone, express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const stripe = deps.stripe;
    const secret = deps.config.stripe?.webhookSecret;
    // Never skip verification: without a secret, card giving is off and so is this endpoint
    // (any non-2xx makes Stripe retry, so events sent during a misconfiguration are not lost).
    if (!stripe || !secret) throw new DomainError('not_found', 'Card giving is not configured.');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const event = verifyStripeEvent(stripe, body, req.header('stripe-signature'), secret);
    const ctx = { db: deps.db, stripe, links: deps.links, publicUrl: deps.config.publicUrl, logger: deps.logger, receipts: deps.config };
    const outcome = await ingestStripeEvent(ctx, event, body.toString('utf8')).catch((error: unknown) => {
      if (error instanceof RetryLater) {
        req.log?.warn({ eventId: event.id, reason: error.message }, 'webhook effect deferred: Stripe will retry');
        throw new DomainError('unavailable', 'Not ready to apply this event yet; please retry.');
      }
      throw error;
    });
    res.json({ received: true, duplicate: outcome === 'duplicate' });
  });
  return router;
}
