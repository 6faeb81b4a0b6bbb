import { Router, type Request, type Response } from 'express';
import type { TFunction } from 'i18next';
import { z } from 'zod';
import { detailsOfRow, parseDonorDetailsForm, valuesOfDetails } from './donor-details';
import { findDonorLink, revokeDonorLink, useDonorLink } from './donor-links';
import { adoptGiftDetails, findDonor, updateDonorDetails } from './donors';
import { DomainError } from '../domain-error';
import { allow } from '../http/policy';
import type { Locale } from '../i18n/i18n';
import { setReceiptFrequency } from '../receipts/issuing';
import { cancelAndReplaceReceipt } from '../receipts/replacing';
import { renderReceiptPdf } from '../receipts/pdf';
import { findIssuedDocument, findReceipt } from '../receipts/receipts';
import { DONOR_COOKIE, DONOR_LINK_LIMITS, findOwnPledge, loadDonorPage, ownsReceipt, requestDonorSignIn, sessionDonorId, signInWithLink } from './donor-page';
import type { GivingDeps } from './gifts';
import { cancelMonthlyGift } from './monthly-gifts';

/**
 * /donor: a donor's own page. Every route is allow.anyone (donors have no account); what a route
 * shows or changes is only the donor of the session cookie (or of the single-use link it carries).
 */
const Id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const EmailForm = z.object({ email: z.string().trim().max(254).pipe(z.email()) });

