import { Router, type Request, type Response } from 'express';
import { accountLabel, groupNamesIn, kindLabel } from '../reports/names';
import { groupNamesOf } from '../groups/public-pages';
import type { TFunction } from 'i18next';
import type { Locale } from '../i18n/i18n';
import { z } from 'zod';
import { isoDate, optionalText, parseDollars, parseForm, text } from '../http/forms';
import { actorOf, allow } from '../http/policy';
import type { GivingDeps } from './gifts';
import { ConfirmationNeeded, correctOfflinePayment, recordOfflinePayment, voidOfflinePayment } from './offline-payments';
import {
  closePledge,
  listOverdueInstallments,
  listPayments,
  listPledges,
  remindOverdueInstallments,
  newRefundRequestId,
  REFUND_REQUEST_ID,
  requestRefund,
  requirePaymentDetail,
  requirePledgeDetail,
} from './staff';
import { DomainError } from '../domain-error';
import { writeAudit } from '../audit/audit';
import { CALL_FAILING_AFTER_ATTEMPTS, stripeCallStatus, type StripeCallStatus } from './stripe-calls';
import { FAILING_AFTER_ATTEMPTS, rereadHeldStripeEvent, setAsideHeldStripeEvent, stripeEventQueueStatus, type StripeEventQueueStatus } from './stripe-event-queue';

const Id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A record id from the path; anything else is a 404, not a 500 (found by the fuzz: /staff/pledges/7e-323). */
function parseId(res: Response, value: unknown): number {
  const parsed = Id.safeParse(value);
  if (!parsed.success) throw new DomainError('not_found', (res.locals.t as TFunction)('common:errors.notFound'));
  return parsed.data;
}
const PaymentQuery = z.object({
  q: z.string().trim().max(100).optional().transform((v) => v || undefined).catch(undefined),
  method: z.enum(['card', 'cheque', 'etransfer', 'cash']).optional().catch(undefined),
  status: z.enum(['succeeded', 'refunded', 'partially_refunded', 'disputed', 'voided']).optional().catch(undefined),
  before: Id.optional().catch(undefined),
});
const PledgeQuery = z.object({
  q: z.string().trim().max(100).optional().transform((v) => v || undefined).catch(undefined),
  method: z.enum(['card', 'cheque', 'etransfer']).optional().catch(undefined),
  status: z.enum(['pending', 'active', 'fulfilled', 'cancelled', 'lapsed']).optional().catch(undefined),
  before: Id.optional().catch(undefined),
});

/** Dollars as typed ("1,250.50"): any non-negative amount parses here; how much is allowed is the module's rule, stated beside the field. */
const typedDollars = (key: string, optional = false) =>
  z.string({ error: key }).transform((v, ctx) => {
    if (optional && v.trim() === '') return 0;
    const cents = parseDollars(v);
    if (cents === undefined) {
      ctx.addIssue({ code: 'custom', message: key });
      return z.NEVER;
    }
    return cents;
  });
const confirmation = z.string().regex(/^\d{1,12}$/).transform(Number).optional().catch(undefined);
const OfflineForm = z.object({
  amount: typedDollars('giving:staff.errors.amount'),
  method: z.enum(['cheque', 'etransfer', 'cash'], { error: 'giving:staff.errors.method' }),
  reference: text(100),
  receivedOn: isoDate,
  advantage: typedDollars('giving:staff.errors.amount', true).default(0),
  advantageDescription: optionalText(200),
  confirmAmountCents: confirmation,
});
const CorrectionForm = z.object({ amount: typedDollars('giving:staff.errors.amount'), receivedOn: isoDate, reason: text(500), confirmAmountCents: confirmation });
const VoidForm = z.object({ reason: text(500) });
const EndForm = z.object({ status: z.enum(['cancelled', 'lapsed'], { error: 'common:form.invalid' }), reason: text(500) });

