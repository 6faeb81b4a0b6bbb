import type { Transaction } from 'kysely';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import { addDays, addMonths } from '../calendar/dates';
import type { PlannedInstallment } from './schedule-plan';

/** What every change to a support schedule checks first (support-schedules.ts, instalments.ts, extensions.ts). */
export type Trx = Transaction<Database>;

export async function insertInstallments(trx: Trx, scheduleId: number, payeeIds: Map<string, number>, lines: PlannedInstallment[]) {
  if (lines.length === 0) return;
  await trx
    .insertInto('schedule_installments')
    .values(
      lines.map((l) => ({
        schedule_id: scheduleId,
        payee_id: payeeIds.get(l.payeeKey)!,
        kind: l.kind,
        month_index: l.monthIndex,
        due_on: l.dueOn,
        amount_cents: l.amountCents,
        // Nothing to pay (community rates of $0): settled from the start, never overdue.
        status: l.amountCents === 0 ? ('waived' as const) : ('due' as const),
      })),
    )
    .execute();
}
export async function lockSchedule(trx: Trx, scheduleId: number) {
  const schedule = await trx.selectFrom('support_schedules').selectAll().where('id', '=', scheduleId).forUpdate().executeTakeFirst();
  if (!schedule) throw new DomainError('not_found', 'schedules:errors.noSchedule');
  return schedule;
}

/** A date a schedule event takes effect on must fall inside the schedule: from arrival to its last month's end. */
export function requireInsideSchedule(schedule: { arrival_on: string; months: number }, field: string, on: string) {
  const end = addMonths(schedule.arrival_on, schedule.months);
  if (on < schedule.arrival_on || on >= end) {
    throw new DomainError('invalid', 'schedules:errors.outsideSchedule', { [field]: 'schedules:errors.outsideSchedule' }, { from: schedule.arrival_on, to: addDays(end, -1) });
  }
}

/** Who may act on a schedule: staff, or a member of the schedule's own group. */
export type ScheduleScope = { groupId: number } | 'staff';

export function assertScope(scope: ScheduleScope, groupId: number) {
  if (scope !== 'staff' && scope.groupId !== groupId) throw new DomainError('forbidden', 'schedules:errors.otherGroup');
}
