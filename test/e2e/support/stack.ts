import { createKysely, type Db } from '../../../server/db/database';
import { adminUrl, createServerDatabase, freePort, type HavenProcess, type ServerDatabase, startHaven, waitForStripeEvents } from '../../support/haven-process';
import { startStripeStandIn, type StripeStandIn } from '../../support/stripe-stand-in';

/**
 * Everything a browser test talks to: a fresh PostgreSQL database and a real Haven process on
 * it (tsx from source, NODE_ENV=production, so staff sign in with a passkey), at
 * http://localhost:<port>, plus a Kysely handle to check outcomes in the
 * database. With `stripe: true`, the local Stripe stand-in too: Haven's SDK talks to it, its
 * checkout page's Pay button sends the signed webhook to Haven, which applies it a moment after
 * answering (waitForStripeEvents). Other stand-ins (SMTP) join here.
 */
export type Stack = {
  baseUrl: string;
  haven: HavenProcess;
  database: ServerDatabase;
  db: Db;
  stripe: StripeStandIn | undefined;
  /** Until Haven has applied every Stripe event it stored (the webhook answers before the effect). */
  waitForStripeEvents(): Promise<void>;
  stop(): Promise<void>;
};

export async function startStack(options: { env?: Record<string, string>; stripe?: boolean } = {}): Promise<Stack> {
  const database = await createServerDatabase('haven_e2e', adminUrl(process.env.E2E_DATABASE_URL));
  let haven: HavenProcess;
  let stripe: StripeStandIn | undefined;
  try {
    const port = await freePort();
    stripe = options.stripe ? await startStripeStandIn({ webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe` }) : undefined;
    // localhost, not 127.0.0.1: staff sign in with passkeys, and WebAuthn needs a host name.
    haven = await startHaven({ databaseUrl: database.url, mode: 'source', port, host: 'localhost', env: { ...stripe?.env, ...options.env } });
  } catch (error) {
    await stripe?.close();
    await database.drop();
    throw error;
  }
  const db = createKysely(database.url, 2);
  return {
    baseUrl: haven.url,
    haven,
    database,
    db,
    stripe,
    waitForStripeEvents: () => waitForStripeEvents(db, { timeoutMs: 30_000 }),
    async stop() {
      await db.destroy();
      await haven.stop();
      await stripe?.close();
      await database.drop();
    },
  };
}
