import { type Selectable, sql, type Transaction } from 'kysely';
import type { Database, PledgeMethod, PledgesTable } from '../db/schema';
import { DomainError } from '../domain-error';
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

export type LockedPledge = Selectable<PledgesTable>;

export async function lockPledge(trx: Transaction<Database>, pledgeId: number): Promise<LockedPledge | undefined> {
  return trx.selectFrom('pledges').selectAll().where('id', '=', pledgeId).forUpdate().executeTakeFirst();
}

/**
 * What a pledge still counts in the pledged-but-unpaid memo (receivable:* against deferred:pledges)
 * once `receivedCents` is in force: the promised total less what arrived, and nothing once the
 * pledge is cancelled or lapsed (or open-ended). The ledger holds exactly this after every change.
 */
export function openPledgeCents(pledge: Pick<LockedPledge, 'committed_cents' | 'status'>, receivedCents: number): number {
  if (pledge.committed_cents === null || pledge.status === 'cancelled' || pledge.status === 'lapsed') return 0;
  return Math.max(0, pledge.committed_cents - receivedCents);
}

/**
 * A pledge ends unpaid (`cancelled`: the donor or staff stopped it; `lapsed`: the money never
 * came): its due instalments are cancelled and, in the same transaction, what it still promised
 * leaves the pledged-but-unpaid memo, so the public bar stops counting it. Returns the cents
 * released (0 when it had nothing open, or had already ended).
 */
export async function endPledge(trx: Transaction<Database>, input: { pledgeId: number; status: 'cancelled' | 'lapsed'; at: Date }): Promise<number> {
  const pledge = await lockPledge(trx, input.pledgeId);
  if (!pledge) throw new DomainError('not_found', 'giving:errors.noPledge', {}, { id: input.pledgeId });
  if (pledge.status === 'cancelled' || pledge.status === 'lapsed') return 0;
  const { received } = await trx
    .selectFrom('payments')
    .select(sql<number>`coalesce(sum(amount_cents), 0)::bigint`.as('received'))
    .where('pledge_id', '=', pledge.id)
    .where('status', '<>', 'voided')
    .executeTakeFirstOrThrow();
  const open = openPledgeCents(pledge, received);
  await trx.updateTable('pledges').set({ status: input.status, ended_at: input.at, updated_at: input.at }).where('id', '=', pledge.id).execute();
  await trx.updateTable('pledge_installments').set({ status: 'cancelled' }).where('pledge_id', '=', pledge.id).where('status', '=', 'due').execute();
  if (open > 0) {
    await postTransaction(trx, {
      kind: 'pledge_released',
      description: `Pledge ${pledge.id} ${input.status}: unpaid remainder released`,
      entries: [
        { account: accounts.receivable({ groupId: pledge.group_id }), amountCents: -open },
        { account: accounts.deferredPledges, amountCents: open },
      ],
    });
  }
  return open;
}
