/**
 * Stripe's side of npm run bench, in its own process (Stripe is another machine): the stand-in
 * API that Haven's processor calls for each gift's charge and fee, and the signed deliveries the
 * webhook scenario sends. IPC: → {kind:'ready', env}; ← {kind:'prepare', gifts, …} → {kind:'prepared', …}.
 * It lives until its parent kills it.
 */
import { createStripe } from '../server/giving/stripe-client';
import { startStripeStandIn } from '../test/support/stripe-stand-in';
import { type Gift, giftEvents } from './stripe-gift-events';

type Prepare = { kind: 'prepare'; gifts: Gift[]; refundEvery: number; duplicateShare: number };

async function main() {
  const stand = await startStripeStandIn();
  const stripe = createStripe({ secretKey: stand.env.STRIPE_SECRET_KEY!, webhookSecret: stand.webhookSecret, apiHost: '127.0.0.1', apiPort: stand.port, apiProtocol: 'http' })!;
  process.on('message', (message: Prepare) => {
    if (message.kind !== 'prepare') return;
    giftEvents(stand, stripe, message.gifts, message)
      .then((prepared) => process.send!({ kind: 'prepared', ...prepared }))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  });
  process.on('disconnect', () => void stand.close().then(() => process.exit(0)));
  process.send!({ kind: 'ready', env: stand.env });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
