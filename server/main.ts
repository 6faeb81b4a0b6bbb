import type { Server } from 'node:http';
import { pruneExpiredAccountsData } from './accounts/housekeeping';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from './db/database';
import { migrateToLatest } from './db/migrator';
import { applyIdentityRetention, retentionSettings } from './families/retention';
import { createLogger } from './logger';
import { charityCalendar } from './calendar/charity-calendar';
import { remindOverdueInstallments } from './schedules/reminders';
import { expireHolds } from './matching/matches';
import { createMailTransport, startDispatcher } from './notifications/dispatcher';
import { createStripeEventProcessor } from './giving/stripe-event-queue';
import { webhookContext } from './giving/stripe-webhooks';

const SHUTDOWN_GRACE_MS = 10_000;

async function main() {
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  const database = await openDatabase(config, logger);
  await migrateToLatest(database.db);

  // Stripe webhook events are stored by the endpoint and applied here (card giving on only).
  // Embedded PGlite: one event at a time (its socket server mixes up statements sent on several
  // connections while one of them is in a transaction).
  const stripeContext = webhookContext({ config, db: database.db, logger });
  const stripeEvents = stripeContext ? createStripeEventProcessor(stripeContext, { concurrency: database.mode === 'embedded' ? 1 : undefined }) : undefined;
  const app = createApp({ config, db: database.db, logger, stripeEvents });
  stripeEvents?.start();
  if (!config.smtpUrl) logger.warn('SMTP_URL is not set: e-mails are written to the log, not sent');
  const dispatcher = startDispatcher(database.db, createMailTransport(config, logger), logger);
  const housekeeping = setInterval(() => {
    pruneExpiredAccountsData(database.db).catch((error: unknown) => logger.warn({ err: error }, 'pruning expired sessions failed'));
  }, 60 * 60 * 1000);
  housekeeping.unref();
  // Match holds also expire lazily on every matching read; this catches them when nobody looks.
  const holdExpiry = setInterval(() => {
    database.db
      .transaction()
      .execute((trx) => expireHolds(trx, config))
      .catch((error: unknown) => logger.warn({ err: error }, 'expiring match holds failed'));
  }, 15 * 60_000);
  holdExpiry.unref();
  const overdueReminders = setInterval(() => {
    remindOverdueInstallments(database.db, charityCalendar(config.charityTimeZone).today(), config.publicUrl).catch((error: unknown) => logger.warn({ err: error }, 'overdue reminders failed'));
  }, 60 * 60 * 1000);
  overdueReminders.unref();
  // Families' identities are deleted a configured period after their support ends (warned 30 days before).
  const runIdentityRetention = () => {
    applyIdentityRetention(database.db, retentionSettings(config), charityCalendar(config.charityTimeZone).today())
      .then((run) => {
        if (run.purged.length || run.warned.length) logger.info({ purgedFamilyIds: run.purged, warnedFamilyIds: run.warned }, 'family identity retention');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'family identity retention failed'));
  };
  const identityRetention = setInterval(runIdentityRetention, 60 * 60 * 1000);
  identityRetention.unref();
  setTimeout(runIdentityRetention, 60_000).unref();
  const server: Server = app.listen(config.port, () => {
    logger.info({ port: config.port, database: database.mode }, `Haven is serving ${config.publicUrl}`);
  });
  server.on('error', (error) => {
    logger.fatal({ err: error }, 'the HTTP server failed');
    process.exit(1);
  });

  // Stop accepting, let in-flight requests finish, then close the pool (and PGlite).
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.warn('in-flight requests did not finish in time; closing anyway');
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close(async () => {
      clearInterval(housekeeping);
      clearInterval(holdExpiry);
      clearInterval(identityRetention);
      await stripeEvents?.stop();
      await dispatcher.stop();
      await database.close();
      logger.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  // One line naming the problem; no stack trace for a configuration mistake.
  console.error(error instanceof ConfigError ? error.message : `Haven failed to start: ${(error as Error).message}`);
  process.exit(1);
});
