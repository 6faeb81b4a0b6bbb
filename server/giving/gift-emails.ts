import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import { queueEmail } from '../notifications/outbox';
import { monthlyCancelUrl } from './gift-links';

type LinkContext = { publicUrl: string };

/** A pledge and whom its e-mails greet, in which language: its own details, or its donor's record (pledge_donors). */
async function pledgeAndDonor(trx: Transaction<Database>, pledgeId: number) {
  return trx
    .selectFrom('pledges')
    .innerJoin('pledge_donors as pd', 'pd.pledge_id', 'pledges.id')
    .select(['pledges.id', 'pledges.amount_cents', 'pledges.fee_cover_cents', 'pledges.frequency', 'pledges.installments', 'pledges.method', 'pd.email', 'pd.name', 'pd.locale'])
    .where('pledges.id', '=', pledgeId)
    .executeTakeFirstOrThrow();
}

/** The card gift's confirmation; a monthly gift's carries the signed link that cancels it. */
export async function queueGiftConfirmation(trx: Transaction<Database>, ctx: LinkContext, pledgeId: number): Promise<void> {
  const p = await pledgeAndDonor(trx, pledgeId);
  await queueEmail(trx, {
    to: p.email,
    template: 'giving/gift-confirmed',
    locale: p.locale,
    data: {
      name: p.name,
      amountCents: p.amount_cents + p.fee_cover_cents,
      monthly: p.frequency === 'monthly',
      months: p.installments,
      cancelUrl: p.frequency === 'monthly' ? await monthlyCancelUrl(trx, ctx.publicUrl, p.id) : null,
    },
  });
}

/** Where pay-later gifts go (configuration: CHARITY_NAME, CHEQUE_MAILING_ADDRESS, ETRANSFER_EMAIL). */
export type PayLaterAddresses = { payee: string; chequeMailingAddress: string; eTransferEmail: string };

/** How to pay a pay-later pledge: the reference to write on the cheque or in the e-transfer message. */
export async function queuePledgeInstructions(trx: Transaction<Database>, pledgeId: number, payTo: PayLaterAddresses): Promise<void> {
  const p = await pledgeAndDonor(trx, pledgeId);
  await queueEmail(trx, {
    to: p.email,
    template: 'giving/pledge-instructions',
    locale: p.locale,
    data: {
      name: p.name,
      amountCents: p.amount_cents,
      monthly: p.frequency === 'monthly',
      months: p.installments,
      cheque: p.method === 'cheque',
      reference: pledgeReference(p.id),
      payee: payTo.payee,
      chequeMailingAddress: payTo.chequeMailingAddress,
      eTransferEmail: payTo.eTransferEmail,
    },
  });
}

/** What a donor writes on a cheque or in an e-transfer message so staff can match it to the pledge. */
export function pledgeReference(pledgeId: number): string {
  return `HAVEN-${pledgeId}`;
}
