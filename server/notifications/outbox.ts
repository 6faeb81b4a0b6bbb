import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import type { Locale } from '../i18n/i18n';

/**
 * An e-mail to send: `template` names views/emails/<template>.hbs (the body) and the
 * message key emails:<template>.subject; `data` fills both. Never put a family's identity here.
 */
export type EmailMessage = {
  to: string;
  template: string;
  locale: Locale;
  data: Record<string, unknown>;
};

/** Queues an e-mail in the caller's transaction: it is sent only if that transaction commits. */
export async function queueEmail(trx: Transaction<Database>, message: EmailMessage): Promise<void> {
  await queueEmails(trx, [message]);
}

/** Several at once, in one statement, in their order. */
export async function queueEmails(trx: Transaction<Database>, messages: EmailMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await trx
    .insertInto('outbox')
    .values(messages.map((m) => ({ kind: 'email', payload: JSON.stringify(m) })))
    .execute();
}
