import { type Request, type Response, Router } from 'express';
import { doneHref } from '../http/done-notice';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import { listFamilies, requireFamily } from '../families/families';
import { dollars, idParam, isoDate, optionalText, parseForm, text } from '../http/forms';
import { actorOf, allow, requireGroupId } from '../http/policy';
import { charityCalendar } from '../calendar/charity-calendar';
import { recordArrival } from './arrivals';
import type { FamilyKeyring } from '../families/data-keys';
import { readBirthMonths } from '../families/identities';
import { chartGeometry, type ForecastMonth } from './forecast';
import { findScheduleForGroup, groupForecast, listSchedules, overdueInstallments, programForecast, scheduleDetail } from './schedule-queries';
import { decideExtension, markSelfSufficient, recordDisbursement, reportEarnings, requestExtension, resumeSupport, skipInstallment, type ScheduleScope } from './support-schedules';
import { payeeLabel } from './payee-labels';
import { fieldMessages } from '../http/errors';

const NOTICES = new Set(['disbursed', 'earnings', 'extensionRequested']);
const MAX_SUPPORT_CENTS = 50_000_000; // $500,000: far above any schedule, below absurd

const ArrivalForm = z.object({
  arrivalOn: isoDate,
  rates: z.enum(['cost_table', 'community']).default('cost_table'),
  annualIncomeSupport: z.string().optional(),
  startup: z.string().optional(),
});
const DisbursementForm = z.object({
  installmentId: idParam,
  amount: dollars(MAX_SUPPORT_CENTS),
  paidOn: isoDate,
  method: z.enum(['direct_deposit', 'etransfer', 'cheque', 'cash'], { error: 'common:form.invalid' }),
  reference: optionalText(80),
});
const EarningsForm = z.object({ netIncome: dollars(MAX_SUPPORT_CENTS, 0), effectiveOn: isoDate });
const DatedReasonForm = z.object({ on: isoDate, reason: text(1000) });
const ExtensionForm = z.object({ months: z.coerce.number({ error: 'common:form.invalid' }).int('common:form.invalid').min(1, 'common:form.invalid').max(24, 'common:form.invalid'), reason: text(1000) });
const DecisionForm = z.object({ decision: z.enum(['approve', 'decline'], { error: 'common:form.invalid' }), reason: text(1000) });
const SkipForm = z.object({ installmentId: idParam, reason: text(300) });

function idFrom(req: Request, name = 'id'): number {
  const parsed = idParam.safeParse(req.params[name]);
  if (!parsed.success) throw new DomainError('not_found', 'common:errors.notFound');
  return parsed.data;
}

/** A DomainError the form can show beside its fields; anything else goes to the error page. */
function formErrorOf(error: unknown): DomainError | undefined {
  return error instanceof DomainError && Object.keys(error.fieldErrors).length > 0 ? error : undefined;
}

function forecastView(rows: ForecastMonth[]) {
  return { rows, chart: chartGeometry(rows), shortMonths: rows.filter((r) => r.short).map((r) => r.month) };
}

