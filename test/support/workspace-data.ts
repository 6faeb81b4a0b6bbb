import type { Transaction } from 'kysely';
import type { Actor } from '../../server/audit/audit';
import { charityCalendar } from '../../server/calendar/charity-calendar';
import { addDays, addMonths } from '../../server/calendar/dates';
import type { Config } from '../../server/config';
import type { Db } from '../../server/db/database';
import type { Database } from '../../server/db/schema';
import type { FamilyKeyring } from '../../server/families/data-keys';
import { registerFamily, setFamilyStatus } from '../../server/families/families';
import { approveMatch, proposeMatch } from '../../server/matching/matches';
import { recordArrival } from '../../server/schedules/arrivals';
import { profile, SENTINELS } from '../families/factories';
import { makeGroup } from '../groups/factories';
import { reviewGroupPhoto, submitGroupPhoto } from '../../server/groups/photos';
import { sampleJpeg } from './photos';
import { readyGroup } from '../matching/factories';
import { makePledge } from './gifts';
import { giveAndReceive } from './receipted-gifts';

/**
 * Something on every staff page: a group applying and three ready ones; a family just referred,
 * one available with a match waiting for its second approval, one matched, one arrived months
 * ago (its schedule has overdue instalments); group photos approved and waiting; a received gift, a monthly cheque pledge with an
 * instalment overdue, a held Stripe event. Made through the modules' own functions, by two staff
 * accounts (the proposer cannot approve). Returns the ids the pages' paths need.
 */
export async function workspaceData(db: Db, config: Config, keyring: FamilyKeyring, staff: { proposer: Actor; approver: Actor }) {
  const today = charityCalendar(config.charityTimeZone).today();
  const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => db.transaction().execute(fn);
  const applied = await makeGroup(db, { name: 'Maple Street Neighbours' });
  const [matchedGroup, arrivedGroup, waitingGroup] = [await readyGroup(db, { familySize: 3 }), await readyGroup(db, { familySize: 3 }), await readyGroup(db, { familySize: 3 })];
  const family = (status?: 'available') =>
    tx(async (trx) => {
      const registered = await registerFamily(trx, keyring, staff.proposer, profile(), SENTINELS);
      return status ? setFamilyStatus(trx, staff.proposer, registered.id, status) : registered;
    });
  const referred = await family();
  const waiting = await family('available');
  const matched = await family('available');
  const arrived = await family('available');
  const waitingMatch = await tx((trx) => proposeMatch(trx, config, staff.proposer, { familyId: waiting.id, groupId: waitingGroup.id }));
  for (const [f, g] of [[matched, matchedGroup], [arrived, arrivedGroup]] as const) {
    const proposal = await tx((trx) => proposeMatch(trx, config, staff.proposer, { familyId: f.id, groupId: g.id }));
    await tx((trx) => approveMatch(trx, config, staff.approver, proposal.id));
  }
  const scheduleId = await tx((trx) => recordArrival(trx, staff.approver, { familyId: arrived.id, arrivalOn: addMonths(today, -3) }));

  // Group photos: the arrived group's page shows an approved one and has another waiting; the matched group's waits for staff.
  const photo = (groupId: number, altText: string) => tx((trx) => submitGroupPhoto(trx, staff.proposer, groupId, { bytes: sampleJpeg(640, 400), altText }));
  const shownPhoto = await photo(arrivedGroup.id, 'Our volunteers at the community centre');
  await tx((trx) => reviewGroupPhoto(trx, staff.approver, arrivedGroup.id, shownPhoto, 'approved'));
  await photo(arrivedGroup.id, 'Our volunteers in the park');
  await photo(matchedGroup.id, 'The group at its first meeting');

  const gift = await giveAndReceive(db, { email: 'soo-ah.kim@example.org', name: 'Soo-ah Kim', amountCents: 25_000, method: 'cheque' });
  const monthly = await makePledge(db, { method: 'etransfer', frequency: 'monthly', installments: 3, groupId: matchedGroup.id });
  await db
    .insertInto('pledge_installments')
    .values([1, 2, 3].map((seq) => ({ pledge_id: monthly, seq, due_on: addMonths(addDays(today, -10), seq - 1), amount_cents: 10_000 })))
    .execute();
  await db
    .insertInto('stripe_events')
    .values({ id: 'evt_tour_held', type: 'invoice.paid', object_id: 'in_tour', stripe_created_at: new Date(), payload: '{}', held_at: new Date(), held_reason: 'The event is in API version 2024-06-20, not the one Haven reads.' })
    .execute();
  return { applied, matchedGroup, arrivedGroup, waitingGroup, referred, waiting, matched, arrived, waitingMatch, scheduleId, gift, monthly };
}

export type WorkspaceData = Awaited<ReturnType<typeof workspaceData>>;

/** Every staff page (GET), with the ids of `workspaceData`. */
export function staffPages(d: WorkspaceData): string[] {
  return [
    '/staff',
    '/staff/gifts',
    `/staff/payments/${d.gift.paymentId}`,
    '/staff/pledges',
    `/staff/pledges/${d.gift.pledgeId}`,
    `/staff/pledges/${d.monthly}`,
    '/staff/installments/overdue',
    '/staff/donors',
    `/staff/donors/${d.gift.donorId}`,
    '/staff/receipts',
    '/staff/receipts/signature',
    '/staff/gifts/stripe-events',
    '/staff/groups',
    `/staff/groups/${d.applied.id}`,
    `/staff/groups/${d.matchedGroup.id}`,
    '/staff/matching/groups',
    '/staff/cost-tables',
    '/staff/families',
    '/staff/families/new',
    `/staff/families/${d.referred.id}`,
    `/staff/families/${d.referred.id}/suggestions`,
    `/staff/families/${d.waiting.id}`,
    `/staff/families/${d.matched.id}`,
    `/staff/families/${d.matched.id}/arrival`,
    `/staff/families/${d.arrived.id}`,
    '/staff/matches',
    `/staff/matches/${d.waitingMatch.id}`,
    '/staff/matching/assignment',
    '/staff/privacy',
    '/staff/schedules',
    `/staff/schedules/${d.scheduleId}`,
    '/staff/reports',
    '/staff/reports/gifts',
    '/staff/reports/funds',
    '/staff/reports/disbursements',
    '/staff/reports/journal',
    '/staff/reconciliation',
    '/staff/users',
    '/staff/invitations',
    '/staff/audit',
    '/staff/audit/mine',
  ];
}
