import { sql } from 'kysely';
import nodemailer from 'nodemailer';
import type { Config } from '../config';
import type { Db } from '../db/database';
import type { Logger } from '../logger';
import { renderEmail, type RenderedEmail } from './emails';
import type { EmailMessage } from './outbox';

export type MailTransport = { send(email: RenderedEmail): Promise<void> };

/** nodemailer over SMTP_URL, or, without it, the log (development and tests). */
export function createMailTransport(config: Pick<Config, 'smtpUrl' | 'mailFrom'>, logger: Logger): MailTransport {
  if (!config.smtpUrl) {
    return {
      async send(email) {
        logger.info({ mail: { to: email.to, subject: email.subject, text: email.text } }, 'e-mail (SMTP_URL unset, so logged instead of sent)');
      },
    };
  }
  const transporter = nodemailer.createTransport(config.smtpUrl);
  return {
    async send(email) {
      await transporter.sendMail({ from: config.mailFrom, to: email.to, subject: email.subject, text: email.text });
    },
  };
}

const MAX_ATTEMPTS = 8;
const LEASE_SECONDS = 300;

/** 30 s, 1 min, 2 min … capped at 6 hours. */
export function backoffSeconds(attempts: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempts - 1), 6 * 60 * 60);
}

/**
 * Delivers due outbox rows. Each batch is leased in a short transaction (claimed rows are
 * pushed LEASE_SECONDS ahead), sent outside any transaction, then marked sent or rescheduled
 * with backoff; after MAX_ATTEMPTS a row is marked failed. Safe with several app processes.
 */
export async function deliverDueEmails(db: Db, transport: MailTransport, logger: Logger, batchSize = 20): Promise<number> {
  const claimed = await db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('outbox')
      .select(['id', 'payload', 'attempts'])
      .where('sent_at', 'is', null)
      .where('failed_at', 'is', null)
      .where('next_attempt_at', '<=', sql<Date>`now()`)
      .orderBy('id')
      .limit(batchSize)
      .forUpdate()
      .skipLocked()
      .execute();
    if (rows.length > 0) {
      await trx
        .updateTable('outbox')
        .set({ attempts: sql`attempts + 1`, next_attempt_at: sql`now() + make_interval(secs => ${LEASE_SECONDS})` })
        .where('id', 'in', rows.map((r) => r.id))
        .execute();
    }
    return rows;
  });

  for (const row of claimed) {
    const attempts = row.attempts + 1;
    try {
      await transport.send(renderEmail(row.payload as EmailMessage));
      await db.updateTable('outbox').set({ sent_at: new Date(), last_error: null }).where('id', '=', row.id).execute();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const failed = attempts >= MAX_ATTEMPTS;
      await db
        .updateTable('outbox')
        .set({
          last_error: reason.slice(0, 500),
          failed_at: failed ? new Date() : null,
          next_attempt_at: sql`now() + make_interval(secs => ${backoffSeconds(attempts)})`,
        })
        .where('id', '=', row.id)
        .execute();
      logger.warn({ outboxId: row.id, attempts, failed }, `e-mail delivery failed: ${reason}`);
    }
  }
  return claimed.length;
}

/** Polls the outbox every intervalMs until stopped; stop() waits for the batch in progress. */
export function startDispatcher(db: Db, transport: MailTransport, logger: Logger, intervalMs = 2000) {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    running = running.then(() => (stopped ? 0 : deliverDueEmails(db, transport, logger))).catch((error: unknown) => {
      logger.warn({ err: error }, 'outbox dispatcher pass failed');
    });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** For staff (/staff/jobs): e-mails waiting to be sent, those given up on, and when the oldest waiting one was queued. */
export async function outboxStatus(db: Db): Promise<{ waiting: number; failed: number; oldestWaitingAt: Date | null }> {
  const row = await db
    .selectFrom('outbox')
    .select([
      sql<number>`(count(*) filter (where sent_at is null and failed_at is null))::int`.as('waiting'),
      sql<number>`(count(*) filter (where failed_at is not null))::int`.as('failed'),
      sql<Date | null>`min(created_at) filter (where sent_at is null and failed_at is null)`.as('oldestWaitingAt'),
    ])
    .where('sent_at', 'is', null)
    .executeTakeFirstOrThrow();
  return row;
}
