import { Router, type Request, type Response } from 'express';
import type { TFunction } from 'i18next';
import { findDonorLink } from './donor-links';
import { DomainError } from '../domain-error';
import { allow } from '../http/policy';
import type { Locale } from '../i18n/i18n';
import { listDonorWall } from './donor-wall';
import { pledgeReference } from './gift-emails';
import { findGiftStatus, findResumeValues, type GivingDeps, startGift } from './gifts';
import { type GiveFormValues, isProvince, MAX_GIFT_CENTS, MIN_GIFT_CENTS, parseGiveForm, PRESET_AMOUNTS_CENTS, PROVINCES } from './give-form';
import { listGroupChoices } from './group-preferences';
import { cancelMonthlyGift, findMonthlyGift } from './monthly-gifts';
import { feeCoverCents } from './stripe-client';
import { giftImpact, impactSentence, preferredGroupOf, receiptFrequencyOf } from './thank-you';

/**
 * Which of the form's conditional fields show: the typed amount under "Another amount", the months
 * of a monthly gift, the display name of a donor shown by name; also any field with an error or
 * with something typed the server must ask about. The others render `hidden`; public/give-form.js
 * keeps them in step with the choices (without it, a noscript stylesheet shows them all).
 */
function revealed(values: GiveFormValues, errors: Record<string, string>) {
  const wallName = values.wall === 'name' || (!values.wall && values.wallConsent !== undefined && values.anonymous === undefined);
  return {
    wallName,
    showCustomAmount: values.amount === 'other' || !values.amount || (values.customAmount ?? '').trim() !== '' || errors.amount !== undefined,
    showMonths: values.frequency === 'monthly' || errors.months !== undefined,
    showDisplayName: wallName || errors.displayName !== undefined,
  };
}

/** This browser's token for the giving form it filled in (a card gift's personal details, if it comes back from Checkout). */
export const RESUME_COOKIE = 'haven_resume';