function utcMinute(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

function toFailingEventView(row: StripeEventQueueStatus['failing'][number]) {
  return { id: row.id, type: row.type, attempts: row.attempts, lastError: row.last_error ?? '', nextAttemptAt: utcMinute(row.next_attempt_at) };
}

function toFailingCallView(row: StripeCallStatus['failing'][number]) {
  return { id: row.id, kind: row.kind, subscriptionId: row.subscription_id, attempts: row.attempts, lastError: row.last_error ?? '', nextAttemptAt: utcMinute(row.next_attempt_at) };
}

function toHeldEventView(row: StripeEventQueueStatus['held'][number]) {
  return { id: row.id, type: row.type, reason: row.held_reason ?? '', heldAt: utcMinute(row.held_at) };
}

/** A Stripe event id from the path (evt_…); anything else is a 404. */
const StripeEventId = z.string().regex(/^evt_\w{1,250}$/);

function localeOf(res: Response): Locale {
  return res.locals.locale as Locale;
}

/** Field messages (keys or already-translated text) in the page's language. */
function translate(res: Response, errors: Record<string, string>): Record<string, string> {
  const t = res.locals.t as TFunction;
  return Object.fromEntries(Object.entries(errors).map(([field, message]) => [field, /^[a-z]+:[A-Za-z0-9_.]+$/.test(message) ? String(t(message)) : message]));
}

/** A DomainError a form can show beside its fields (bad amount, date, duplicate cheque…); others go to the error page. */
function formErrorOf(error: unknown): DomainError | undefined {
  return error instanceof DomainError && Object.keys(error.fieldErrors).length > 0 ? error : undefined;
}

const STATUS_OF = { invalid: 400, conflict: 409 } as const;

/** What a refused money form shows again: what was typed, the messages beside the fields, any confirmation asked for. Rethrows anything else. */
function refusal(res: Response, error: unknown, values: Record<string, unknown>) {
  const refused = formErrorOf(error);
  if (!refused) throw error;
  const confirm = refused instanceof ConfirmationNeeded ? refused.confirmation : undefined;
  return { extra: { values, errors: translate(res, refused.fieldErrors), confirm }, status: STATUS_OF[refused.kind as keyof typeof STATUS_OF] ?? 400 };
}

/** Staff pages for gifts: every route is allow.staff, every action is audited. */
export function staffGivingRoutes(deps: GivingDeps): Router {
  const router = Router();
  const { calendar } = deps;
  const checks = { calendar, largePaymentCents: deps.config.largePaymentCents };
  const receipts = { ...deps.config, clock: calendar.clock };

  /** The pledge page, with what staff typed and the messages beside the fields when a form was refused. */
  async function renderPledge(res: Response, pledgeId: number, extra: Record<string, unknown> = {}, status = 200) {
    const detail = await requirePledgeDetail(deps.db, pledgeId, localeOf(res));
    const groupId = detail.pledge.group_id;
    const groupName = groupId === null ? undefined : (await groupNamesOf(deps.db, [groupId])).get(groupId);
    res.status(status).render('giving/staff-pledge', {
      title: (res.locals.t as TFunction)('giving:staff.pledge', { id: detail.pledge.id }),
      ...detail,
      groupName,
      today: calendar.today(),
      values: { receivedOn: calendar.today(), method: 'cheque' },
      errors: {},
      // Each showing of the page gets its own refund request id: posting this form twice refunds once.
      refundRequestId: newRefundRequestId(),
      csrfToken: res.locals.csrfToken,
      noindex: true,
      ...extra,
    });
  }

  async function renderPayment(res: Response, paymentId: number, extra: Record<string, unknown> = {}, status = 200) {
    const detail = await requirePaymentDetail(deps.db, paymentId, localeOf(res));
    const p = detail.payment;
    const t = res.locals.t as TFunction;
    const names = await groupNamesIn(deps.db, detail.postings.map((e) => e.account));
    res.status(status).render('giving/staff-payment', {
      title: t('giving:staff.gift', { id: p.id }),
      ...detail,
      postings: detail.postings.map((e) => ({ ...e, kindLabel: kindLabel(t, e.kind), accountLabel: accountLabel(t, e.account, names) })),
      today: calendar.today(),
      values: { amount: (p.amount_cents / 100).toFixed(2), receivedOn: p.received_on ?? calendar.dateOf(p.received_at) },
      errors: {},
      csrfToken: res.locals.csrfToken,
      noindex: true,
      ...extra,
    });
  }

  router.get('/staff/gifts', allow.staff, async (req: Request, res: Response) => {
    const filter = PaymentQuery.parse(req.query);
    const page = await listPayments(deps.db, filter);
    res.render('giving/staff-gifts', { title: (res.locals.t as TFunction)('giving:staff.gifts'), filter, ...page, noindex: true });
  });

  // Stripe events waiting in the queue, those that keep failing, and those held because Haven
  // cannot read them, with the reason (ids, types and errors only, never payloads).
  router.get('/staff/gifts/stripe-events', allow.staff, async (req: Request, res: Response) => {
    const [status, calls] = await Promise.all([stripeEventQueueStatus(deps.db), stripeCallStatus(deps.db)]);
    res.render('giving/staff-stripe-events', {
      callsWaiting: calls.waiting,
      failingCalls: calls.failing.map(toFailingCallView),
      callFailingAfter: CALL_FAILING_AFTER_ATTEMPTS,
      title: (res.locals.t as TFunction)('giving:staff.stripeEvents.title'),
      waiting: status.waiting,
      failingCount: status.failingCount,
      heldCount: status.heldCount,
      failing: status.failing.map(toFailingEventView),
      held: status.held.map(toHeldEventView),
      failingAfter: FAILING_AFTER_ATTEMPTS,
      reread: StripeEventId.safeParse(req.query.reread).data,
      setAside: StripeEventId.safeParse(req.query.setAside).data,
      csrfToken: res.locals.csrfToken,
      noindex: true,
    });
  });

  // A held event: read again from Stripe and applied, or set aside (nothing to record). Both audited.
  for (const [path, act, action] of [
    ['reread', rereadHeldStripeEvent, 'stripe_event.reread'],
    ['set-aside', setAsideHeldStripeEvent, 'stripe_event.set_aside'],
  ] as const) {
    router.post(`/staff/gifts/stripe-events/:id/${path}`, allow.staff, async (req: Request, res: Response) => {
      const id = StripeEventId.safeParse(req.params.id);
      if (!id.success) throw new DomainError('not_found', (res.locals.t as TFunction)('common:errors.notFound'));
      if (!(await act(deps.db, id.data))) throw new DomainError('conflict', (res.locals.t as TFunction)('giving:staff.stripeEvents.notHeld', { id: id.data }));
      await deps.db.transaction().execute((trx) => writeAudit(trx, { actor: actorOf(res, 'email'), action, subject: `stripe_event:${id.data}` }));
      res.redirect(303, `/staff/gifts/stripe-events?${path === 'reread' ? 'reread' : 'setAside'}=${encodeURIComponent(id.data)}`);
    });
  }

  router.get('/staff/pledges', allow.staff, async (req: Request, res: Response) => {
    const filter = PledgeQuery.parse(req.query);
    const page = await listPledges(deps.db, filter);
    res.render('giving/staff-pledges', { title: (res.locals.t as TFunction)('giving:staff.pledges'), filter, ...page, noindex: true });
  });

  router.get('/staff/pledges/:id', allow.staff, async (req: Request, res: Response) => {
    const notice = typeof req.query.notice === 'string' && /^(recorded|ended)$/.test(req.query.notice) ? req.query.notice : undefined;
    await renderPledge(res, parseId(res, req.params.id), { refundRequested: req.query.refund === 'requested', notice });
  });

  router.post('/staff/pledges/:id/payments', allow.staff, async (req: Request, res: Response) => {
    const pledgeId = parseId(res, req.params.id);
    const form = parseForm(OfflineForm, req);
    if (!form.ok) return renderPledge(res, pledgeId, { values: form.values, errors: translate(res, form.fieldErrors) }, 400);
    const { amount, advantage, confirmAmountCents, ...fields } = form.data;
    try {
      await deps.db.transaction().execute((trx) =>
        recordOfflinePayment(trx, { pledgeId, amountCents: amount, advantageCents: advantage, confirmedAmountCents: confirmAmountCents, ...fields, ...checks, actor: actorOf(res, 'email'), locale: localeOf(res), receipts }),
      );
    } catch (error) {
      const { extra, status } = refusal(res, error, form.values);
      return renderPledge(res, pledgeId, extra, status);
    }
    res.redirect(303, `/staff/pledges/${pledgeId}?notice=recorded`);
  });

  router.post('/staff/pledges/:id/end', allow.staff, async (req: Request, res: Response) => {
    const pledgeId = parseId(res, req.params.id);
    const form = parseForm(EndForm, req);
    if (!form.ok) return renderPledge(res, pledgeId, { endValues: form.values, endErrors: translate(res, form.fieldErrors) }, 400);
    await deps.db.transaction().execute((trx) => closePledge(trx, { pledgeId, ...form.data, actor: actorOf(res, 'email'), at: calendar.now() }));
    res.redirect(303, `/staff/pledges/${pledgeId}?notice=ended`);
  });

  router.post('/staff/payments/:id/refund', allow.staff, async (req: Request, res: Response) => {
    const paymentId = parseId(res, req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const typed = String(body.amount ?? '');
    const requestId = String(body.requestId ?? '');
    const { pledge_id } = (await deps.db.selectFrom('payments').select('pledge_id').where('id', '=', paymentId).executeTakeFirst()) ?? {};
    if (pledge_id === undefined) throw new DomainError('not_found', (res.locals.t as TFunction)('giving:staff.errors.noPayment', { id: paymentId }));
    // Shown again with the same request id: sending the form again after Stripe did not answer never refunds twice.
    const refundFailed = (message: string, status = 400) =>
      renderPledge(res, pledge_id, { refund: { paymentId, value: typed, message }, ...(REFUND_REQUEST_ID.test(requestId) ? { refundRequestId: requestId } : {}) }, status);
    const amountCents = parseDollars(typed);
    if (amountCents === undefined || amountCents <= 0) return refundFailed((res.locals.t as TFunction)('giving:staff.errors.amount'));
    try {
      await requestRefund({ db: deps.db, stripe: deps.stripe, publicUrl: deps.config.publicUrl }, { paymentId, amountCents, requestId, actor: actorOf(res, 'email'), locale: localeOf(res) });
    } catch (error) {
      const refused = formErrorOf(error);
      if (refused) return refundFailed(Object.values(refused.fieldErrors)[0]!, STATUS_OF[refused.kind as keyof typeof STATUS_OF] ?? 400);
      if (error instanceof DomainError && (error.kind === 'conflict' || error.kind === 'invalid')) return refundFailed(error.message, error.kind === 'conflict' ? 409 : 400);
      if (error instanceof DomainError && error.kind === 'unavailable') return refundFailed(error.message, 503);
      throw error;
    }
    res.redirect(303, `/staff/pledges/${pledge_id}?refund=requested`);
  });

  // One gift: its postings, receipts and history, and (offline gifts) the void and correction forms.
  router.get('/staff/payments/:id', allow.staff, async (req: Request, res: Response) => {
    const notice = typeof req.query.notice === 'string' && /^(voided|corrected)$/.test(req.query.notice) ? req.query.notice : undefined;
    await renderPayment(res, parseId(res, req.params.id), { notice });
  });

  router.post('/staff/payments/:id/void', allow.staff, async (req: Request, res: Response) => {
    const paymentId = parseId(res, req.params.id);
    const form = parseForm(VoidForm, req);
    if (!form.ok) return renderPayment(res, paymentId, { voidValues: form.values, voidErrors: translate(res, form.fieldErrors) }, 400);
    await deps.db.transaction().execute((trx) => voidOfflinePayment(trx, { paymentId, reason: form.data.reason, ...checks, actor: actorOf(res, 'email'), locale: localeOf(res), receipts }));
    res.redirect(303, `/staff/payments/${paymentId}?notice=voided`);
  });

  router.post('/staff/payments/:id/correct', allow.staff, async (req: Request, res: Response) => {
    const paymentId = parseId(res, req.params.id);
    const form = parseForm(CorrectionForm, req);
    if (!form.ok) return renderPayment(res, paymentId, { values: form.values, errors: translate(res, form.fieldErrors) }, 400);
    let replacementId: number;
    try {
      replacementId = await deps.db.transaction().execute((trx) =>
        correctOfflinePayment(trx, {
          paymentId,
          amountCents: form.data.amount,
          receivedOn: form.data.receivedOn,
          reason: form.data.reason,
          confirmedAmountCents: form.data.confirmAmountCents,
          ...checks,
          actor: actorOf(res, 'email'),
          locale: localeOf(res),
          receipts,
        }),
      );
    } catch (error) {
      const { extra, status } = refusal(res, error, form.values);
      return renderPayment(res, paymentId, extra, status);
    }
    res.redirect(303, `/staff/payments/${replacementId}?notice=corrected`);
  });

  router.get('/staff/installments/overdue', allow.staff, async (_req: Request, res: Response) => {
    const rows = await listOverdueInstallments(deps.db, calendar.today());
    res.render('giving/staff-overdue', { title: (res.locals.t as TFunction)('giving:staff.overdue'), rows, csrfToken: res.locals.csrfToken, noindex: true });
  });

  router.post('/staff/installments/overdue/remind', allow.staff, async (_req: Request, res: Response) => {
    await deps.db.transaction().execute((trx) => remindOverdueInstallments(trx, { actor: actorOf(res, 'email'), today: calendar.today(), now: calendar.now(), payTo: { payee: deps.config.charity.name, ...deps.config.contact } }));
    res.redirect(303, '/staff/installments/overdue?reminded=1');
  });

  return router;
}
