import { sql } from 'kysely';
import type { Actor } from '../audit/audit';
import { writeAudit } from '../audit/audit';
import { DomainError } from '../domain-error';
import { accounts } from '../ledger/accounts';
import { postTransaction } from '../ledger/ledger';
import { monthlyAmount, rescaleShares, splitEvenly, supportAfterEarnings } from './schedule-plan';
import { assertScope, lockSchedule, requireInsideSchedule, type ScheduleScope, type Trx } from './schedule-rules';

/**
 * What happens to the instalments month by month: payments to the family (disbursements), a
 * skipped instalment, the family's earnings, self-sufficiency and its reversal.
 */
export type DisbursementMethod = 'direct_deposit' | 'etransfer' | 'cheque' | 'cash';

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
  if (!installment) throw new DomainError('not_found', 'schedules:errors.noInstallment');
  assertScope(input.scope, installment.group_id);
  if (input.today && input.paidOn > input.today) {
    throw new DomainError('invalid', 'schedules:errors.paidAfterToday', { paidOn: 'schedules:errors.paidAfterToday' }, { today: input.today });
  }
  if (installment.status === 'skipped') throw new DomainError('conflict', 'schedules:errors.skipped');
  if (installment.status === 'tapered') throw new DomainError('conflict', 'schedules:errors.tapered');
  if (installment.status === 'waived') throw new DomainError('conflict', 'schedules:errors.waived');
  const remaining = installment.amount_cents - installment.paid_cents;
  if (remaining <= 0) throw new DomainError('conflict', 'schedules:errors.paidInFull');
  if (input.amountCents > remaining) {
    throw new DomainError('invalid', 'schedules:errors.overRemaining', { amount: 'schedules:errors.overRemaining' }, { remaining: (remaining / 100).toFixed(2) });
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
  if (!row) throw new DomainError('not_found', 'schedules:errors.noInstallment');
  assertScope(input.scope, row.group_id);
  if (row.status !== 'due') throw new DomainError('conflict', 'schedules:errors.skipPaid');
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
  if (schedule.status === 'self_sufficient') throw new DomainError('conflict', 'schedules:errors.alreadySelfSufficient');
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
  if (schedule.status !== 'self_sufficient') throw new DomainError('conflict', 'schedules:errors.notEnded');
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
