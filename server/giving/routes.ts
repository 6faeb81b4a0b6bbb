import { Router, type Request, type Response } from 'express';
import type { TFunction } from 'i18next';
import { DomainError } from '../domain-error';
import { allow } from '../http/policy';
import type { Locale } from '../i18n/i18n';
import { listDonorWall } from './donor-wall';
import { pledgeReference } from './gift-emails';
import { findGiftStatus, findResumeValues, type GivingDeps, startGift } from './gifts';
import { type GiveFormValues, MAX_GIFT_CENTS, MIN_GIFT_CENTS, parseGiveForm, PRESET_AMOUNTS_CENTS } from './give-form';
import { listGroupChoices } from './group-preferences';
import { cancelMonthlyGift, findMonthlyGift } from './monthly-gifts';
import { feeCoverCents } from './stripe-client';

/** The public giving pages: /give, the thank-you and pay-later pages, and a donor's monthly-gift cancellation. */
export function givingRoutes(deps: GivingDeps): Router {
  const router = Router();

  async function renderForm(res: Response, values: GiveFormValues, errors: Record<string, string> = {}, status = 200) {
    const t = res.locals.t as TFunction;
    const messages = Object.fromEntries(Object.entries(errors).map(([field, key]) => [field, t(`donations:give.errors.${key}`)]));
    const selected = values.amount ?? '5000.00';
    res.status(status).render('donations/give', {
      title: t('donations:give.title'),
      values,
      errors: messages,
      errorList: Object.entries(messages).map(([field, message]) => ({ field, message })),
      presets: PRESET_AMOUNTS_CENTS.map((cents) => ({ cents, value: String(cents / 100), checked: selected === String(cents / 100) })),
      otherChecked: selected === 'other',
      monthly: values.frequency === 'monthly',
      cardOn: deps.stripe !== undefined,
      payLater: values.method === 'cheque' || values.method === 'etransfer' || !deps.stripe,
      groups: await listGroupChoices(deps.db),
      minCents: MIN_GIFT_CENTS,
      maxCents: MAX_GIFT_CENTS,
      feeExampleCents: feeCoverCents(10_000, deps.config.cardFee),
      csrfToken: res.locals.csrfToken,
    });
  }

  router.get('/give', allow.anyone, async (req: Request, res: Response) => {
    const resume = Number(req.query.resume);
    if (resume && deps.links.verify('pledge', resume, req.query.t)) {
      const values = await findResumeValues(deps.db, resume);
      if (values) return renderForm(res, values);
    }
    const groupId = typeof req.query.groupId === 'string' && /^\d{1,12}$/.test(req.query.groupId) ? req.query.groupId : '';
    return renderForm(res, { amount: '50', frequency: 'once', method: deps.stripe ? 'card' : 'cheque', groupId });
  });

  router.post('/give', allow.anyone, async (req: Request, res: Response) => {
    const form = parseGiveForm(req.body);
    if (!form.ok) return renderForm(res, form.values, form.errors, 400);
    const started = await startGift(deps, form.data, { ip: req.ip ?? 'unknown', locale: res.locals.locale as Locale });
    if (started.kind === 'checkout') return res.redirect(303, started.url);
    return res.redirect(303, `/give/pledged/${started.pledgeId}?t=${deps.links.sign('pledge', started.pledgeId)}`);
  });

  router.get('/give/thanks/:pledgeId', allow.anyone, async (req: Request, res: Response) => {
    const pledgeId = signedPledgeId(req, res);
    const gift = await findGiftStatus(deps.db, pledgeId);
    if (!gift) throw new DomainError('not_found', (res.locals.t as TFunction)('donations:thanks.notFound'));
    res.render('donations/thanks', { title: (res.locals.t as TFunction)('donations:thanks.title'), gift, totalCents: gift.amount_cents + gift.fee_cover_cents, noindex: true });
  });

  router.get('/give/pledged/:pledgeId', allow.anyone, async (req: Request, res: Response) => {
    const pledgeId = signedPledgeId(req, res);
    const gift = await findGiftStatus(deps.db, pledgeId);
    if (!gift) throw new DomainError('not_found', (res.locals.t as TFunction)('donations:thanks.notFound'));
    res.render('donations/pledged', {
      title: (res.locals.t as TFunction)('donations:pledged.title'),
      gift,
      cheque: gift.method === 'cheque',
      monthly: gift.frequency === 'monthly',
      reference: pledgeReference(gift.id),
      noindex: true,
    });
  });

  router.get('/give/monthly/:id/cancel', allow.anyone, async (req: Request, res: Response) => {
    const gift = await requireSignedMonthlyGift(req, res);
    res.render('donations/cancel-monthly', { title: (res.locals.t as TFunction)('donations:cancel.title'), gift, token: req.query.t, csrfToken: res.locals.csrfToken, noindex: true });
  });

  // Stripe failing (a 5xx) or a subscription it had already cancelled never makes this a 500:
  // the gift stops in Haven and Stripe is told, now or by the processor's retries (monthly-gifts.ts).
  router.post('/give/monthly/:id/cancel', allow.anyone, async (req: Request, res: Response) => {
    const gift = await requireSignedMonthlyGift(req, res);
    const outcome = await cancelMonthlyGift(deps, gift.id);
    res.redirect(303, `/give/monthly/${gift.id}/cancel?t=${deps.links.sign('cancel', gift.id)}&done=${outcome}`);
  });

  router.get('/api/donor-wall', allow.anyone, async (req: Request, res: Response) => {
    const groupId = typeof req.query.groupId === 'string' && /^\d{1,12}$/.test(req.query.groupId) ? Number(req.query.groupId) : null;
    res.json({ gifts: await listDonorWall(deps.db, { groupId, limit: 20 }) });
  });

  function signedPledgeId(req: Request, res: Response): number {
    const pledgeId = /^\d{1,15}$/.test(String(req.params.pledgeId)) ? Number(req.params.pledgeId) : NaN;
    if (!deps.links.verify('pledge', pledgeId, req.query.t)) throw new DomainError('not_found', (res.locals.t as TFunction)('donations:cancel.invalid'));
    return pledgeId;
  }

  async function requireSignedMonthlyGift(req: Request, res: Response) {
    const pledgeId = Number(req.params.id);
    const token = req.method === 'POST' ? (req.body as Record<string, unknown>)?.t : req.query.t;
    const gift = deps.links.verify('cancel', pledgeId, token) ? await findMonthlyGift(deps.db, pledgeId) : undefined;
    if (!gift) throw new DomainError('not_found', (res.locals.t as TFunction)('donations:cancel.invalid'));
    return gift;
  }

  return router;
}
