import { type ErrorRequestHandler, Router } from 'express';
import type { TFunction } from 'i18next';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { charityCalendar } from '../calendar/charity-calendar';
import { DomainError } from '../domain-error';
import { idParam, optionalIdParam } from '../http/forms';
import { actorOf, allow } from '../http/policy';
import { issueDuePerGiftReceipts, issueReceiptForPayment, listUnreceipted, ReceiptError, setReceiptFrequency } from './issuing';
import { cancelAndReplaceReceipt } from './replacing';
import { runYearEnd } from './year-end';
import multer from 'multer';
import { renderReceiptPdf } from './pdf';
import { findCurrentSignature, MAX_SIGNATURE_BYTES, saveSignature } from './signatures';
import { findIssuedDocument, findReceipt, findReceiptByToken, listReceipts } from './receipts';

const IssueForm = z.object({ paymentId: idParam });
const ReplaceForm = z.object({ reason: z.string().trim().min(3).max(500) });
const YearEndForm = z.object({ year: z.coerce.number().int().min(2000).max(2100) });
const PreferenceForm = z.object({ donorId: idParam, frequency: z.enum(['default', 'per_gift', 'annual']) });
const ListQuery = z.object({
  before: optionalIdParam,
  issued: z.string().max(40).optional(),
  replaced: z.string().max(40).optional(),
  replacement: z.string().max(40).optional(),
  yearEnd: z.string().regex(/^\d{4}:\d+:\d+:\d+:\d+$/).optional(),
  preference: z.literal('saved').optional(),
  perGift: z.coerce.number().int().min(0).optional(),
});

function parseOr400<T>(schema: z.ZodType<T>, value: unknown, t: TFunction): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DomainError('invalid', t('common:errors.badRequest'));
  return parsed.data;
}

