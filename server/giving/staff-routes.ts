import { Router, type Request, type Response } from 'express';
import type { TFunction } from 'i18next';
import type { Locale } from '../i18n/i18n';
import { z } from 'zod';
import { allow, requireUser } from '../http/policy';
import type { GivingDeps } from './gifts';
import { parseDollars } from './give-form';
import {
  listOverdueInstallments,
  listPayments,
  listPledges,
  recordOfflinePayment,
  remindOverdueInstallments,
  newRefundRequestId,
  requestRefund,
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
  status: z.enum(['succeeded', 'refunded', 'partially_refunded', 'disputed']).optional().catch(undefined),
  before: Id.optional().catch(undefined),
});
const PledgeQuery = z.object({
  q: z.string().trim().max(100).optional().transform((v) => v || undefined).catch(undefined),
  method: z.enum(['card', 'cheque', 'etransfer']).optional().catch(undefined),
  status: z.enum(['pending', 'active', 'fulfilled', 'cancelled', 'lapsed']).optional().catch(undefined),
  before: Id.optional().catch(undefined),
});
const OfflineForm = z.object({
  amount: z.string(),
  method: z.enum(['cheque', 'etransfer', 'cash']),
  reference: z.string().trim().min(1).max(100),
  receivedOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
});

function actorOf(res: Response) {
  const user = requireUser(res);
  return { userId: user.id, label: user.email };
}

function cents(res: Response, text: string): number {
  const value = parseDollars(text);
  if (value === undefined || value <= 0) {
    const message = (res.locals.t as TFunction)('donations:give.errors.amount');
    throw new DomainError('invalid', message, { amount: message });
  }
  return value;
}

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

/** Staff pages for gifts: every route is allow.staff, every action is audited. */
export function staffGivingRoutes(deps: GivingDeps): Router {
  const router = Router();

  router.get('/staff/gifts', allow.staff, async (req: Request, res: Response) => {
    const filter = PaymentQuery.parse(req.query);
    const page = await listPayments(deps.db, filter);
    res.render('donations/staff-gifts', { title: 'Gifts', filter, ...page, noindex: true });
  });

  // Stripe events waiting in the queue, those that keep failing, and those held because Haven
  // cannot read them, with the reason (ids, types and errors only, never payloads).
  router.get('/staff/gifts/stripe-events', allow.staff, async (req: Request, res: Response) => {
    const [status, calls] = await Promise.all([stripeEventQueueStatus(deps.db), stripeCallStatus(deps.db)]);
    res.render('donations/staff-stripe-events', {
      callsWaiting: calls.waiting,
      failingCalls: calls.failing.map(toFailingCallView),
      callFailingAfter: CALL_FAILING_AFTER_ATTEMPTS,
      title: (res.locals.t as TFunction)('donations:staff.stripeEvents.title'),
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
      if (!(await act(deps.db, id.data))) throw new DomainError('conflict', (res.locals.t as TFunction)('donations:staff.stripeEvents.notHeld', { id: id.data }));
      await deps.db.transaction().execute((trx) => writeAudit(trx, { actor: actorOf(res), action, subject: `stripe_event:${id.data}` }));
      res.redirect(303, `/staff/gifts/stripe-events?${path === 'reread' ? 'reread' : 'setAside'}=${encodeURIComponent(id.data)}`);
    });
  }

  router.get('/staff/pledges', allow.staff, async (req: Request, res: Response) => {
    const filter = PledgeQuery.parse(req.query);
    const page = await listPledges(deps.db, filter);
    res.render('donations/staff-pledges', { title: 'Pledges', filter, ...page, noindex: true });
  });

  router.get('/staff/pledges/:id', allow.staff, async (req: Request, res: Response) => {
    const detail = await requirePledgeDetail(deps.db, parseId(res, req.params.id), localeOf(res));
    // Each showing of the page gets its own refund request id: posting this form twice refunds once.
    res.render('donations/staff-pledge', {
      title: `Pledge ${detail.pledge.id}`,
      ...detail,
      refundRequestId: newRefundRequestId(),
      refundRequested: req.query.refund === 'requested',
      today: new Date().toISOString().slice(0, 10),
      csrfToken: res.locals.csrfToken,
      noindex: true,
    });
  });

  router.post('/staff/pledges/:id/payments', allow.staff, async (req: Request, res: Response) => {
    const pledgeId = parseId(res, req.params.id);
    const form = OfflineForm.safeParse(req.body);
    if (!form.success) throw new DomainError('invalid', (res.locals.t as TFunction)('donations:staff.errors.offlineForm'));
    const amountCents = cents(res, form.data.amount);
    await deps.db.transaction().execute((trx) => recordOfflinePayment(trx, { pledgeId, amountCents, ...form.data, actor: actorOf(res), locale: localeOf(res), receipts: deps.config }));
    res.redirect(303, `/staff/pledges/${pledgeId}`);
  });

  router.post('/staff/payments/:id/refund', allow.staff, async (req: Request, res: Response) => {
    const paymentId = parseId(res, req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const amountCents = cents(res, String(body.amount ?? ''));
    await requestRefund({ db: deps.db, stripe: deps.stripe, publicUrl: deps.config.publicUrl }, { paymentId, amountCents, requestId: String(body.requestId ?? ''), actor: actorOf(res), locale: localeOf(res) });
    const { pledge_id } = await deps.db.selectFrom('payments').select('pledge_id').where('id', '=', paymentId).executeTakeFirstOrThrow();
    res.redirect(303, `/staff/pledges/${pledge_id}?refund=requested`);
  });

  router.get('/staff/installments/overdue', allow.staff, async (_req: Request, res: Response) => {
    const rows = await listOverdueInstallments(deps.db);
    res.render('donations/staff-overdue', { title: 'Overdue instalments', rows, csrfToken: res.locals.csrfToken, noindex: true });
  });

  router.post('/staff/installments/overdue/remind', allow.staff, async (_req: Request, res: Response) => {
    await deps.db.transaction().execute((trx) => remindOverdueInstallments(trx, { actor: actorOf(res) }));
    res.redirect(303, '/staff/installments/overdue?reminded=1');
  });

  return router;
}
