import { sql } from 'kysely';
import { addDays } from '../calendar/dates';
import type { Db } from '../db/database';
import { FAILING_AFTER_ATTEMPTS } from '../giving/stripe-event-queue';
import { countDuePerGiftReceipts, type ReceiptSettings } from '../receipts/issuing';
import { supportOverview } from '../schedules/schedule-queries';

/** One line of the staff to-do list: how many, and where the work is done. */
export type ToDoItem = { key: ToDoKey; count: number; href: string };

export const TO_DO_KEYS = [
  'applications',
  'groupPhotos',
  'matchesToApprove',
  'pledgesOverdue',
  'offlineThisWeek',
  'receiptsDue',
  'stripeEvents',
  'schedulesOverdue',
  'monthsShort',
] as const;
export type ToDoKey = (typeof TO_DO_KEYS)[number];

/**
 * The staff dashboard's to-do list, each count read from the module that owns the work, in the
 * order staff meet it: groups to vet (and the photos they offer for their pages), matches to approve, money to chase and record, receipts to
 * issue, Stripe events to look into, family support overdue or short of money. `today` is the
 * charity's date; "this week" is today and the six days after it.
 */
export async function staffToDo(db: Db, input: { today: string; receipts: Pick<ReceiptSettings, 'charityTimeZone' | 'clock'> }): Promise<{ items: ToDoItem[]; support: Awaited<ReturnType<typeof supportOverview>> }> {
  const { today } = input;
  const weekEnds = addDays(today, 6);
  const [counts, receiptsDue, support] = await Promise.all([
    db
      .selectNoFrom((eb) => [
        eb.selectFrom('sponsor_groups').select(sql<number>`count(*)::int`.as('n')).where('status', '=', 'applied').as('applications'),
        eb.selectFrom('group_photos').select(sql<number>`count(*)::int`.as('n')).where('status', '=', 'pending').as('groupPhotos'),
        eb.selectFrom('matches').select(sql<number>`count(*)::int`.as('n')).where('status', '=', 'proposed').as('matchesToApprove'),
        eb
          .selectFrom('pledge_installments')
          .innerJoin('pledges', 'pledges.id', 'pledge_installments.pledge_id')
          .select(sql<number>`count(distinct pledges.id)::int`.as('n'))
          .where('pledge_installments.status', '=', 'due')
          .where('pledge_installments.due_on', '<', today)
          .where('pledges.status', '=', 'active')
          .as('pledgesOverdue'),
        eb
          .selectFrom('pledge_installments')
          .innerJoin('pledges', 'pledges.id', 'pledge_installments.pledge_id')
          .select(sql<number>`count(*)::int`.as('n'))
          .where('pledge_installments.status', '=', 'due')
          .where('pledge_installments.due_on', '>=', today)
          .where('pledge_installments.due_on', '<=', weekEnds)
          .where('pledges.method', '!=', 'card')
          .where('pledges.status', '=', 'active')
          .as('offlineThisWeek'),
        eb
          .selectFrom('stripe_events')
          .select(sql<number>`count(*)::int`.as('n'))
          .where('processed_at', 'is', null)
          .where((w) => w.or([w('held_at', 'is not', null), w('attempts', '>=', FAILING_AFTER_ATTEMPTS)]))
          .as('stripeEvents'),
        eb
          .selectFrom('schedule_installments')
          .select(sql<number>`count(distinct schedule_id)::int`.as('n'))
          .where('status', 'in', ['due', 'partly_paid'])
          .where('due_on', '<', today)
          .as('schedulesOverdue'),
      ])
      .executeTakeFirstOrThrow(),
    countDuePerGiftReceipts(db, input.receipts),
    supportOverview(db, today),
  ]);
  const count = (n: number | null) => Number(n ?? 0);
  const items: ToDoItem[] = [
    { key: 'applications', count: count(counts.applications), href: '/staff/groups' },
    { key: 'groupPhotos', count: count(counts.groupPhotos), href: '/staff/groups#photos-title' },
    { key: 'matchesToApprove', count: count(counts.matchesToApprove), href: '/staff/matches' },
    { key: 'pledgesOverdue', count: count(counts.pledgesOverdue), href: '/staff/installments/overdue' },
    { key: 'offlineThisWeek', count: count(counts.offlineThisWeek), href: '/staff/pledges?status=active' },
    { key: 'receiptsDue', count: receiptsDue, href: '/staff/receipts' },
    { key: 'stripeEvents', count: count(counts.stripeEvents), href: '/staff/gifts/stripe-events' },
    { key: 'schedulesOverdue', count: count(counts.schedulesOverdue), href: '/staff/schedules' },
    { key: 'monthsShort', count: support.shortMonths.length, href: '/staff/schedules' },
  ];
  return { items, support };
}
