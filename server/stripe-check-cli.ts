import { ConfigError, loadConfig } from './config';
import { checkWebhookEndpoint } from './giving/stripe-check';
import { createStripe } from './giving/stripe-client';
import { STRIPE_API_VERSION } from './giving/stripe-event-context';
import { HANDLED_EVENT_TYPES } from './giving/stripe-webhooks';

/**
 * npm run stripe:check: reads the webhook endpoint's configuration through Stripe's API and says
 * what is missing (README, "Stripe webhook endpoint"). Exit code 0 when it is right, 1 when not.
 */
async function main() {
  const config = loadConfig(process.env);
  const stripe = createStripe(config.stripe);
  if (!stripe) {
    console.error('Card giving is off: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET first.');
    process.exit(1);
  }
  const url = `${config.publicUrl}/webhooks/stripe`;
  const { problems, endpoint } = await checkWebhookEndpoint(stripe, url);
  if (problems.length === 0) {
    console.log(`The webhook endpoint ${endpoint!.id} for ${url} is right: enabled, API version ${STRIPE_API_VERSION}, all ${HANDLED_EVENT_TYPES.length} event types Haven needs.`);
    return;
  }
  console.log(`The webhook endpoint for ${url} needs attention:`);
  for (const problem of problems) console.log(`  - ${problem}`);
  console.log(`Haven needs: URL ${url}, API version ${STRIPE_API_VERSION}, events:`);
  for (const type of HANDLED_EVENT_TYPES) console.log(`    ${type}`);
  process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `Stripe check failed: ${(error as Error).message}`);
  process.exit(1);
});
