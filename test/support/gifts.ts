import type { Db } from '../../server/db/database';
import { upsertDonor } from '../../server/giving/donors';
import { recordPayment } from '../../server/giving/payments';
import { createPledge, type NewPledge } from '../../server/giving/pledges';

let counter = 0;

/** A pledge made through the giving module, as the giving page would make it. */
export async function makePledge(db: Db, overrides: Partial<NewPledge> & { email?: string } = {}): Promise<number> {
  const campaign = await db.selectFrom('campaigns').select('id').orderBy('id').executeTakeFirstOrThrow();
  counter += 1;
  return db.transaction().execute(async (trx) => {
    const donorId = await upsertDonor(trx, { email: overrides.email ?? `donor${counter}@example.org`, name: `Donor ${counter}` });
    return createPledge(trx, {
      campaignId: campaign.id,
      donorId,
      groupId: null,
      amountCents: 10_000,
      frequency: 'once',
      installments: null,
      method: 'cheque',
      ...overrides,
    });
  });
}

export async function receive(db: Db, pledgeId: number, amountCents: number, extra: { feeCents?: number; method?: 'card' | 'cheque' | 'etransfer'; reference?: string } = {}) {
  return db.transaction().execute((trx) =>
    recordPayment(trx, { pledgeId, amountCents, method: extra.method ?? 'cheque', feeCents: extra.feeCents, reference: extra.reference ?? null, receivedAt: new Date() }),
  );
}