export function donorPageRoutes(deps: GivingDeps): Router {
  const router = Router();
  const secure = deps.config.publicUrl.startsWith('https:');

  const t = (res: Response) => res.locals.t as TFunction;
  const privatePage = (res: Response) => res.set('Cache-Control', 'private, no-store').set('Referrer-Policy', 'no-referrer');

  async function requireDonor(req: Request, res: Response): Promise<number> {
    const donorId = await sessionDonorId(deps.db, req);
    // Not signed in (or the session ended): nothing here for this visitor.
    if (donorId === undefined) throw new DomainError('not_found', t(res)('giving:donorPage.signInFirst'));
    return donorId;
  }

  function idOf(res: Response, value: unknown): number {
    const parsed = Id.safeParse(value);
    if (!parsed.success) throw new DomainError('not_found', t(res)('common:errors.notFound'));
    return parsed.data;
  }

  async function renderAccount(res: Response, donorId: number, extra: { values?: Record<string, string>; errors?: Record<string, string>; notice?: string } = {}, status = 200) {
    const page = await loadDonorPage(deps.db, donorId);
    const errors = Object.fromEntries(Object.entries(extra.errors ?? {}).map(([field, key]) => [field, t(res)(`giving:details.errors.${key}`)]));
    privatePage(res).status(status).render('giving/donor-account', {
      title: t(res)('giving:donorPage.accountTitle'),
      ...page,
      values: extra.values ?? valuesOfDetails(page.donor.details),
      errors,
      errorList: Object.entries(errors).map(([field, message]) => ({ field: `d-${field}`, message })),
      notice: extra.notice,
      cardOn: deps.stripe !== undefined,
      csrfToken: res.locals.csrfToken,
      noindex: true,
    });
  }

  router.get('/donor', allow.anyone, async (req: Request, res: Response) => {
    if ((await sessionDonorId(deps.db, req)) !== undefined) return res.redirect(303, '/donor/account');
    privatePage(res).render('giving/donor-start', { title: t(res)('giving:donorPage.title'), values: {}, limits: DONOR_LINK_LIMITS, csrfToken: res.locals.csrfToken, noindex: true });
  });

  // Always the same answer, whether or not the e-mail has gifts.
  router.post('/donor', allow.anyone, async (req: Request, res: Response) => {
    const form = EmailForm.safeParse(req.body);
    const typed = typeof (req.body as Record<string, unknown>)?.email === 'string' ? String((req.body as Record<string, unknown>).email) : '';
    if (!form.success) {
      return privatePage(res).status(400).render('giving/donor-start', { title: t(res)('giving:donorPage.title'), values: { email: typed }, error: t(res)('giving:give.errors.email'), csrfToken: res.locals.csrfToken, noindex: true });
    }
    const outcome = await requestDonorSignIn(deps.db, deps.config.publicUrl, form.data.email, req.ip ?? 'unknown');
    if (outcome === 'rate_limited') throw new DomainError('rate_limited', t(res)('giving:donorPage.rateLimited'));
    privatePage(res).render('giving/donor-start', { title: t(res)('giving:donorPage.title'), sent: true, values: { email: form.data.email }, noindex: true });
  });

  // A GET never uses the link (mail scanners open links): it shows a button that does.
  router.get('/donor/sign-in/:token', allow.anyone, async (req: Request, res: Response) => {
    const link = await findDonorLink(deps.db, 'sign_in', req.params.token);
    if (!link) throw new DomainError('not_found', t(res)('giving:donorPage.linkInvalid'));
    privatePage(res).render('giving/donor-sign-in', { title: t(res)('giving:donorPage.title'), token: req.params.token, csrfToken: res.locals.csrfToken, noindex: true });
  });

  router.post('/donor/sign-in/:token', allow.anyone, async (req: Request, res: Response) => {
    const session = await signInWithLink(deps.db, req.params.token);
    if (!session) throw new DomainError('not_found', t(res)('giving:donorPage.linkInvalid'));
    res.cookie(DONOR_COOKIE, session, { httpOnly: true, sameSite: 'lax', secure, path: '/donor', maxAge: 2 * 3600 * 1000 });
    res.redirect(303, '/donor/account');
  });

  router.post('/donor/sign-out', allow.anyone, async (req: Request, res: Response) => {
    await revokeDonorLink(deps.db, 'session', (req.cookies as Record<string, unknown>)?.[DONOR_COOKIE]);
    res.clearCookie(DONOR_COOKIE, { path: '/donor' });
    res.redirect(303, '/donor?signedOut=1');
  });

  router.get('/donor/account', allow.anyone, async (req: Request, res: Response) => {
    const donorId = await sessionDonorId(deps.db, req);
    if (donorId === undefined) {
      // The session ended (or never began): the way in, with a word on why.
      return privatePage(res).render('giving/donor-start', { title: t(res)('giving:donorPage.title'), values: {}, expired: true, csrfToken: res.locals.csrfToken, noindex: true });
    }
    const notices: Record<string, string> = {
      details: t(res)('giving:donorPage.detailsSaved'),
      preference: t(res)('giving:donorPage.preferenceSaved'),
      cancelled: t(res)('giving:donorPage.cancelled'),
      reissued: t(res)('giving:donorPage.reissued'),
    };
    await renderAccount(res, donorId, { notice: typeof req.query.done === 'string' ? notices[req.query.done] : undefined });
  });

  // The mailing address (and name, language) on the record: fixes receipts still to come; past ones are replaced only on request.
  router.post('/donor/details', allow.anyone, async (req: Request, res: Response) => {
    const donorId = await requireDonor(req, res);
    const form = parseDonorDetailsForm(req.body);
    if (!form.ok) return renderAccount(res, donorId, { values: form.values, errors: form.errors }, 400);
    await deps.db.transaction().execute((trx) => updateDonorDetails(trx, { donorId, details: form.details, actor: { userId: null, label: `donor:${donorId}` }, by: 'donor', reason: 'donor page' }));
    res.redirect(303, '/donor/account?done=details');
  });

  router.post('/donor/receipt-preference', allow.anyone, async (req: Request, res: Response) => {
    const donorId = await requireDonor(req, res);
    const choice = z.enum(['default', 'per_gift', 'annual']).safeParse((req.body as Record<string, unknown>)?.frequency);
    if (!choice.success) throw new DomainError('invalid', t(res)('common:errors.badRequest'));
    await deps.db.transaction().execute((trx) => setReceiptFrequency(trx, donorId, choice.data === 'default' ? null : choice.data, { userId: null, label: `donor:${donorId}` }));
    res.redirect(303, '/donor/account?done=preference');
  });

  router.post('/donor/pledges/:id/cancel', allow.anyone, async (req: Request, res: Response) => {
    const donorId = await requireDonor(req, res);
    const pledge = await findOwnPledge(deps.db, donorId, idOf(res, req.params.id));
    if (!pledge || pledge.frequency !== 'monthly') throw new DomainError('not_found', t(res)('common:errors.notFound'));
    await cancelMonthlyGift(deps, pledge.id);
    res.redirect(303, '/donor/account?done=cancelled');
  });

  // The card behind a monthly gift, changed on Stripe's Billing Portal (Haven never sees card data).
  router.post('/donor/pledges/:id/card', allow.anyone, async (req: Request, res: Response) => {
    const donorId = await requireDonor(req, res);
    const pledge = await findOwnPledge(deps.db, donorId, idOf(res, req.params.id));
    if (!pledge || pledge.frequency !== 'monthly' || !pledge.stripe_customer_id) throw new DomainError('not_found', t(res)('common:errors.notFound'));
    if (!deps.stripe) throw new DomainError('unavailable', t(res)('giving:give.cardOff'));
    const portal = await deps.stripe.billingPortal.sessions
      .create({ customer: pledge.stripe_customer_id, return_url: `${deps.config.publicUrl}/donor/account`, locale: res.locals.locale as Locale })
      .catch((error: unknown) => {
        throw new DomainError('unavailable', t(res)('giving:donorPage.portalFailed'), { cause: String((error as Error)?.message ?? error) });
      });
    res.redirect(303, portal.url);
  });

  router.get('/donor/receipts/:id', allow.anyone, async (req: Request, res: Response) => {
    const donorId = await requireDonor(req, res);
    const id = idOf(res, req.params.id);
    const receipt = (await ownsReceipt(deps.db, donorId, id)) ? await findReceipt(deps.db, id) : undefined;
    if (!receipt) throw new DomainError('not_found', t(res)('common:errors.notFound'));
    const pdf = receipt.status === 'cancelled' ? await renderReceiptPdf(receipt, { stampCancelled: true }) : ((await findIssuedDocument(deps.db, id)) ?? (await renderReceiptPdf(receipt)));
    privatePage(res).type('application/pdf').set('Content-Disposition', `inline; filename="receipt-${receipt.serial}.pdf"`).send(pdf);
  });

  // "Past receipts are replaced only on request": the donor asks for a receipt with their current details.
  router.post('/donor/receipts/:id/reissue', allow.anyone, async (req: Request, res: Response) => {
    const donorId = await requireDonor(req, res);
    const id = idOf(res, req.params.id);
    if (!(await ownsReceipt(deps.db, donorId, id))) throw new DomainError('not_found', t(res)('common:errors.notFound'));
    await deps.db.transaction().execute((trx) => cancelAndReplaceReceipt(trx, deps.config, id, 'the donor asked for their current details', { userId: null, label: `donor:${donorId}` }));
    res.redirect(303, '/donor/account?done=reissued');
  });

  // "Were these details yours?": shown on GET, applied by the button (the link works once).
  router.get('/donor/confirm/:token', allow.anyone, async (req: Request, res: Response) => {
    const link = await findDonorLink(deps.db, 'confirm_details', req.params.token);
    const own = link?.pledgeId ? await deps.db.selectFrom('pledge_donor_details').selectAll().where('pledge_id', '=', link.pledgeId).executeTakeFirst() : undefined;
    if (!link || !own) throw new DomainError('not_found', t(res)('giving:donorPage.linkInvalid'));
    const pledge = await deps.db.selectFrom('pledges').select('donor_id').where('id', '=', link.pledgeId!).executeTakeFirstOrThrow();
    const donor = (await findDonor(deps.db, pledge.donor_id))!;
    privatePage(res).render('giving/donor-confirm', { title: t(res)('giving:donorPage.confirmTitle'), typed: detailsOfRow(own), record: donor.details, token: req.params.token, csrfToken: res.locals.csrfToken, noindex: true });
  });

  router.post('/donor/confirm/:token', allow.anyone, async (req: Request, res: Response) => {
    const done = await deps.db.transaction().execute(async (trx) => {
      const link = await findDonorLink(trx, 'confirm_details', req.params.token);
      if (!link?.pledgeId) return false;
      if (!(await useDonorLink(trx, link.id))) return false;
      await adoptGiftDetails(trx, { pledgeId: link.pledgeId, actor: { userId: null, label: 'donor (confirmation link)' }, by: 'donor', reason: `confirmed the details of pledge ${link.pledgeId}` });
      return true;
    });
    if (!done) throw new DomainError('not_found', t(res)('giving:donorPage.linkInvalid'));
    privatePage(res).render('giving/donor-confirm', { title: t(res)('giving:donorPage.confirmTitle'), confirmed: true, noindex: true });
  });

  return router;
}