export function receiptRoutes(deps: AppDeps): Router {
  const router = Router();
  const { db } = deps;
  // Issuing reads the charity's calendar: its time zone, and the app's clock.
  const config = { ...deps.config, clock: deps.clock };
  const lastYear = () => Number(charityCalendar(config.charityTimeZone, config.clock).today().slice(0, 4)) - 1;

  // A donor's link from their receipt e-mail: a random token (stored hashed), never an id.
  router.get('/receipts/:token', allow.anyone, async (req, res) => {
    const t = res.locals.t as TFunction;
    const receipt = await findReceiptByToken(db, String(req.params.token));
    res.set('Cache-Control', 'private, no-store');
    res.set('Referrer-Policy', 'no-referrer');
    res.set('X-Robots-Tag', 'noindex');
    if (!receipt) throw new DomainError('not_found', t('receipts:download.notFound'));
    if (receipt.status === 'cancelled') {
      res.status(410).render('receipts/cancelled', { title: t('receipts:download.cancelledTitle'), serial: receipt.serial, noindex: true });
      return;
    }
    // The bytes as issued; a receipt issued before they were kept is rendered from its row.
    const pdf = (await findIssuedDocument(db, receipt.id)) ?? (await renderReceiptPdf(receipt));
    res.type('application/pdf').set('Content-Disposition', `inline; filename="receipt-${receipt.serial}.pdf"`).send(pdf);
  });

  router.get('/staff/receipts', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    const query = parseOr400(ListQuery, req.query, t);
    const [queue, receipts] = await Promise.all([listUnreceipted(db, { calendar: config }), listReceipts(db, { before: query.before })]);
    const notices: string[] = [];
    if (query.issued) notices.push(t('receipts:staff.issued', { serial: query.issued }));
    if (query.replaced) {
      notices.push(
        query.replacement
          ? t('receipts:staff.replaced', { serial: query.replaced, replacement: query.replacement })
          : t('receipts:staff.cancelledOnly', { serial: query.replaced }),
      );
    }
    if (query.yearEnd) {
      const [year, annual, replaced, perGift, withoutAddress] = query.yearEnd.split(':');
      notices.push(t('receipts:staff.yearEnd.done', { year, annual, replaced, perGift }));
      if (withoutAddress !== '0') notices.push(t('receipts:staff.yearEnd.withoutAddress', { n: withoutAddress }));
    }
    if (query.perGift !== undefined) notices.push(t('receipts:staff.perGiftRun.done', { issued: query.perGift }));
    if (query.preference) notices.push(t('receipts:staff.preference.saved'));
    const queueRows = queue.map((q) => ({ ...q, methodLabel: t(`receipts:staff.method.${q.method}`) }));
    res.render('receipts/staff', { title: t('receipts:staff.title'), queue: queueRows, receipts: receipts.rows, nextBefore: receipts.nextBefore, notices, defaultYear: lastYear(), noindex: true });
  });

  router.post('/staff/receipts/issue', allow.staff, async (req, res) => {
    const form = parseOr400(IssueForm, req.body, res.locals.t as TFunction);
    const receipt = await db.transaction().execute((trx) => issueReceiptForPayment(trx, config, form.paymentId, actorOf(res, 'email')));
    res.redirect(303, `/staff/receipts?issued=${encodeURIComponent(receipt.serial)}`);
  });

  router.post('/staff/receipts/issue-due', allow.staff, async (_req, res) => {
    const result = await db.transaction().execute((trx) => issueDuePerGiftReceipts(trx, config, actorOf(res, 'email')));
    res.redirect(303, `/staff/receipts?perGift=${result.issued}`);
  });

  router.post('/staff/receipts/year-end', allow.staff, async (req, res) => {
    const form = parseOr400(YearEndForm, req.body, res.locals.t as TFunction);
    const result = await db.transaction().execute((trx) => runYearEnd(trx, config, form.year, actorOf(res, 'email')));
    res.redirect(303, `/staff/receipts?yearEnd=${result.year}:${result.annualIssued}:${result.annualReplaced}:${result.perGiftIssued}:${result.donorsWithoutAddress}`);
  });

  router.post('/staff/receipts/preference', allow.staff, async (req, res) => {
    const form = parseOr400(PreferenceForm, req.body, res.locals.t as TFunction);
    const frequency = form.frequency === 'default' ? null : form.frequency;
    await db.transaction().execute((trx) => setReceiptFrequency(trx, form.donorId, frequency, actorOf(res, 'email')));
    res.redirect(303, '/staff/receipts?preference=saved');
  });

  router.post('/staff/receipts/:id/replace', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    const id = parseOr400(idParam, req.params.id, t);
    const form = parseOr400(ReplaceForm, req.body, t);
    const result = await db.transaction().execute((trx) => cancelAndReplaceReceipt(trx, config, id, form.reason, actorOf(res, 'email')));
    const next = new URLSearchParams({ replaced: result.cancelled.serial });
    if (result.replacement) next.set('replacement', result.replacement.serial);
    res.redirect(303, `/staff/receipts?${next.toString()}`);
  });

  // The charity's copy of any receipt: a cancelled one stamped CANCELLED / ANNULÉ with its replacement's serial.
  router.get('/staff/receipts/:id/pdf', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    const receipt = await findReceipt(db, parseOr400(idParam, req.params.id, t));
    if (!receipt) throw new DomainError('not_found', t('common:errors.notFound'));
    const pdf =
      receipt.status === 'cancelled'
        ? await renderReceiptPdf(receipt, { stampCancelled: true })
        : ((await findIssuedDocument(db, receipt.id)) ?? (await renderReceiptPdf(receipt)));
    res.set('Cache-Control', 'private, no-store');
    res.type('application/pdf').set('Content-Disposition', `inline; filename="receipt-${receipt.serial}.pdf"`).send(pdf);
  });

  // The unalterable copy: the bytes as issued (what the donor received), kept for every receipt since issue 14.
  router.get('/staff/receipts/:id/original', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    const id = parseOr400(idParam, req.params.id, t);
    const receipt = await findReceipt(db, id);
    if (!receipt) throw new DomainError('not_found', t('common:errors.notFound'));
    const pdf = (await findIssuedDocument(db, id)) ?? (await renderReceiptPdf(receipt));
    res.set('Cache-Control', 'private, no-store');
    res.type('application/pdf').set('Content-Disposition', `inline; filename="receipt-${receipt.serial}.pdf"`).send(pdf);
  });

  // The authorised signature printed on receipts (staff upload an image; kept in the database).
  router.get('/staff/receipts/signature', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    const current = await findCurrentSignature(db);
    res.render('receipts/signature', {
      title: t('receipts:staff.signature.title'),
      current: current ? { uploadedAt: current.uploaded_at, width: current.width, height: current.height } : null,
      saved: req.query.saved === '1',
      maxKb: MAX_SIGNATURE_BYTES / 1024,
      noindex: true,
    });
  });

  router.get('/staff/receipts/signature/image', allow.staff, async (_req, res) => {
    const current = await findCurrentSignature(db);
    if (!current) throw new DomainError('not_found', (res.locals.t as TFunction)('common:errors.notFound'));
    res.set('Cache-Control', 'private, no-store');
    res.type(current.content_type).send(current.image);
  });

  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: MAX_SIGNATURE_BYTES, files: 1, fields: 2 } }).single('signature');
  router.post('/staff/receipts/signature', allow.staff, async (req, res) => {
    const t = res.locals.t as TFunction;
    // Multipart: the CSRF token came in the query string (server/http/csrf.ts); the file is parsed here.
    await new Promise<void>((resolve, reject) => upload(req, res, (error: unknown) => (error ? reject(new ReceiptError('invalid', 'signatureFile')) : resolve())));
    const file = (req as unknown as { file?: { buffer: Buffer } }).file;
    if (!file) throw new DomainError('invalid', t('receipts:errors.signatureFile'));
    await db.transaction().execute((trx) => saveSignature(trx, file.buffer, actorOf(res, 'email')));
    res.redirect(303, '/staff/receipts/signature?saved=1');
  });

  // The module's errors in the reader's language; everything else passes on unchanged.
  const translateErrors: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    if (!(error instanceof ReceiptError)) return next(error);
    const t = res.locals.t as TFunction;
    next(new DomainError(error.kind, String(t(`receipts:errors.${error.messageKey}`, error.messageParams))));
  };
  router.use(translateErrors);

  return router;
}
