import type { Clock } from './calendar/charity-calendar';
import type { Config } from './config';
import type { Db } from './db/database';
import type { StripeEventProcessor } from './giving/stripe-event-queue';
import type { Logger } from './logger';

/**
 * What the application is built from (createApp in app.ts) and what route modules receive. It
 * lives apart from app.ts so that the route modules app.ts imports can name it without an import loop.
 */
export type AppDeps = {
  config: Config;
  db: Db;
  logger: Logger;
  /** What time it is (the system clock unless a test stands somewhere else): the charity's calendar reads it. */
  clock?: Clock;
  /** The Stripe event processor to nudge when a webhook stores an event (main.ts starts it); without one, events wait in the queue. */
  stripeEvents?: Pick<StripeEventProcessor, 'nudge'>;
  /**
   * Where the public pages read (the campaign page, /api/campaign, the group list and pages, the
   * donor wall): a streaming replica (DATABASE_READ_URL), or db when there is none. Never for
   * money, sessions, or anything a signed-in person changes: those read db, the primary.
   */
  readDb?: Db;
};
