import { sql } from 'kysely';
import type { Db } from '../db/database';
import { accounts } from '../ledger/accounts';
import { balancesOf } from '../ledger/ledger';
import { addMonths } from '../calendar/dates';
import { combineForecasts, forecast, type Flow, type ForecastMonth } from './forecast';

/** What a group can spend now: -(its fund + the expenses charged to it). */
export async function availableFundsCents(db: Db, groupId: number): Promise<number> {
  const fund = accounts.fund({ groupId });
  const expenses = accounts.expenses({ groupId });
  const balances = await balancesOf(db, [fund, expenses]);
  return 0 - ((balances.get(fund) ?? 0) + (balances.get(expenses) ?? 0));
}

/** Unpaid remainders of the group's open instalments. */
async function owedFlows(db: Db, groupIds: number[]): Promise<Map<number, Flow[]>> {
  const result = new Map<number, Flow[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return result;
  const rows = await db
    .selectFrom('schedule_installments')
    .innerJoin('support_schedules', 'support_schedules.id', 'schedule_installments.schedule_id')
    .select(['support_schedules.group_id', 'schedule_installments.due_on', sql<number>`(schedule_installments.amount_cents - schedule_installments.paid_cents)::bigint`.as('remaining')])
    .where('support_schedules.group_id', 'in', groupIds)
    .where('schedule_installments.status', 'in', ['due', 'partly_paid'])
    .execute();
  for (const row of rows) result.get(row.group_id)!.push({ dueOn: row.due_on, amountCents: row.remaining });
  return result;
}

/**
 * Pledge money expected for each group: pay-later and fixed-term pledges that prefer the group,
 * their outstanding amount spread as monthly instalments from next month (a one-time pledge
 * is expected within the month). Open-ended monthly card gifts are not counted: the forecast
 * errs on the side of warning early.
 */
async function inflowFlows(db: Db, groupIds: number[], today: string): Promise<Map<number, Flow[]>> {
  const result = new Map<number, Flow[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return result;
  const rows = await db
    .selectFrom('pledges')
    .leftJoin('payments', 'payments.pledge_id', 'pledges.id')
    .select([
      'pledges.group_id',
      'pledges.frequency',
      sql<number>`(pledges.amount_cents + pledges.fee_cover_cents)::bigint`.as('per_gift'),
      sql<number>`(pledges.committed_cents - coalesce(sum(payments.amount_cents), 0))::bigint`.as('outstanding'),
    ])
    .where('pledges.group_id', 'in', groupIds)
    .where('pledges.status', '=', 'active')
    .where('pledges.committed_cents', 'is not', null)
    .groupBy(['pledges.id'])
    .execute();
  for (const row of rows) {
    if (row.group_id === null || row.outstanding <= 0) continue;
    const flows = result.get(row.group_id)!;
    if (row.frequency === 'once') {
      flows.push({ dueOn: today, amountCents: row.outstanding });
      continue;
    }
    let left = row.outstanding;
    for (let month = 1; left > 0; month++) {
      const amount = Math.min(left, row.per_gift);
      flows.push({ dueOn: addMonths(today, month), amountCents: amount });
      left -= amount;
    }
  }
  return result;
}

export async function groupForecast(db: Db, groupId: number, today: string): Promise<ForecastMonth[]> {
  const [opening, owed, inflows] = await Promise.all([availableFundsCents(db, groupId), owedFlows(db, [groupId]), inflowFlows(db, [groupId], today)]);
  return forecast({ from: today, openingBalanceCents: opening, owed: owed.get(groupId)!, inflows: inflows.get(groupId)! });
}

/** Every group with a schedule, summed month by month; a month is short when any group is. */
export async function programForecast(db: Db, today: string): Promise<{ rows: ForecastMonth[]; shortGroups: { groupId: number; firstShortMonth: string }[] }> {
  const groups = await db.selectFrom('support_schedules').select('group_id').distinct().execute();
  const groupIds = groups.map((g) => g.group_id);
  const [owed, inflows] = await Promise.all([owedFlows(db, groupIds), inflowFlows(db, groupIds, today)]);
  const perGroup = await Promise.all(
    groupIds.map(async (groupId) => ({
      groupId,
      rows: forecast({ from: today, openingBalanceCents: await availableFundsCents(db, groupId), owed: owed.get(groupId)!, inflows: inflows.get(groupId)! }),
    })),
  );
  return {
    rows: combineForecasts(perGroup.map((g) => g.rows)),
    shortGroups: perGroup.flatMap((g) => {
      const first = g.rows.find((r) => r.short);
      return first ? [{ groupId: g.groupId, firstShortMonth: first.month }] : [];
    }),
  };
}

export async function scheduleDetail(db: Db, scheduleId: number) {
  const schedule = await db.selectFrom('support_schedules').selectAll().where('id', '=', scheduleId).executeTakeFirst();
  if (!schedule) return undefined;
  const [payees, installments, events] = await Promise.all([
    db.selectFrom('schedule_payees').select(['id', 'position', 'label']).where('schedule_id', '=', scheduleId).orderBy('position').execute(),
    db
      .selectFrom('schedule_installments')
      .innerJoin('schedule_payees', 'schedule_payees.id', 'schedule_installments.payee_id')
      .select(['schedule_installments.id', 'kind', 'month_index', 'due_on', 'amount_cents', 'paid_cents', 'status', 'skip_reason', 'schedule_payees.label as payee'])
      .where('schedule_installments.schedule_id', '=', scheduleId)
      .orderBy('due_on')
      .orderBy('schedule_payees.position')
      .execute(),
    db.selectFrom('schedule_events').selectAll().where('schedule_id', '=', scheduleId).orderBy('at', 'desc').orderBy('id', 'desc').execute(),
  ]);
  return { schedule, payees, installments, events };
}

export async function findScheduleForGroup(db: Db, groupId: number) {
  return db.selectFrom('support_schedules').select('id').where('group_id', '=', groupId).executeTakeFirst();
}

/** Open instalments due before `today`, oldest first: the staff dashboard's overdue list. */
export async function overdueInstallments(db: Db, today: string, limit = 100) {
  return db
    .selectFrom('schedule_installments')
    .innerJoin('support_schedules', 'support_schedules.id', 'schedule_installments.schedule_id')
    .select([
      'schedule_installments.id',
      'schedule_installments.schedule_id',
      'support_schedules.group_id',
      'schedule_installments.due_on',
      sql<number>`(schedule_installments.amount_cents - schedule_installments.paid_cents)::bigint`.as('remaining_cents'),
      'schedule_installments.reminded_at',
    ])
    .where('schedule_installments.status', 'in', ['due', 'partly_paid'])
    .where('schedule_installments.due_on', '<', today)
    .orderBy('schedule_installments.due_on')
    .limit(limit)
    .execute();
}

/** Each schedule with its next due date and how many of its instalments are overdue. */
export async function listSchedules(db: Db, today: string) {
  return db
    .selectFrom('support_schedules')
    .select([
      'support_schedules.id',
      'support_schedules.family_id',
      'support_schedules.group_id',
      'support_schedules.arrival_on',
      'support_schedules.months',
      'support_schedules.status',
      (eb) =>
        eb
          .selectFrom('schedule_installments')
          .select(sql<string>`min(due_on)::text`.as('next'))
          .whereRef('schedule_installments.schedule_id', '=', 'support_schedules.id')
          .where('status', 'in', ['due', 'partly_paid'])
          .as('next_due_on'),
      (eb) =>
        eb
          .selectFrom('schedule_installments')
          .select(sql<number>`count(*)::bigint`.as('n'))
          .whereRef('schedule_installments.schedule_id', '=', 'support_schedules.id')
          .where('status', 'in', ['due', 'partly_paid'])
          .where('due_on', '<', today)
          .as('overdue_count'),
    ])
    .orderBy('support_schedules.id')
    .execute();
}

/**
 * The staff dashboard's support panel: families by status, the next schedules due, how many
 * instalments are overdue, and the months ahead that fall short across the program.
 */
export async function supportOverview(db: Db, today: string) {
  const [byStatus, schedules, overdue, program] = await Promise.all([
    db.selectFrom('families').select(['status', sql<number>`count(*)::bigint`.as('count')]).groupBy('status').orderBy('status').execute(),
    listSchedules(db, today),
    overdueInstallments(db, today, 1000),
    programForecast(db, today),
  ]);
  return {
    familiesByStatus: byStatus,
    nextDue: schedules.filter((s) => s.next_due_on !== null).sort((a, b) => String(a.next_due_on).localeCompare(String(b.next_due_on))).slice(0, 5),
    overdueCount: overdue.length,
    shortMonths: program.rows.filter((r) => r.short).map((r) => r.month),
  };
}

export type SupportTerm = { familyId: number; status: 'active' | 'self_sufficient' | 'ended'; termEndsOn: string; extensionPending: boolean };

/**
 * For the families module's retention rule: the support schedule of each family asked for, or
 * of every family whose schedule is self-sufficient or whose term is over by `endedBy` (a charity
 * date). The term ends `months` months after arrival: the day after the last instalment's month
 * (approved extensions are in `months`; a pending request is `extensionPending`).
 */
export async function supportTerms(db: Db, filter: { familyIds: readonly number[] } | { endedBy: string }): Promise<SupportTerm[]> {
  let query = db
    .selectFrom('support_schedules')
    .select([
      'family_id',
      'status',
      'arrival_on',
      'months',
      (eb) =>
        eb
          .exists(eb.selectFrom('schedule_events').select('id').whereRef('schedule_events.schedule_id', '=', 'support_schedules.id').where('kind', '=', 'extension_requested').where('status', '=', 'pending'))
          .as('extension_pending'),
    ]);
  if ('familyIds' in filter) {
    if (filter.familyIds.length === 0) return [];
    query = query.where('family_id', 'in', [...filter.familyIds]);
  } else {
    // PostgreSQL's date + months clamps to the month's end, as addMonths does; addMonths stays the reference below.
    query = query.where((eb) => eb.or([eb('status', '=', 'self_sufficient'), eb(sql<string>`(arrival_on + make_interval(months => months))::date`, '<=', sql<string>`${filter.endedBy}::date`)]));
  }
  const rows = await query.execute();
  const terms = rows.map((r) => ({ familyId: r.family_id, status: r.status, termEndsOn: addMonths(r.arrival_on, r.months), extensionPending: Boolean(r.extension_pending) }));
  return 'endedBy' in filter ? terms.filter((term) => term.status === 'self_sufficient' || term.termEndsOn <= filter.endedBy) : terms;
}
