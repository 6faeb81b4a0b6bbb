import { sql } from 'kysely';
import { mondayOf } from '../calendar/dates';
import type { Db } from '../db/database';
import { isLocale } from '../i18n/i18n';
import { queueEmail } from '../notifications/outbox';

/** Overdue instalments are reminded at most once a week each. */
const REMIND_EVERY_DAYS = 7;

/**
 * E-mails each coordinator of a group with overdue instalments (nothing about the family in
 * the e-mail: counts, amounts and a link), in the coordinator's language (users.locale, English
 * for a coordinator with no account yet), and marks the instalments reminded. Returns how many
 * e-mails were queued.
 *
 * Idempotent across overlapping runs (two processes, or a run and a retry): each e-mail is queued
 * only with a new overdue_reminders row keyed by coordinator and week (the Monday of `today`), so a
 * second run that selected the same instalments blocks on that key until the first commits, then
 * skips the coordinator. Groups and coordinators are taken in id order, so two runs wait on each
 * other rather than deadlock.
 */
export async function remindOverdueInstallments(db: Db, today: string, publicUrl: string): Promise<number> {
  const weekOf = mondayOf(today);
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
      .orderBy('support_schedules.group_id')
      .execute();
    let queued = 0;
    for (const group of due) {
      const coordinators = await trx
        .selectFrom('group_members')
        .leftJoin('users', 'users.id', 'group_members.user_id')
        .select(['group_members.id', 'group_members.name', 'group_members.email', 'users.locale'])
        .where('group_members.group_id', '=', group.group_id)
        .where('group_members.role', '=', 'coordinator')
        .where('group_members.removed_at', 'is', null)
        .orderBy('group_members.id')
        .execute();
      for (const coordinator of coordinators) {
        const first = await trx
          .insertInto('overdue_reminders')
          .values({ group_member_id: coordinator.id, week_of: weekOf })
          .onConflict((oc) => oc.doNothing())
          .returning('group_member_id')
          .executeTakeFirst();
        if (!first) continue; // reminded this week already (by an overlapping run, or earlier)
        await queueEmail(trx, {
          to: coordinator.email,
          template: 'schedules/overdue',
          locale: isLocale(coordinator.locale) ? coordinator.locale : 'en',
          data: { name: coordinator.name, count: group.count, totalCents: group.total, scheduleUrl: `${publicUrl}/group/schedule` },
        });
        queued += 1;
      }
      await trx.updateTable('schedule_installments').set({ reminded_at: new Date() }).where('id', 'in', group.ids.map(Number)).execute();
    }
    return queued;
  });
}
