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
  await trx.insertInto('outbox').values({ kind: 'email', payload: JSON.stringify(message) }).execute();
}