/** Schedules: arrival (staff), the group's schedule and disbursements, forecasts. */
export function scheduleRoutes(deps: AppDeps, keyring: FamilyKeyring): Router {
  const { db } = deps;
  const calendar = charityCalendar(deps.config.charityTimeZone, deps.clock);
  const todayIso = () => calendar.today();
  const router = Router();
  const tx = <T>(fn: (trx: Transaction<Database>) => Promise<T>) => db.transaction().execute(fn);

  async function renderSchedule(res: Response, scheduleId: number, view: 'schedules/staff-schedule' | 'schedules/group-schedule', extra: Record<string, unknown> = {}, status = 200) {
    const detail = await scheduleDetail(db, scheduleId);
    if (!detail) throw new DomainError('not_found', 'schedules:errors.noSchedule');
    const today = todayIso();
    const family = await requireFamily(db, detail.schedule.family_id);
    // Payee labels are stored in English; each page says them in its reader's language.
    const installments = detail.installments.map((i) => ({ ...i, payee: payeeLabel(i.payee, res.locals.t) }));
    const openInstallments = installments.filter((i) => i.status === 'due' || i.status === 'partly_paid');
    res.status(status).render(view, {
      // Staff know families by case code; a group's pages never show it.
      title: view === 'schedules/staff-schedule' ? res.locals.t('schedules:title', { caseCode: family.caseCode }) : res.locals.t('schedules:groupTitle'),
      noindex: true,
      schedule: detail.schedule,
      caseCode: view === 'schedules/staff-schedule' ? family.caseCode : undefined,
      payees: detail.payees.map((p) => ({ ...p, label: payeeLabel(p.label, res.locals.t) })),
      // Overdue: something still to pay (never a $0 instalment tapered or waived) and due before the charity's today.
      installments: installments.map((i) => ({ ...i, overdue: (i.status === 'due' || i.status === 'partly_paid') && i.due_on < today, remaining: i.amount_cents - i.paid_cents })),
      openInstallments,
      pendingExtensions: detail.events.filter((e) => e.kind === 'extension_requested' && e.status === 'pending'),
      events: detail.events,
      forecast: forecastView(await groupForecast(db, detail.schedule.group_id, today)),
      today,
      values: {},
      errors: {},
      ...extra,
    });
  }

  // ---- Staff -------------------------------------------------------------------------

  router.get('/staff/schedules', allow.staff, async (_req, res) => {
    const today = todayIso();
    const [schedules, awaiting, overdue, program] = await Promise.all([
      listSchedules(db, today),
      listFamilies(db, { status: 'matched', limit: 200 }),
      overdueInstallments(db, today, 50),
      programForecast(db, today),
    ]);
    const codes = new Map((await Promise.all(schedules.map((s) => requireFamily(db, s.family_id)))).map((f) => [f.id, f.caseCode]));
    res.render('schedules/staff-list', {
      title: res.locals.t('schedules:staff.title'),
      noindex: true,
      schedules: schedules.map((s) => ({ ...s, caseCode: codes.get(s.family_id) })),
      awaiting,
      overdue,
      forecast: forecastView(program.rows),
      shortGroups: program.shortGroups,
    });
  });

  router.get('/staff/families/:id/arrival', allow.staff, async (req, res) => {
    const family = await requireFamily(db, idFrom(req));
    res.render('schedules/arrival', { title: res.locals.t('schedules:arrivalForm.submit'), noindex: true, family, values: { arrivalOn: todayIso(), rates: 'cost_table' }, errors: {} });
  });

  router.post('/staff/families/:id/arrival', allow.staff, async (req, res) => {
    const family = await requireFamily(db, idFrom(req));
    const form = parseForm(ArrivalForm, req);
    let community: { annualIncomeSupportCents: number; startupCents: number } | undefined;
    const errors: Record<string, string> = form.ok ? {} : { ...form.fieldErrors };
    if (form.ok && form.data.rates === 'community') {
      const annual = dollars(MAX_SUPPORT_CENTS, 0).safeParse(form.data.annualIncomeSupport ?? '');
      const startup = dollars(MAX_SUPPORT_CENTS, 0).safeParse(form.data.startup ?? '');
      if (!annual.success) errors.annualIncomeSupport = annual.error.issues[0]!.message;
      if (!startup.success) errors.startup = startup.error.issues[0]!.message;
      if (annual.success && startup.success) community = { annualIncomeSupportCents: annual.data, startupCents: startup.data };
    }
    if (!form.ok || Object.keys(errors).length > 0) {
      return res.status(400).render('schedules/arrival', { title: res.locals.t('schedules:arrivalForm.submit'), noindex: true, family, values: form.values, errors });
    }
    const window = { today: calendar.today(), months: deps.config.arrivalWindowMonths, dateOf: calendar.dateOf };
    let scheduleId: number;
    try {
      scheduleId = await tx(async (trx) => {
        const actor = actorOf(res, 'role');
        // The members' birth months, and only they, are read from the protected identity (audited, under the app's key).
        const births = await readBirthMonths(trx, keyring, actor, family.id);
        return recordArrival(trx, actor, { familyId: family.id, arrivalOn: form.data.arrivalOn, communityRates: community, window, births, publicUrl: deps.config.publicUrl });
      });
    } catch (error) {
      const refused = formErrorOf(error);
      if (!refused) throw error;
      return res.status(400).render('schedules/arrival', { title: res.locals.t('schedules:arrivalForm.submit'), noindex: true, family, values: form.values, errors: fieldMessages(res.locals.t, refused) });
    }
    res.redirect(303, doneHref(`/staff/schedules/${scheduleId}`, 'schedules.arrived'));
  });

  router.get('/staff/schedules/:id', allow.staff, async (req, res) => {
    await renderSchedule(res, idFrom(req), 'schedules/staff-schedule');
  });

  /** The actions staff and group share, each scoped: staff act on any schedule, a group on its own. */
  /** `money`: disbursements, skipped instalments, income reports; `decide`: the family's status and extension requests. */
  function scheduleActions(prefix: string, rules: { money: typeof allow.staff; decide: typeof allow.staff }, scheduleOf: (req: Request, res: Response) => Promise<{ scheduleId: number; scope: ScheduleScope; view: 'schedules/staff-schedule' | 'schedules/group-schedule'; back: string }>) {
    const fail = async (req: Request, res: Response, errors: Record<string, string>, status = 400) => {
      const { scheduleId, view } = await scheduleOf(req, res);
      await renderSchedule(res, scheduleId, view, { values: req.body ?? {}, errors }, status);
    };
    /** Runs an action; one the module refused with field messages re-renders the form with what was typed. */
    const attempt = async (req: Request, res: Response, action: () => Promise<unknown>): Promise<boolean> => {
      try {
        await action();
        return true;
      } catch (error) {
        const refused = formErrorOf(error);
        if (!refused) throw error;
        await fail(req, res, fieldMessages(res.locals.t, refused), refused.kind === 'conflict' ? 409 : 400);
        return false;
      }
    };

    router.post(`${prefix}/disbursements`, rules.money, async (req, res) => {
      const form = parseForm(DisbursementForm, req);
      if (!form.ok) return fail(req, res, form.fieldErrors);
      const { scope, back } = await scheduleOf(req, res);
      const done = await attempt(req, res, () => tx((trx) => recordDisbursement(trx, { ...form.data, amountCents: form.data.amount, reference: form.data.reference || null, actor: actorOf(res, 'role'), scope, today: todayIso() })));
      if (!done) return;
      res.redirect(303, `${back}?notice=disbursed`);
    });

    router.post(`${prefix}/skips`, rules.money, async (req, res) => {
      const form = parseForm(SkipForm, req);
      if (!form.ok) return fail(req, res, form.fieldErrors);
      const { scope, back } = await scheduleOf(req, res);
      await tx((trx) => skipInstallment(trx, { ...form.data, actor: actorOf(res, 'role'), scope }));
      res.redirect(303, back);
    });

    router.post(`${prefix}/earnings`, rules.money, async (req, res) => {
      const form = parseForm(EarningsForm, req);
      if (!form.ok) return fail(req, res, form.fieldErrors);
      const { scheduleId, scope, back } = await scheduleOf(req, res);
      if (!(await attempt(req, res, () => tx((trx) => reportEarnings(trx, { scheduleId, netIncomeCents: form.data.netIncome, effectiveOn: form.data.effectiveOn, actor: actorOf(res, 'role'), scope }))))) return;
      res.redirect(303, `${back}?notice=earnings`);
    });

    router.post(`${prefix}/self-sufficient`, rules.decide, async (req, res) => {
      const form = parseForm(DatedReasonForm, req);
      if (!form.ok) return fail(req, res, form.fieldErrors);
      const { scheduleId, scope, back } = await scheduleOf(req, res);
      if (!(await attempt(req, res, () => tx((trx) => markSelfSufficient(trx, { scheduleId, ...form.data, actor: actorOf(res, 'role'), scope }))))) return;
      res.redirect(303, back);
    });

    router.post(`${prefix}/resume`, rules.decide, async (req, res) => {
      const form = parseForm(DatedReasonForm, req);
      if (!form.ok) return fail(req, res, form.fieldErrors);
      const { scheduleId, scope, back } = await scheduleOf(req, res);
      if (!(await attempt(req, res, () => tx((trx) => resumeSupport(trx, { scheduleId, ...form.data, actor: actorOf(res, 'role'), scope }))))) return;
      res.redirect(303, back);
    });

    router.post(`${prefix}/extensions`, rules.decide, async (req, res) => {
      const form = parseForm(ExtensionForm, req);
      if (!form.ok) return fail(req, res, form.fieldErrors);
      const { scheduleId, scope, back } = await scheduleOf(req, res);
      if (!(await attempt(req, res, () => tx((trx) => requestExtension(trx, { scheduleId, ...form.data, actor: actorOf(res, 'role'), scope }))))) return;
      res.redirect(303, `${back}?notice=extensionRequested`);
    });
  }

  scheduleActions('/staff/schedules/:id', { money: allow.staff, decide: allow.staff }, async (req) => {
    const scheduleId = idFrom(req);
    return { scheduleId, scope: 'staff', view: 'schedules/staff-schedule', back: `/staff/schedules/${scheduleId}` };
  });

  router.post('/staff/schedules/:id/extensions/:requestId/decision', allow.staff, async (req, res) => {
    const scheduleId = idFrom(req);
    const requestId = idFrom(req, 'requestId');
    const form = parseForm(DecisionForm, req);
    if (!form.ok) return renderSchedule(res, scheduleId, 'schedules/staff-schedule', { values: form.values, errors: form.fieldErrors }, 400);
    await tx((trx) => decideExtension(trx, { requestId, approve: form.data.decision === 'approve', reason: form.data.reason, actor: actorOf(res, 'role') }));
    res.redirect(303, doneHref(`/staff/schedules/${scheduleId}`, form.data.decision === 'approve' ? 'schedules.extensionApproved' : 'schedules.extensionDeclined'));
  });

  // ---- The group's own schedule ------------------------------------------------------

  router.get('/group/schedule', allow.groupMember, async (_req, res) => {
    const schedule = await findScheduleForGroup(db, requireGroupId(res));
    if (!schedule) return res.render('schedules/group-empty', { title: res.locals.t('schedules:groupTitle'), noindex: true });
    const notice = typeof res.req.query.notice === 'string' && NOTICES.has(res.req.query.notice) ? res.req.query.notice : undefined;
    await renderSchedule(res, schedule.id, 'schedules/group-schedule', { notice });
  });

  scheduleActions('/group/schedule', { money: allow.groupTreasurer, decide: allow.groupCoordinator }, async (_req, res) => {
    const groupId = requireGroupId(res);
    const schedule = await findScheduleForGroup(db, groupId);
    if (!schedule) throw new DomainError('not_found', 'schedules:errors.noGroupSchedule');
    return { scheduleId: schedule.id, scope: { groupId }, view: 'schedules/group-schedule', back: '/group/schedule' };
  });

  return router;
}
