import type { Transaction } from 'kysely';
import type { Actor } from '../audit/audit';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import { lockFamily, setFamilyStatus } from '../families/families';
import { listMatches } from '../matching/matches';
import { addMonths } from '../calendar/dates';
import type { BirthMonth } from '../families/identities';
import { adultFromMonth, BASE_MONTHS } from './schedule-plan';
import { addComingOfAgePayee, createSupportSchedule } from './support-schedules';

/** The plausible arrival dates: never before the match was approved, at most `months` ahead of today (charity dates). */
export type ArrivalWindow = { today: string; months: number; dateOf(instant: Date): string };

/**
 * Staff record that a matched family has arrived: its status becomes `arrived` and its
 * support schedule is created, charged to the group of its approved match. `births` are the
 * members' birth months from the protected identity (readBirthMonths, audited by the caller):
 * each child who turns 18 during the schedule becomes their own payee from that month
 * (addComingOfAgePayee); those 18 by the first month are among the profile's adults, and more of
 * them than the profile's adults is refused, as it would leave an adult without their line.
 */
export async function recordArrival(
  trx: Transaction<Database>,
  actor: Actor,
  input: {
    familyId: number;
    arrivalOn: string;
    communityRates?: { annualIncomeSupportCents: number; startupCents: number };
    window?: ArrivalWindow;
    births?: readonly BirthMonth[];
    /** For the link in the coordinators' e-mail when a payee is added. */
    publicUrl?: string;
  },
): Promise<number> {
  const family = await lockFamily(trx, input.familyId);
  if (family.status !== 'matched') throw new DomainError('conflict', 'schedules:errors.notMatched');
  const match = (await listMatches(trx, { familyId: family.id })).find((m) => m.status === 'approved');
  if (!match) throw new DomainError('conflict', 'schedules:errors.noMatch');
  if (input.window) {
    const approvedOn = match.decidedAt ? input.window.dateOf(match.decidedAt) : undefined;
    const latest = addMonths(input.window.today, input.window.months);
    if (approvedOn && input.arrivalOn < approvedOn) {
      throw new DomainError('invalid', 'schedules:errors.beforeMatch', { arrivalOn: 'schedules:errors.beforeMatch' }, { on: approvedOn });
    }
    if (input.arrivalOn > latest) {
      throw new DomainError('invalid', 'schedules:errors.tooFarAhead', { arrivalOn: 'schedules:errors.tooFarAhead' }, { months: input.window.months, latest });
    }
  }
  const births = input.births ?? [];
  const adultsAtArrival = births.filter((b) => adultFromMonth(input.arrivalOn, b, BASE_MONTHS) === 1).length;
  if (adultsAtArrival > family.adults) {
    throw new DomainError('invalid', 'families:errors.birthAdults', { arrivalOn: 'families:errors.birthAdults' });
  }
  const scheduleId = await createSupportSchedule(trx, {
    familyId: family.id,
    groupId: match.groupId,
    arrivalOn: input.arrivalOn,
    adults: family.adults,
    familySize: family.size,
    communityRates: input.communityRates,
    actor,
  });
  // In birth order, so payees are numbered as the children come of age.
  const comingOfAge = births.filter((b) => adultFromMonth(input.arrivalOn, b, BASE_MONTHS) !== 1).sort((a, b) => a.year - b.year || a.month - b.month);
  for (const birth of comingOfAge) await addComingOfAgePayee(trx, { scheduleId, birth, actor, publicUrl: input.publicUrl ?? '' });
  await setFamilyStatus(trx, actor, family.id, 'arrived');
  return scheduleId;
}
