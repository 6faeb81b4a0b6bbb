import { sql, type Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';

/**
 * Two records of one person become one: the pledges (and so their gifts, instalments and the
 * payments receipts cover) move to the record kept; the other record stays, marked merged into it,
 * so its e-mail still leads there. Receipts are records of what was issued and keep the record
 * they were issued to: pages and the donor's own page list them through donorRecordIds. Money
 * does not move: no ledger entry changes, so every total stays the same. A merge is undone by
 * moving back exactly the pledges it moved (donor_merges.pledge_ids); both steps are audited.
 */
type Trx = Transaction<Database>;

export async function mergeDonors(trx: Trx, input: { fromDonorId: number; intoDonorId: number; reason: string; actor: Actor }): Promise<number> {
  if (input.fromDonorId === input.intoDonorId) throw new DomainError('invalid', 'giving:errors.mergeSelf');
  const rows = await trx
    .selectFrom('donors')
    .select(['id', 'merged_into_donor_id'])
    .where('id', 'in', [input.fromDonorId, input.intoDonorId])
    .orderBy('id')
    .forUpdate()
    .execute();
  if (rows.length !== 2) throw new DomainError('not_found', 'giving:errors.noDonor');
  if (rows.some((r) => r.merged_into_donor_id !== null)) throw new DomainError('conflict', 'giving:errors.alreadyMerged');
  const moved = await trx.updateTable('pledges').set({ donor_id: input.intoDonorId, updated_at: new Date() }).where('donor_id', '=', input.fromDonorId).returning('id').execute();
  const pledgeIds = moved.map((r) => r.id);
  await trx.updateTable('donors').set({ merged_into_donor_id: input.intoDonorId, updated_at: new Date() }).where('id', '=', input.fromDonorId).execute();
  const { id } = await trx
    .insertInto('donor_merges')
    .values({ from_donor_id: input.fromDonorId, into_donor_id: input.intoDonorId, pledge_ids: pledgeIds, reason: input.reason, merged_by_user_id: input.actor.userId })
    .returning('id')
    .executeTakeFirstOrThrow();
  await writeAudit(trx, {
    actor: input.actor,
    action: 'donor.merged',
    subject: `donor:${input.intoDonorId}`,
    details: { mergeId: id, fromDonorId: input.fromDonorId, intoDonorId: input.intoDonorId, pledgeIds, reason: input.reason },
  });
  return id;
}

export async function undoDonorMerge(trx: Trx, input: { mergeId: number; actor: Actor; reason: string }): Promise<{ fromDonorId: number; intoDonorId: number }> {
  const merge = await trx.selectFrom('donor_merges').selectAll().where('id', '=', input.mergeId).forUpdate().executeTakeFirst();
  if (!merge) throw new DomainError('not_found', 'giving:errors.noMerge');
  if (merge.undone_at) throw new DomainError('conflict', 'giving:errors.mergeUndone');
  const into = Number(merge.into_donor_id);
  const from = Number(merge.from_donor_id);
  const laterMerge = await trx.selectFrom('donors').select('merged_into_donor_id').where('id', '=', into).executeTakeFirstOrThrow();
  if (laterMerge.merged_into_donor_id !== null) throw new DomainError('conflict', 'giving:errors.keptMergedSince');
  const pledgeIds = (merge.pledge_ids as unknown as (string | number)[]).map(Number);
  if (pledgeIds.length > 0) {
    await trx.updateTable('pledges').set({ donor_id: from, updated_at: new Date() }).where('id', 'in', pledgeIds).where('donor_id', '=', into).execute();
  }
  await trx.updateTable('donors').set({ merged_into_donor_id: null, updated_at: new Date() }).where('id', '=', from).execute();
  await trx.updateTable('donor_merges').set({ undone_at: sql<Date>`now()`, undone_by_user_id: input.actor.userId }).where('id', '=', merge.id).execute();
  await writeAudit(trx, {
    actor: input.actor,
    action: 'donor.merge_undone',
    subject: `donor:${into}`,
    details: { mergeId: merge.id, fromDonorId: from, intoDonorId: into, pledgeIds, reason: input.reason },
  });
  return { fromDonorId: from, intoDonorId: into };
}
