import { sql } from 'kysely';
import type { Db } from '../db/database';
import { queueEmail } from '../notifications/outbox';

/** Overdue instalments are reminded at most once a week each. */
const REMIND_EVERY_DAYS = 7;

/**
 * E-mails each coordinator of a group with overdue instalments (nothing about the family in
 * the e-mail: counts, amounts and a link), and marks the instalments reminded. Returns how
 * many e-mails were queued.
 */
export async function remindOverdueInstallments(db: Db, today: string, publicUrl: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('schedule_installments')
      .innerJoin('support_schedules', 'support_schedules.id', 'schedule_installments.schedule_id')
      .select([
        'support_schedules.group_id',
        sql<number>`count(*)::bigint`.as('count'),
        sql<number>`sum(schedule_installments.amount_cents - schedule_installments.paid_cents)::bigint`.as('total'),
        sql<number[]>`array_agg(schedule_installments.id)`.as('ids'),
      ])
      .where('schedule_installments.status', 'in', ['due', 'partly_paid'])
      .where('schedule_installments.due_on', '<', today)
      .where((eb) => eb.or([eb('schedule_installments.reminded_at', 'is', null), eb('schedule_installments.reminded_at', '<', sql<Date>`now() - make_interval(days => ${REMIND_EVERY_DAYS})`)]))
      .groupBy('support_schedules.group_id')
      .execute();
    let queued = 0;
    for (const group of due) {
      const coordinators = await trx
        .selectFrom('group_members')
        .select(['name', 'email'])
        .where('group_id', '=', group.group_id)
        .where('role', '=', 'coordinator')
        .where('removed_at', 'is', null)
        .execute();
      for (const coordinator of coordinators) {
        await queueEmail(trx, {
          to: coordinator.email,
          template: 'schedules/overdue',
          locale: 'en',
          data: { name: coordinator.name, count: group.count, totalCents: group.total, scheduleUrl: `${publicUrl}/group/schedule` },
        });
        queued += 1;
      }
      await trx.updateTable('schedule_installments').set({ reminded_at: new Date() }).where('id', 'in', group.ids.map(Number)).execute();
    }
    return queued;
  });
}
