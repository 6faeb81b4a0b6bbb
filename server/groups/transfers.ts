import { sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import { accounts } from '../ledger/accounts';
import { balancesOf, postTransaction } from '../ledger/ledger';

/** What the general fund can still spend: -(fund:general + expense:general). */
export async function generalFundAvailable(trx: Db | Transaction<Database>): Promise<number> {
  const general = { groupId: null };
  const b = await balancesOf(trx, [accounts.fund(general), accounts.expenses(general)]);
  return 0 - ((b.get(accounts.fund(general)) ?? 0) + (b.get(accounts.expenses(general)) ?? 0));
}

/**
 * Staff allocate money from the general fund to a group's fund: a ledger transfer between the
 * two fund accounts (fund:general +X, fund:group:<id> −X), never more than the general fund has.
 */
export async function transferToGroup(trx: Transaction<Database>, actor: Actor, groupId: number, amountCents: number): Promise<number> {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) throw new DomainError('invalid', 'groups:errors.amountRange');
  const group = await trx.selectFrom('sponsor_groups').select(['id', 'status']).where('id', '=', groupId).executeTakeFirst();
  if (!group) throw new DomainError('not_found', 'groups:errors.notFound');
  if (group.status !== 'approved') throw new DomainError('conflict', 'groups:errors.notApproved');
  // One allocation at a time, so two cannot both spend the same available balance.
  await sql`select pg_advisory_xact_lock(hashtext('fund:general'))`.execute(trx);
  const available = await generalFundAvailable(trx);
  if (amountCents > available) throw new DomainError('conflict', 'groups:errors.generalFundShort', { amount: 'groups:errors.generalFundShort' });
  const transactionId = await postTransaction(trx, {
    kind: 'fund_transfer',
    description: `General fund to group ${groupId}`,
    entries: [
      { account: accounts.fund({ groupId: null }), amountCents },
      { account: accounts.fund({ groupId }), amountCents: -amountCents },
    ],
  });
  await writeAudit(trx, { actor, action: 'group.funds_transferred', subject: `group:${groupId}`, details: { amountCents, transactionId } });
  return transactionId;
}