/** The public giving pages: /give, the thank-you and pay-later pages, and a donor's monthly-gift cancellation. */
export function givingRoutes(deps: GivingDeps): Router {
  const router = Router();

  async function renderForm(res: Response, values: GiveFormValues, errors: Record<string, string> = {}, status = 200) {
    const t = res.locals.t as TFunction;
    const messages = Object.fromEntries(Object.entries(errors).map(([field, key]) => [field, t(`giving:give.errors.${key}`)]));
    const selected = values.amount ?? '5000.00';
    res.status(status).render('giving/give', {
      title: t('giving:give.title'),
      values,
      errors: messages,
      errorList: Object.entries(messages).map(([field, message]) => ({ field, message })),
      presets: PRESET_AMOUNTS_CENTS.map((cents) => ({ cents, value: String(cents / 100), checked: selected === String(cents / 100) })),
      otherChecked: selected === 'other',
      monthly: values.frequency === 'monthly',
      ...revealed(values, errors),
      largeGift: errors.amount === 'amountMax',
      provinces: PROVINCES.map((code) => ({ code, name: t(`groups:provinces.${code}`), selected: (values.province ?? '').trim().toUpperCase() === code })),
      // A value from before the select (free text kept on a gift) still shows, as typed, until another is chosen.
      provinceKept: values.province && !isProvince(values.province) ? values.province : undefined,
      cardOn: deps.stripe !== undefined,
      // Receipts are issued in English or French only: a Korean page asks which.
      askReceiptLocale: res.locals.locale === 'ko',
      payLater: values.method === 'cheque' || values.method === 'etransfer' || !deps.stripe,
      groups: await listGroupChoices(deps.db),
      minCents: MIN_GIFT_CENTS,
      maxCents: MAX_GIFT_CENTS,
      feeExampleCents: feeCoverCents(10_000, deps.config.cardFee),
      csrfToken: res.locals.csrfToken,
    });
  }

  router.get('/give', allow.anyone, async (req: Request, res: Response) => {
    const resume = /^\d{1,15}$/.test(String(req.query.resume ?? '')) ? Number(req.query.resume) : undefined;
    if (resume !== undefined) {
      // The thank-you token (in Stripe's cancel URL) brings back the gift's choices; the personal
      // details only come back to the browser holding this gift's resume cookie.
      const personal = await findDonorLink(deps.db, 'resume', (req.cookies as Record<string, unknown>)?.[RESUME_COOKIE], { pledgeId: resume });
      const choices = personal ?? (await findDonorLink(deps.db, 'thanks', req.query.t, { pledgeId: resume }));
      const values = choices && (await findResumeValues(deps.db, resume, personal !== undefined));
      if (values) return renderForm(res, values);
    }
    const groupId = typeof req.query.groupId === 'string' && /^\d{1,12}$/.test(req.query.groupId) ? req.query.groupId : '';
    return renderForm(res, { amount: '50', frequency: 'once', method: deps.stripe ? 'card' : 'cheque', groupId });
  });

  router.post('/give', allow.anyone, async (req: Request, res: Response) => {
    const form = parseGiveForm(req.body);
    if (!form.ok) return renderForm(res, form.values, form.errors, 400);
    const started = await startGift(deps, form.data, { ip: req.ip ?? 'unknown', locale: res.locals.locale as Locale });
    if (started.kind === 'pay_later') return res.redirect(303, started.pledgedPath);
    res.cookie(RESUME_COOKIE, started.resumeToken, {
      httpOnly: true,
      sameSite: 'lax', // sent on the top-level return from Checkout
      secure: deps.config.publicUrl.startsWith('https:'),
      path: '/give',
      maxAge: 24 * 3600 * 1000,
    });
    return res.redirect(303, started.url);
  });

  router.get('/give/thanks/:pledgeId', allow.anyone, async (req: Request, res: Response) => {
    const t = res.locals.t as TFunction;
    const pledgeId = await thanksPledgeId(req, res);
    const gift = await findGiftStatus(deps.db, pledgeId);
    if (!gift) throw new DomainError('not_found', t('giving:thanks.notFound'));
    const group = await preferredGroupOf(deps.db, pledgeId);
    const shareUrl = new URL(group?.path ?? '/', deps.config.publicUrl).toString();
    const impact = await giftImpact(deps.db, gift.amount_cents);
    res.render('giving/thanks', {
      title: t('giving:thanks.title'),
      gift,
      totalCents: gift.amount_cents + gift.fee_cover_cents,
      monthly: gift.frequency === 'monthly',
      group,
      annualReceipt: (await receiptFrequencyOf(deps.db, pledgeId)) === 'annual',
      impact,
      impactText: impact && impactSentence(t, impact, gift.frequency === 'monthly', res.locals.locale as Locale),
      shareText: group ? t('giving:thanks.shareGroupText', { group: group.name }) : t('giving:thanks.shareText'),
      shareUrl,
      noindex: true,
    });
  });

  router.get('/give/pledged/:pledgeId', allow.anyone, async (req: Request, res: Response) => {
    const pledgeId = await thanksPledgeId(req, res);
    const gift = await findGiftStatus(deps.db, pledgeId);
    if (!gift) throw new DomainError('not_found', (res.locals.t as TFunction)('giving:thanks.notFound'));
    res.render('giving/pledged', {
      title: (res.locals.t as TFunction)('giving:pledged.title'),
      gift,
      cheque: gift.method === 'cheque',
      monthly: gift.frequency === 'monthly',
      reference: pledgeReference(gift.id),
      group: await preferredGroupOf(deps.db, pledgeId),
      noindex: true,
    });
  });

  router.get('/give/monthly/:id/cancel', allow.anyone, async (req: Request, res: Response) => {
    const gift = await requireSignedMonthlyGift(req, res);
    res.render('giving/cancel-monthly', { title: (res.locals.t as TFunction)('giving:cancel.title'), gift, token: req.query.t, csrfToken: res.locals.csrfToken, noindex: true });
  });

  // Stripe failing (a 5xx) or a subscription it had already cancelled never makes this a 500:
  // the gift stops in Haven and Stripe is told, now or by the processor's retries (monthly-gifts.ts).
  router.post('/give/monthly/:id/cancel', allow.anyone, async (req: Request, res: Response) => {
    const gift = await requireSignedMonthlyGift(req, res);
    const outcome = await cancelMonthlyGift(deps, gift.id);
    res.redirect(303, `/give/monthly/${gift.id}/cancel?t=${encodeURIComponent(String((req.body as Record<string, unknown>).t))}&done=${outcome}`);
  });

  router.get('/api/donor-wall', allow.anyone, async (req: Request, res: Response) => {
    const groupId = typeof req.query.groupId === 'string' && /^\d{1,12}$/.test(req.query.groupId) ? Number(req.query.groupId) : null;
    res.json({ gifts: await listDonorWall(deps.readDb ?? deps.db, { groupId, limit: 20 }) });
  });

  /** The pledge of a thank-you link: its token must be a thank-you token for this very pledge. */
  async function thanksPledgeId(req: Request, res: Response): Promise<number> {
    const pledgeId = /^\d{1,15}$/.test(String(req.params.pledgeId)) ? Number(req.params.pledgeId) : NaN;
    if (!(await findDonorLink(deps.db, 'thanks', req.query.t, { pledgeId }))) throw new DomainError('not_found', (res.locals.t as TFunction)('giving:cancel.invalid'));
    return pledgeId;
  }

  async function requireSignedMonthlyGift(req: Request, res: Response) {
    const pledgeId = /^\d{1,15}$/.test(String(req.params.id)) ? Number(req.params.id) : NaN;
    const token = req.method === 'POST' ? (req.body as Record<string, unknown>)?.t : req.query.t;
    const gift = (await findDonorLink(deps.db, 'cancel_monthly', token, { pledgeId })) ? await findMonthlyGift(deps.db, pledgeId) : undefined;
    if (!gift) throw new DomainError('not_found', (res.locals.t as TFunction)('giving:cancel.invalid'));
    return gift;
  }

  return router;
}
