import type { Db } from '../../server/db/database';
import { applyForGroup, approveGroup } from '../../server/groups/applications';
import { recordCheck } from '../../server/groups/readiness';
import { SETTLEMENT_AREAS, savePlan } from '../../server/groups/settlement-plan';
import { accounts } from '../../server/ledger/accounts';
import { postTransaction } from '../../server/ledger/ledger';
import { recordSupportOffers } from '../../server/matching/candidates';
import { staffA } from '../families/factories';

let counter = 0;

/**
 * A sponsor group that meets the whole readiness checklist, made through the groups module's
 * own functions: applied, approved, every settlement area assigned, checks done, and funds
 * (a gift posted to its fund through the ledger) of `fundsCents`.
 */
export async function readyGroup(
  db: Db,
  options: { familySize?: number; province?: 'ON' | 'QC' | 'BC'; languages?: string[]; fundsCents?: number; offers?: boolean } = {},
): Promise<{ id: number; slug: string }> {
  counter += 1;
  return db.transaction().execute(async (trx) => {
    const group = await applyForGroup(trx, {
      name: `Ready Group ${counter} ${Math.random().toString(36).slice(2, 7)}`,
      city: 'Toronto',
      province: options.province ?? 'ON',
      coordinatorName: `Coordinator ${counter}`,
      coordinatorEmail: `coordinator${counter}@example.test`,
      languages: options.languages ?? ['ko', 'en'],
      familySize: options.familySize ?? 4,
      story: '',
      locale: 'en',
    });
    await approveGroup(trx, staffA, group.id, 'http://haven.test');
    const coordinator = await trx.selectFrom('group_members').select('id').where('group_id', '=', group.id).executeTakeFirstOrThrow();
    await savePlan(trx, group.id, Object.fromEntries(SETTLEMENT_AREAS.map((a) => [a, [coordinator.id]])));
    await recordCheck(trx, staffA, group.id, 'training', true, '');
    await recordCheck(trx, staffA, group.id, 'background_checks', true, '');
    await postTransaction(trx, {
      kind: 'test_gift',
      description: `test funds for group ${group.id}`,
      entries: [
        { account: accounts.bank, amountCents: options.fundsCents ?? 4_000_000 },
        { account: accounts.fund({ groupId: group.id }), amountCents: -(options.fundsCents ?? 4_000_000) },
      ],
    });
    if (options.offers !== false) {
      await recordSupportOffers(trx, staffA, group.id, { sgbvInformedSupport: true, medicalSupport: true, traumaInformedSupport: true });
    }
    return group;
  });
}
