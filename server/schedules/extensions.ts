import { sql } from 'kysely';
import type { Actor } from '../audit/audit';
import { writeAudit } from '../audit/audit';
import { type Db, isAnyOf } from '../db/database';
import { DomainError } from '../domain-error';
import { BASE_MONTHS, MAX_MONTHS, monthlyLines } from './schedule-plan';
import { assertScope, insertInstallments, lockSchedule, type ScheduleScope, type Trx } from './schedule-rules';

/** Support beyond the first year: a group requests more months, staff decide, and the group's requirement grows. */
export async function requestExtension(trx: Trx, input: { scheduleId: number; months: number; reason: string; actor: Actor; scope: ScheduleScope }): Promise<number> {
  const schedule = await lockSchedule(trx, input.scheduleId);
  assertScope(input.scope, schedule.group_id);
  if (schedule.months + input.months > MAX_MONTHS) {
    throw new DomainError('invalid', 'schedules:errors.tooLong', { months: 'schedules:errors.atMostMore' }, { max: MAX_MONTHS, months: schedule.months, more: MAX_MONTHS - schedule.months });
  }
  const { id } = await trx
    .insertInto('schedule_events')
    .values({ schedule_id: schedule.id, kind: 'extension_requested', months: input.months, reason: input.reason, status: 'pending', actor_user_id: input.actor.userId })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** Staff approve (adding the months' instalments) or decline a requested extension. */
export async function decideExtension(trx: Trx, input: { requestId: number; approve: boolean; reason: string; actor: Actor }) {
  const request = await trx.selectFrom('schedule_events').selectAll().where('id', '=', input.requestId).where('kind', '=', 'extension_requested').forUpdate().executeTakeFirst();
  if (!request || request.status !== 'pending') throw new DomainError('not_found', 'schedules:errors.noExtension');
  const schedule = await lockSchedule(trx, request.schedule_id);
  const months = request.months ?? 0;
  if (input.approve) {
    const total = schedule.months + months;
    if (total > MAX_MONTHS) throw new DomainError('conflict', 'schedules:errors.overLimit', {}, { total, max: MAX_MONTHS });
    const payees = await trx.selectFrom('schedule_payees').select(['id', 'position', 'label']).where('schedule_id', '=', schedule.id).orderBy('position').execute();
    const plan = { arrivalOn: schedule.arrival_on, annualIncomeSupportCents: schedule.annual_income_support_cents, startupCents: 0, payees: payees.map((p) => ({ key: String(p.id), label: p.label })) };
    await insertInstallments(trx, schedule.id, new Map(payees.map((p) => [String(p.id), p.id])), monthlyLines(plan, schedule.months + 1, total));
    await trx.updateTable('support_schedules').set({ months: total, status: schedule.status === 'ended' ? 'active' : schedule.status }).where('id', '=', schedule.id).execute();
  }
  await trx.updateTable('schedule_events').set({ status: input.approve ? 'approved' : 'declined' }).where('id', '=', request.id).execute();
  await trx
    .insertInto('schedule_events')
    .values({ schedule_id: schedule.id, kind: input.approve ? 'extension_approved' : 'extension_declined', months, reason: input.reason, actor_user_id: input.actor.userId })
    .execute();
  await writeAudit(trx, { actor: input.actor, action: input.approve ? 'schedule.extension_approved' : 'schedule.extension_declined', subject: `schedule:${schedule.id}`, details: { months, requestId: request.id } });
}

/** Scheduled support beyond the first year: what an extension adds to a group's requirement. */
export async function extensionSupportCents(db: Db | Trx, groupId: number): Promise<number> {
  const row = await db
    .selectFrom('schedule_installments')
    .innerJoin('support_schedules', 'support_schedules.id', 'schedule_installments.schedule_id')
    .select(sql<number>`coalesce(sum(schedule_installments.amount_cents), 0)::bigint`.as('cents'))
    .where('support_schedules.group_id', '=', groupId)
    .where('schedule_installments.month_index', '>', BASE_MONTHS)
    .executeTakeFirstOrThrow();
  return row.cents;
}

/** extensionSupportCents for several groups at once (one query). */
export async function extensionSupportByGroup(db: Db | Trx, groupIds: number[]): Promise<Map<number, number>> {
  const result = new Map<number, number>(groupIds.map((id) => [id, 0]));
  if (groupIds.length === 0) return result;
  const rows = await db
    .selectFrom('schedule_installments')
    .innerJoin('support_schedules', 'support_schedules.id', 'schedule_installments.schedule_id')
    .select(['support_schedules.group_id', sql<number>`sum(schedule_installments.amount_cents)::bigint`.as('cents')])
    .where(isAnyOf('support_schedules.group_id', groupIds))
    .where('schedule_installments.month_index', '>', BASE_MONTHS)
    .groupBy('support_schedules.group_id')
    .execute();
  for (const row of rows) result.set(row.group_id, row.cents);
  return result;
}
