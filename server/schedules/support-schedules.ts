import { sql, type Transaction } from 'kysely';
import type { Actor } from '../audit/audit';
import { writeAudit } from '../audit/audit';
import { type Db, isAnyOf } from '../db/database';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import { listEditions, requirementFromEdition } from '../groups/cost-tables';
import { accounts } from '../ledger/accounts';
import { postTransaction } from '../ledger/ledger';
import { addDays, addMonths } from '../calendar/dates';
import { adultFromMonth, BASE_MONTHS, MAX_MONTHS, monthlyAmount, monthlyLines, planSchedule, rescaleShares, resplitMonth, splitEvenly, supportAfterEarnings, type Payee, type PlannedInstallment } from './schedule-plan';
import { queueEmail } from '../notifications/outbox';

type Trx = Transaction<Database>;
export type DisbursementMethod = 'direct_deposit' | 'etransfer' | 'cheque' | 'cash';

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
  if (!edition) throw new DomainError('conflict', `No cost-table edition is in force on ${on}.`);
  const requirement = requirementFromEdition(edition, familySize);
  return { editionOn: requirement.editionOn, annualIncomeSupportCents: requirement.incomeSupportCents, startupCents: requirement.startupCents };
}

function payeesFor(adults: number): Payee[] {
  return Array.from({ length: Math.max(1, adults) }, (_, i) => ({ key: String(i + 1), label: i === 0 ? 'Adult 1 (principal applicant)' : `Adult ${i + 1}` }));
}

