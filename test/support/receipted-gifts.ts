import { PDFParse } from 'pdf-parse';
import type { Db } from '../../server/db/database';
import { upsertDonor } from '../../server/giving/donors';
import { recordPayment } from '../../server/giving/payments';
import { createPledge } from '../../server/giving/pledges';

export type Gift = {
  email: string;
  name?: string;
  locale?: 'en' | 'fr';
  frequency?: 'once' | 'monthly';
  amountCents: number;
  receivedAt?: Date;
  method?: 'card' | 'cheque' | 'etransfer';
  groupId?: number | null;
  feeCents?: number;
};

/** A donor (with a receipt address), a pledge and its payment, through the giving module. */
export async function giveAndReceive(db: Db, gift: Gift): Promise<{ donorId: number; pledgeId: number; paymentId: number }> {
  const campaign = await db.selectFrom('campaigns').select('id').orderBy('id').executeTakeFirstOrThrow();
  return db.transaction().execute(async (trx) => {
    const donorId = await upsertDonor(trx, {
      email: gift.email,
      name: gift.name ?? 'Min-ji Park',
      addressLine1: '100 Queen Street West',
      city: 'Ottawa',
      province: 'ON',
      postalCode: 'K1P 1J9',
      locale: gift.locale ?? 'en',
    });
    const method = gift.method ?? 'etransfer';
    const pledgeId = await createPledge(trx, {
      campaignId: campaign.id,
      donorId,
      groupId: gift.groupId ?? null,
      amountCents: gift.amountCents,
      frequency: gift.frequency ?? 'once',
      installments: gift.frequency === 'monthly' ? 12 : null,
      method,
    });
    const paymentId = await recordPayment(trx, {
      pledgeId,
      amountCents: gift.amountCents,
      feeCents: gift.feeCents,
      method,
      receivedAt: gift.receivedAt ?? new Date(),
    });
    return { donorId, pledgeId, paymentId };
  });
}

/** A further payment on an existing pledge (monthly gifts). */
export async function receiveAgain(db: Db, pledgeId: number, amountCents: number, receivedAt: Date, method: 'card' | 'cheque' | 'etransfer' = 'etransfer') {
  return db.transaction().execute((trx) => recordPayment(trx, { pledgeId, amountCents, method, receivedAt }));
}

/** The text of a PDF, as a reader would extract it (whitespace collapsed, no-break spaces as spaces). */
export async function pdfText(pdf: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(pdf) });
  try {
    const result = await parser.getText();
    return result.text.replace(/[\u00a0\u202f]/g, ' ').replace(/\s+/g, ' ');
  } finally {
    await parser.destroy();
  }
}
