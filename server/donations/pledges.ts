import type { Transaction } from 'kysely';
import type { Database, PledgeMethod } from '../db/schema';
import { accounts } from '../ledger/accounts';
import { postTransaction } from '../ledger/ledger';

export type NewPledge = {
  campaignId: number;
  donorId: number;
  groupId: number | null;
  amountCents: number;
  feeCoverCents?: number;
  frequency: 'once' | 'monthly';
  installments: number | null;
  method: PledgeMethod;
  anonymous?: boolean;
  displayName?: string | null;
  publicMessage?: string | null;
};

/**
 * Creates a pledge. A pay-later pledge with a known total is posted to the pledged-but-unpaid
 * memo accounts at once; card pledges count only when Stripe confirms the money.
 */
export async function createPledge(trx: Transaction<Database>, input: NewPledge): Promise<number> {
  const perGift = input.amountCents + (input.feeCoverCents ?? 0);
  const count = input.frequency === 'once' ? 1 : input.installments;
  const committed = input.method !== 'card' && count !== null ? perGift * count : null;
  const { id } = await trx
    .insertInto('pledges')
    .values({
      campaign_id: input.campaignId,
      donor_id: input.donorId,
      group_id: input.groupId,
      amount_cents: input.amountCents,
      fee_cover_cents: input.feeCoverCents ?? 0,
      committed_cents: committed,
      frequency: input.frequency,
      installments: input.frequency === 'once' ? null : input.installments,
      method: input.method,
      status: input.method === 'card' ? 'pending' : 'active',
      anonymous: input.anonymous ?? false,
      display_name: input.displayName ?? null,
      public_message: input.publicMessage ?? null,
      updated_at: new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (committed !== null) {
    await postTransaction(trx, {
      kind: 'pledge_opened',
      description: `Pledge ${id} promised`,
      entries: [
        { account: accounts.receivable({ groupId: input.groupId }), amountCents: committed },
        { account: accounts.deferredPledges, amountCents: -committed },
      ],
    });
  }
  return id;
}

export async function lockPledge(trx: Transaction<Database>, pledgeId: number) {
  return trx.selectFrom('pledges').selectAll().where('id', '=', pledgeId).forUpdate().executeTakeFirst();
}
