import type { Transaction } from 'kysely';
import type { Actor } from '../audit/audit';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import { lockFamily, setFamilyStatus } from '../families/families';
import { listMatches } from '../matching/matches';
import { createSupportSchedule } from './support-schedules';

/**
 * Staff record that a matched family has arrived: its status becomes `arrived` and its
 * support schedule is created, charged to the group of its approved match.
 */
export async function recordArrival(
  trx: Transaction<Database>,
  actor: Actor,
  input: { familyId: number; arrivalOn: string; communityRates?: { annualIncomeSupportCents: number; startupCents: number } },
): Promise<number> {
  const family = await lockFamily(trx, input.familyId);
  if (family.status !== 'matched') throw new DomainError('conflict', 'Only a family with an approved match can be recorded as arrived.');
  const match = (await listMatches(trx, { familyId: family.id })).find((m) => m.status === 'approved');
  if (!match) throw new DomainError('conflict', 'This family has no approved match.');
  const scheduleId = await createSupportSchedule(trx, {
    familyId: family.id,
    groupId: match.groupId,
    arrivalOn: input.arrivalOn,
    adults: family.adults,
    familySize: family.size,
    communityRates: input.communityRates,
    actor,
  });
  await setFamilyStatus(trx, actor, family.id, 'arrived');
  return scheduleId;
}