async function insertInstallments(trx: Trx, scheduleId: number, payeeIds: Map<string, number>, lines: PlannedInstallment[]) {
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

/**
 * Arrival creates the support schedule: start-up in month 1 and twelve months of income
 * support, a line per adult payee, amounts from the cost table in force on the arrival date
 * (or community rates staff enter), due dates by calendar month with month-end handled.
 */
export async function createSupportSchedule(trx: Trx, input: ArrivalInput): Promise<number> {
  const existing = await trx.selectFrom('support_schedules').select('id').where('family_id', '=', input.familyId).executeTakeFirst();
  if (existing) throw new DomainError('conflict', 'This family already has a support schedule.');
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

async function lockSchedule(trx: Trx, scheduleId: number) {
  const schedule = await trx.selectFrom('support_schedules').selectAll().where('id', '=', scheduleId).forUpdate().executeTakeFirst();
  if (!schedule) throw new DomainError('not_found', 'There is no such support schedule.');
  return schedule;
}

/** A date a schedule event takes effect on must fall inside the schedule: from arrival to its last month's end. */
function requireInsideSchedule(schedule: { arrival_on: string; months: number }, field: string, on: string) {
  const end = addMonths(schedule.arrival_on, schedule.months);
  if (on < schedule.arrival_on || on >= end) {
    const message = `Choose a date inside the schedule, from ${schedule.arrival_on} to ${addDays(end, -1)}.`;
    throw new DomainError('invalid', message, { [field]: message });
  }
}

/** Who may act on a schedule: staff, or a member of the schedule's own group. */
export type ScheduleScope = { groupId: number } | 'staff';

function assertScope(scope: ScheduleScope, groupId: number) {
  if (scope !== 'staff' && scope.groupId !== groupId) throw new DomainError('forbidden', 'This schedule belongs to another group.');
}

export type DisbursementInput = {
  installmentId: number;
  amountCents: number;
  paidOn: string;
  method: DisbursementMethod;
  reference: string | null;
  actor: Actor;
  scope: ScheduleScope;
  /** The charity's today: a payment to the family cannot be dated after it. */
  today?: string;
};

/**
 * A payment to the family, posted from the group's fund: support expense against the bank,
 * in one balanced ledger transaction. The instalment becomes paid or partly paid.
 */
export async function recordDisbursement(trx: Trx, input: DisbursementInput): Promise<number> {
  const installment = await trx
    .selectFrom('schedule_installments')
    .innerJoin('support_schedules', 'support_schedules.id', 'schedule_installments.schedule_id')
    .select(['schedule_installments.id', 'schedule_installments.schedule_id', 'schedule_installments.amount_cents', 'schedule_installments.paid_cents', 'schedule_installments.status', 'support_schedules.group_id'])
    .where('schedule_installments.id', '=', input.installmentId)
    .forUpdate()
    .executeTakeFirst();
  if (!installment) throw new DomainError('not_found', 'There is no such instalment.');
  assertScope(input.scope, installment.group_id);
  if (input.today && input.paidOn > input.today) {
    const message = `The date paid cannot be after today (${input.today}).`;
    throw new DomainError('invalid', message, { paidOn: message });
  }
  if (installment.status === 'skipped') throw new DomainError('conflict', 'This instalment was skipped; resume support before paying it.');
  if (installment.status === 'tapered') throw new DomainError('conflict', 'Nothing is due on this instalment: earned income reduced it to $0.');
  if (installment.status === 'waived') throw new DomainError('conflict', 'Nothing is due on this instalment: it was planned at $0.');
  const remaining = installment.amount_cents - installment.paid_cents;
  if (remaining <= 0) throw new DomainError('conflict', 'This instalment is already paid in full.');
  if (input.amountCents > remaining) {
    const message = `The amount is more than what remains due on this instalment (${(remaining / 100).toFixed(2)} dollars).`;
    throw new DomainError('invalid', message, { amount: message });
  }
  const fund = { groupId: installment.group_id };
  const transactionId = await postTransaction(trx, {
    kind: 'disbursement',
    description: `Support paid for schedule ${installment.schedule_id}, instalment ${installment.id}`,
    entries: [
      { account: accounts.support(fund), amountCents: input.amountCents },
      { account: accounts.bank, amountCents: -input.amountCents },
    ],
  });
  const { id } = await trx
    .insertInto('disbursements')
    .values({
      installment_id: installment.id,
      amount_cents: input.amountCents,
      paid_on: input.paidOn,
      method: input.method,
      reference: input.reference,
      ledger_transaction_id: transactionId,
      recorded_by: input.actor.userId ?? 0,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const paid = installment.paid_cents + input.amountCents;
  await trx
    .updateTable('schedule_installments')
    .set({ paid_cents: paid, status: paid === installment.amount_cents ? 'paid' : 'partly_paid' })
    .where('id', '=', installment.id)
    .execute();
  await trx.insertInto('schedule_events').values({ schedule_id: installment.schedule_id, kind: 'disbursed', amount_cents: input.amountCents, effective_on: input.paidOn, actor_user_id: input.actor.userId }).execute();
  return id;
}

export async function skipInstallment(trx: Trx, input: { installmentId: number; reason: string; actor: Actor; scope: ScheduleScope }) {
  const row = await trx
    .selectFrom('schedule_installments')
    .innerJoin('support_schedules', 'support_schedules.id', 'schedule_installments.schedule_id')
    .select(['schedule_installments.id', 'schedule_installments.schedule_id', 'schedule_installments.paid_cents', 'schedule_installments.status', 'support_schedules.group_id'])
    .where('schedule_installments.id', '=', input.installmentId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new DomainError('not_found', 'There is no such instalment.');
  assertScope(input.scope, row.group_id);
  if (row.status !== 'due') throw new DomainError('conflict', 'Only an instalment with nothing paid yet can be skipped.');
  await trx.updateTable('schedule_installments').set({ status: 'skipped', skip_reason: input.reason }).where('id', '=', row.id).execute();
  await trx.insertInto('schedule_events').values({ schedule_id: row.schedule_id, kind: 'skipped', reason: input.reason, actor_user_id: input.actor.userId }).execute();
}

/**
 * The family's net monthly employment income (never the Canada Child Benefit): monthly
 * instalments due on or after `effectiveOn` with nothing paid are recomputed by the rule.
 */
export async function reportEarnings(trx: Trx, input: { scheduleId: number; netIncomeCents: number; effectiveOn: string; actor: Actor; scope: ScheduleScope }) {
  const schedule = await lockSchedule(trx, input.scheduleId);
  assertScope(input.scope, schedule.group_id);
  requireInsideSchedule(schedule, 'effectiveOn', input.effectiveOn);
  const open = await trx
    .selectFrom('schedule_installments')
    .innerJoin('schedule_payees', 'schedule_payees.id', 'schedule_installments.payee_id')
    .select(['schedule_installments.id', 'schedule_installments.month_index', 'schedule_payees.position'])
    .where('schedule_installments.schedule_id', '=', schedule.id)
    .where('schedule_installments.kind', '=', 'monthly')
    .where('schedule_installments.status', 'in', ['due', 'tapered'])
    .where('schedule_installments.due_on', '>=', input.effectiveOn)
    .orderBy('schedule_installments.month_index')
    .orderBy('schedule_payees.position')
    .execute();
  const payeeCount = (await trx.selectFrom('schedule_payees').select('id').where('schedule_id', '=', schedule.id).execute()).length;
  const byMonth = new Map<number, { id: number; position: number }[]>();
  for (const row of open) byMonth.set(row.month_index, [...(byMonth.get(row.month_index) ?? []), { id: row.id, position: row.position }]);
  for (const [month, rows] of byMonth) {
    // Start from the month's full planned support so a later, lower income restores it.
    const planned = monthlyAmount(schedule.annual_income_support_cents, month);
    const shares = rescaleShares(splitEvenly(planned, payeeCount), supportAfterEarnings(planned, input.netIncomeCents));
    for (const row of rows) {
      // A share tapered to $0 settles itself (never overdue); a later, lower income makes it due again.
      const amount = shares[row.position - 1]!;
      await trx.updateTable('schedule_installments').set({ amount_cents: amount, status: amount === 0 ? 'tapered' : 'due' }).where('id', '=', row.id).execute();
    }
  }
  await trx.insertInto('schedule_events').values({ schedule_id: schedule.id, kind: 'earnings_reported', amount_cents: input.netIncomeCents, effective_on: input.effectiveOn, actor_user_id: input.actor.userId }).execute();
  return byMonth.size;
}

const SELF_SUFFICIENT = 'Family self-sufficient';

/** Ends the instalments from `on`; reversible with resumeSupport. */
export async function markSelfSufficient(trx: Trx, input: { scheduleId: number; on: string; reason: string; actor: Actor; scope: ScheduleScope }) {
  const schedule = await lockSchedule(trx, input.scheduleId);
  assertScope(input.scope, schedule.group_id);
  if (schedule.status === 'self_sufficient') throw new DomainError('conflict', 'This family is already recorded as self-sufficient.');
  requireInsideSchedule(schedule, 'on', input.on);
  await trx
    .updateTable('schedule_installments')
    .set({ status: 'skipped', skip_reason: SELF_SUFFICIENT })
    .where('schedule_id', '=', schedule.id)
    .where('status', 'in', ['due', 'tapered'])
    .where('due_on', '>=', input.on)
    .execute();
  await trx.updateTable('support_schedules').set({ status: 'self_sufficient' }).where('id', '=', schedule.id).execute();
  await trx.insertInto('schedule_events').values({ schedule_id: schedule.id, kind: 'self_sufficient', effective_on: input.on, reason: input.reason, actor_user_id: input.actor.userId }).execute();
  await writeAudit(trx, { actor: input.actor, action: 'schedule.self_sufficient', subject: `schedule:${schedule.id}`, details: { on: input.on } });
}

/** Support resumes: instalments ended by self-sufficiency and due on or after `on` are due again. */
export async function resumeSupport(trx: Trx, input: { scheduleId: number; on: string; reason: string; actor: Actor; scope: ScheduleScope }) {
  const schedule = await lockSchedule(trx, input.scheduleId);
  assertScope(input.scope, schedule.group_id);
  if (schedule.status !== 'self_sufficient') throw new DomainError('conflict', 'Support is not ended, so there is nothing to resume.');
  requireInsideSchedule(schedule, 'on', input.on);
  await trx
    .updateTable('schedule_installments')
    .set({ status: sql<'due' | 'tapered'>`case when amount_cents = 0 then 'tapered' else 'due' end`, skip_reason: null })
    .where('schedule_id', '=', schedule.id)
    .where('status', '=', 'skipped')
    .where('skip_reason', '=', SELF_SUFFICIENT)
    .where('due_on', '>=', input.on)
    .execute();
  await trx.updateTable('support_schedules').set({ status: 'active' }).where('id', '=', schedule.id).execute();
  await trx.insertInto('schedule_events').values({ schedule_id: schedule.id, kind: 'resumed', effective_on: input.on, reason: input.reason, actor_user_id: input.actor.userId }).execute();
  await writeAudit(trx, { actor: input.actor, action: 'schedule.resumed', subject: `schedule:${schedule.id}`, details: { on: input.on } });
}

export async function requestExtension(trx: Trx, input: { scheduleId: number; months: number; reason: string; actor: Actor; scope: ScheduleScope }): Promise<number> {
  const schedule = await lockSchedule(trx, input.scheduleId);
  assertScope(input.scope, schedule.group_id);
  if (schedule.months + input.months > MAX_MONTHS) {
    throw new DomainError('invalid', `Support can run at most ${MAX_MONTHS} months in all; this schedule has ${schedule.months}.`, { months: `At most ${MAX_MONTHS - schedule.months} more months.` });
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
  if (!request || request.status !== 'pending') throw new DomainError('not_found', 'There is no pending extension request with that number.');
  const schedule = await lockSchedule(trx, request.schedule_id);
  const months = request.months ?? 0;
  if (input.approve) {
    const total = schedule.months + months;
    if (total > MAX_MONTHS) throw new DomainError('conflict', `Approving this would make ${total} months; the limit is ${MAX_MONTHS}.`);
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
    .values({ schedule_id: schedule.id, position, label: `Adult ${position} (turned 18 during the schedule)` })
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
