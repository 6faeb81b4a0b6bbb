import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import { queueEmail, queueEmails } from '../notifications/outbox';
import { monthlyCancelUrl } from './gift-links';

type LinkContext = { publicUrl: string };

/** A pledge and whom its e-mails greet, in which language: its own details, or its donor's record (pledge_donors). */
async function pledgeAndDonor(trx: Transaction<Database>, pledgeId: number) {
  return (await pledgesAndDonors(trx, [pledgeId]))[0]!;
}

/** The same for several pledges (one statement), in their order; throws if one is missing. */
async function pledgesAndDonors(trx: Transaction<Database>, pledgeIds: number[]) {
  const rows = await trx
    .selectFrom('pledges')
    .innerJoin('pledge_donors as pd', 'pd.pledge_id', 'pledges.id')
    .select(['pledges.id', 'pledges.amount_cents', 'pledges.fee_cover_cents', 'pledges.frequency', 'pledges.installments', 'pledges.method', 'pd.email', 'pd.name', 'pd.locale'])
    .where('pledges.id', 'in', pledgeIds)
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return pledgeIds.map((id) => {
    const row = byId.get(id);
    if (!row) throw new Error(`pledge ${id} has no donor details`);
    return row;
  });
}

/** The card gift's confirmation; a monthly gift's carries the signed link that cancels it. */
export async function queueGiftConfirmation(trx: Transaction<Database>, ctx: LinkContext, pledgeId: number): Promise<void> {
  await queueGiftConfirmations(trx, ctx, [pledgeId]);
}

/** The same for several gifts: one statement reads them, one queues the e-mails (in the pledges' order). */
export async function queueGiftConfirmations(trx: Transaction<Database>, ctx: LinkContext, pledgeIds: number[]): Promise<void> {
  if (pledgeIds.length === 0) return;
  const messages = [];
  for (const p of await pledgesAndDonors(trx, pledgeIds)) {
    messages.push({
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
  await queueEmails(trx, messages);
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
