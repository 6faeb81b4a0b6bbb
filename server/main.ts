import type { Server } from 'node:http';
import { createApp } from './app';
import { startCommandChannel } from './commands/control-server';
import { ConfigError, loadConfig, withDotEnv } from './config';
import { openDatabase } from './db/database';
import { DataDirBusyError } from './db/data-dir-lock';
import { migrateToLatest } from './db/migrator';
import { createHttpServer } from './http/http-server';
import { periodicJobs } from './jobs/periodic';
import { startScheduler } from './jobs/scheduler';
import { createLogger } from './logger';
import { createMailTransport, startDispatcher } from './notifications/dispatcher';
import { createStripeEventProcessor } from './giving/stripe-event-queue';
import { webhookContext } from './giving/stripe-webhooks';

const SHUTDOWN_GRACE_MS = 10_000;

async function main() {
  const config = loadConfig(withDotEnv(process.env));
  const logger = createLogger(config);
  const database = await openDatabase(config, logger);
  await migrateToLatest(database.db);

  // Stripe webhook events are stored by the endpoint and applied here (card giving on only).
  // Embedded PGlite: one event at a time (its socket server mixes up statements sent on several
  // connections while one of them is in a transaction).
  const stripeContext = webhookContext({ config, db: database.db, logger });
  const stripeEvents = stripeContext ? createStripeEventProcessor(stripeContext, { concurrency: database.mode === 'embedded' ? 1 : undefined }) : undefined;
  const app = createApp({ config, db: database.db, readDb: database.readDb, logger, stripeEvents });
  stripeEvents?.start();
  if (!config.smtpUrl) logger.warn('SMTP_URL is not set: e-mails are written to the log, not sent');
  const dispatcher = startDispatcher(database.db, createMailTransport(config, logger), logger);
  // Pruning, hold expiry, overdue reminders and identity retention: each once across every process on this database.
  const scheduler = startScheduler(database.db, periodicJobs({ db: database.db, config, logger }), logger, { pollSeconds: config.jobsPollSeconds });
  // Embedded: npm run create-staff / seed / migrate reach this process's database through it (DATA_DIR is locked).
  const commands = database.dataDirLock ? await startCommandChannel({ db: database.db, config, logger }) : undefined;
  if (commands) database.dataDirLock?.update({ control: { port: commands.port, token: commands.token, publicUrl: config.publicUrl } });
  const server: Server = createHttpServer(app).listen(config.port, () => {
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
      await scheduler.stop();
      await commands?.close();
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
  if (error instanceof DataDirBusyError) {
    const holder = error.current.holder === 'server' ? `Haven is already running on ${error.dataDir}` : `${error.dataDir} is in use by \`${error.current.holder}\``;
    console.error(`${holder} (pid ${error.current.pid}): stop it first, or give this server its own DATA_DIR.`);
  } else {
    console.error(error instanceof ConfigError ? error.message : `Haven failed to start: ${(error as Error).message}`);
  }
  process.exit(1);
});
