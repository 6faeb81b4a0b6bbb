import type { Actor } from '../audit/audit';
import { writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import { DomainError } from '../domain-error';
import { listEditions, requirementFromEdition } from '../groups/cost-tables';
import { queueEmail } from '../notifications/outbox';
import { adultFromMonth, BASE_MONTHS, planSchedule, resplitMonth, type Payee } from './schedule-plan';
import { insertInstallments, lockSchedule, type Trx } from './schedule-rules';
import { payeeLabelText } from './payee-labels';

/**
 * A family's support schedule, the module's entry point: created at arrival, a payee added when a
 * child comes of age; what happens to the instalments is in instalments.ts, extensions in
 * extensions.ts (exported from here too), the checks every change makes in schedule-rules.ts.
 */
export { type DisbursementInput, type DisbursementMethod, markSelfSufficient, recordDisbursement, reportEarnings, resumeSupport, skipInstallment } from './instalments';
export { decideExtension, extensionSupportByGroup, extensionSupportCents, requestExtension } from './extensions';
export type { ScheduleScope } from './schedule-rules';

export type ArrivalInput = {
  familyId: number;
  groupId: number;
  arrivalOn: string;
  /** Members aged 18 or over: each is a payee with their own line. */
  adults: number;
  familySize: number;
  /** Community (RAP) rates entered by staff instead of the cost table. */
  communityRates?: { annualIncomeSupportCents: number; startupCents: number };
  actor: Actor;
};

/** The cost-table figures for a family size in the edition in force on `on` (the groups module keeps the editions). */
export async function costTableFigures(trx: Trx | Db, familySize: number, on: string) {
  const edition = (await listEditions(trx)).find((e) => e.editionOn <= on);
  if (!edition) throw new DomainError('conflict', 'schedules:errors.noEdition', {}, { on });
  const requirement = requirementFromEdition(edition, familySize);
  return { editionOn: requirement.editionOn, annualIncomeSupportCents: requirement.incomeSupportCents, startupCents: requirement.startupCents };
}

function payeesFor(adults: number): Payee[] {
  return Array.from({ length: Math.max(1, adults) }, (_, i) => ({ key: String(i + 1), label: i === 0 ? payeeLabelText.principal(1) : payeeLabelText.adult(i + 1) }));
}

/**
 * Arrival creates the support schedule: start-up in month 1 and twelve months of income
 * support, a line per adult payee, amounts from the cost table in force on the arrival date
 * (or community rates staff enter), due dates by calendar month with month-end handled.
 */
export async function createSupportSchedule(trx: Trx, input: ArrivalInput): Promise<number> {
  const existing = await trx.selectFrom('support_schedules').select('id').where('family_id', '=', input.familyId).executeTakeFirst();
  if (existing) throw new DomainError('conflict', 'schedules:errors.exists');
  const figures = input.communityRates
    ? { editionOn: null, ...input.communityRates }
    : await costTableFigures(trx, input.familySize, input.arrivalOn);
  const { id } = await trx
    .insertInto('support_schedules')
    .values({
      family_id: input.familyId,
      group_id: input.groupId,
      arrival_on: input.arrivalOn,
      months: BASE_MONTHS,
      rate_source: input.communityRates ? 'community' : 'cost_table',
      cost_edition_on: figures.editionOn,
      annual_income_support_cents: figures.annualIncomeSupportCents,
      startup_cents: figures.startupCents,
      created_by: input.actor.userId ?? 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const payees = payeesFor(input.adults);
  const payeeIds = new Map<string, number>();
  for (const [i, payee] of payees.entries()) {
    const row = await trx.insertInto('schedule_payees').values({ schedule_id: id, position: i + 1, label: payee.label }).returning('id').executeTakeFirstOrThrow();
    payeeIds.set(payee.key, row.id);
  }
  await insertInstallments(trx, id, payeeIds, planSchedule({ arrivalOn: input.arrivalOn, annualIncomeSupportCents: figures.annualIncomeSupportCents, startupCents: figures.startupCents, payees }));
  await trx.insertInto('schedule_events').values({ schedule_id: id, kind: 'arrived', effective_on: input.arrivalOn, actor_user_id: input.actor.userId }).execute();
  await writeAudit(trx, { actor: input.actor, action: 'schedule.created', subject: `schedule:${id}`, details: { familyId: input.familyId, arrivalOn: input.arrivalOn, rateSource: input.communityRates ? 'community' : 'cost_table' } });
  return id;
}

/**
 * A child who turns 18 during the schedule becomes their own payee from that month (shared/
 * DOMAIN.md: each member aged 18 or over is a separate unit): a new payee, and every later month
 * still wholly open re-split among all payees, each month's total unchanged to the cent. The
 * group's coordinators are told by e-mail with counts only (the month and how many payees), never
 * a name or a birth date. `birth` comes from the protected identity data. Returns the first month
 * re-split, or null when the child turns 18 after the schedule ends (or is 18 by its first month).
 */
export async function addComingOfAgePayee(
  trx: Trx,
  input: { scheduleId: number; birth: { year: number; month: number }; actor: Actor; publicUrl: string },
): Promise<number | null> {
  const schedule = await lockSchedule(trx, input.scheduleId);
  const from = adultFromMonth(schedule.arrival_on, input.birth, schedule.months);
  // 18 by the first month: an adult at arrival, counted among the family's adults, not a new payee.
  if (from === null || from === 1) return null;
  const payees = await trx.selectFrom('schedule_payees').select(['id', 'position']).where('schedule_id', '=', schedule.id).orderBy('position').execute();
  const position = payees.length + 1;
  const { id: payeeId } = await trx
    .insertInto('schedule_payees')
    .values({ schedule_id: schedule.id, position, label: payeeLabelText.cameOfAge(position) })
    .returning('id')
    .executeTakeFirstOrThrow();
  const lines = await trx
    .selectFrom('schedule_installments')
    .innerJoin('schedule_payees', 'schedule_payees.id', 'schedule_installments.payee_id')
    .select(['schedule_installments.id', 'schedule_installments.month_index', 'schedule_installments.due_on', 'schedule_installments.amount_cents', 'schedule_installments.paid_cents', 'schedule_installments.status', 'schedule_payees.position'])
    .where('schedule_installments.schedule_id', '=', schedule.id)
    .where('schedule_installments.kind', '=', 'monthly')
    .where('schedule_installments.month_index', '>=', from)
    .orderBy('schedule_installments.month_index')
    .orderBy('schedule_payees.position')
    .execute();
  const byMonth = new Map<number, typeof lines>();
  for (const line of lines) byMonth.set(line.month_index, [...(byMonth.get(line.month_index) ?? []), line]);
  let resplit = 0;
  for (const [month, rows] of byMonth) {
    // A month with money already paid or skipped is left as it is: only wholly open months are re-split.
    if (rows.some((r) => r.paid_cents > 0 || !['due', 'tapered', 'waived'].includes(r.status))) continue;
    const shares = resplitMonth(
      rows.map((r) => r.amount_cents),
      rows.length + 1,
    );
    for (const [i, row] of rows.entries()) {
      const amount = shares[i]!;
      await trx.updateTable('schedule_installments').set({ amount_cents: amount, status: amount === 0 ? 'tapered' : 'due' }).where('id', '=', row.id).execute();
    }
    const own = shares[rows.length]!;
    await trx
      .insertInto('schedule_installments')
      .values({ schedule_id: schedule.id, payee_id: payeeId, kind: 'monthly', month_index: month, due_on: rows[0]!.due_on, amount_cents: own, status: own === 0 ? 'tapered' : 'due' })
      .execute();
    resplit += 1;
  }
  await writeAudit(trx, { actor: input.actor, action: 'schedule.payee_added', subject: `schedule:${schedule.id}`, details: { fromMonth: from, payees: position, monthsResplit: resplit } });
  const coordinators = await trx
    .selectFrom('group_members')
    .select('email')
    .where('group_id', '=', schedule.group_id)
    .where('role', '=', 'coordinator')
    .where('removed_at', 'is', null)
    .execute();
  const group = await trx.selectFrom('sponsor_groups').select('locale').where('id', '=', schedule.group_id).executeTakeFirstOrThrow();
  for (const coordinator of coordinators) {
    await queueEmail(trx, {
      to: coordinator.email,
      template: 'schedules/payee-added',
      locale: group.locale,
      data: { month: from, payees: position, scheduleUrl: `${input.publicUrl}/group/schedule` },
    });
  }
  return from;
}
