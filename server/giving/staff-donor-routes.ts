import { Router, type Request, type Response } from 'express';
import type { TFunction } from 'i18next';
import { z } from 'zod';
import { type DonorDetails, hasInvisibleCharacters, parseDonorDetailsForm, valuesOfDetails } from './donor-details';
import { mergeDonors, undoDonorMerge } from './donor-merges';
import {
  attachGiftToRecord,
  donorRecordIds,
  findDonor,
  findDonorIdByEmail,
  listDonorMerges,
  listDonorPledges,
  listEmailsTo,
  searchDonors,
  updateDonorDetails,
} from './donors';
import { DomainError } from '../domain-error';
import { actorOf, allow } from '../http/policy';
import { listUnreceipted, setReceiptFrequency } from '../receipts/issuing';
import { listReceipts } from '../receipts/receipts';
import { pledgeReference } from './gift-emails';
import type { GivingDeps } from './gifts';

/**
 * Staff donor records (/staff/donors): search, a donor's page (gifts, pledges, receipts, e-mails
 * sent), editing the record (audited, with a reason), attaching a gift typed under other details,
 * merging two records and undoing a merge. Every route is allow.staff.
 */
const Id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const Reason = z.string().trim().min(3).max(500).refine((v) => !hasInvisibleCharacters(v));
const SearchQuery = z.object({
  q: z.string().trim().max(100).optional().transform((v) => v || undefined).catch(undefined),
  before: Id.optional().catch(undefined),
});

function idOf(res: Response, value: unknown): number {
  const parsed = Id.safeParse(value);
  if (!parsed.success) throw new DomainError('not_found', (res.locals.t as TFunction)('common:errors.notFound'));
  return parsed.data;
}

function reasonOf(req: Request, res: Response): string {
  const parsed = Reason.safeParse((req.body as Record<string, unknown>)?.reason);
  if (!parsed.success) {
    const message = (res.locals.t as TFunction)('giving:staffDonors.errors.reason');
    throw new DomainError('invalid', message, { reason: message });
  }
  return parsed.data;
}

export function staffDonorRoutes(deps: GivingDeps): Router {
  const router = Router();

  async function renderDonor(res: Response, donorId: number, extra: { values?: Record<string, string>; errors?: Record<string, string>; notice?: string } = {}, status = 200) {
    const t = res.locals.t as TFunction;
    const donor = await findDonor(deps.db, donorId);
    if (!donor) throw new DomainError('not_found', t('common:errors.notFound'));
    const ids = await donorRecordIds(deps.db, donorId);
    const emails = (await Promise.all(ids.map((id) => findDonor(deps.db, id)))).map((d) => d!.email);
    const [pledges, receipts, mails, merges, unreceipted] = await Promise.all([
      listDonorPledges(deps.db, donorId),
      listReceipts(deps.db, { donorIds: ids, limit: 200 }),
      listEmailsTo(deps.db, emails),
      listDonorMerges(deps.db, donorId),
      listUnreceipted(deps.db, { donorId }),
    ]);
    const errors = Object.fromEntries(Object.entries(extra.errors ?? {}).map(([field, key]) => [field, t(`giving:details.errors.${key}`)]));
    res.status(status).render('giving/staff-donor', {
      title: t('giving:staffDonors.donorTitle', { id: donor.id }),
      donor,
      values: extra.values ?? valuesOfDetails(donor.details),
      errors,
      notice: extra.notice,
      otherEmails: emails.filter((e) => e !== donor.email),
      pledges: pledges.map((p) => ({ ...p, reference: pledgeReference(p.id), address: [p.address_line1, p.city].filter(Boolean).join(', ') })),
      receipts: receipts.rows,
      mails: mails.map((m) => ({ ...m, subject: t(`emails:${m.template.replace(/\//g, '.')}.subject`) })),
      merges: merges.map((m) => ({ ...m, undoable: !m.undone_at && m.into_donor_id === donor.id })),
      unreceipted,
      csrfToken: res.locals.csrfToken,
      noindex: true,
    });
  }

  router.get('/staff/donors', allow.staff, async (req: Request, res: Response) => {
    const filter = SearchQuery.parse(req.query);
    const page = await searchDonors(deps.db, filter);
    res.render('giving/staff-donors', { title: (res.locals.t as TFunction)('giving:staffDonors.title'), filter, ...page, noindex: true });
  });

  router.get('/staff/donors/:id', allow.staff, async (req: Request, res: Response) => {
    const t = res.locals.t as TFunction;
    const notices: Record<string, string> = { saved: t('giving:staffDonors.saved'), merged: t('giving:staffDonors.merged'), undone: t('giving:staffDonors.undone'), attached: t('giving:staffDonors.attached'), preference: t('receipts:staff.preference.saved') };
    const notice = typeof req.query.done === 'string' ? notices[req.query.done] : undefined;
    await renderDonor(res, idOf(res, req.params.id), { notice });
  });

  // Edit the record's name and address: audited with the reason; gifts that use the record take it for receipts still to come.
  router.post('/staff/donors/:id/details', allow.staff, async (req: Request, res: Response) => {
    const donorId = idOf(res, req.params.id);
    const form = parseDonorDetailsForm(req.body);
    const reason = Reason.safeParse((req.body as Record<string, unknown>)?.reason);
    const values = { ...form.values, reason: typeof (req.body as Record<string, unknown>)?.reason === 'string' ? String((req.body as Record<string, unknown>).reason) : '' };
    if (!form.ok || !reason.success) {
      const errors = { ...(form.ok ? {} : form.errors), ...(reason.success ? {} : { reason: 'reason' }) };
      return renderDonor(res, donorId, { values, errors }, 400);
    }
    await deps.db.transaction().execute((trx) => updateDonorDetails(trx, { donorId, details: form.details as DonorDetails, actor: actorOf(res, 'email'), by: 'staff', reason: reason.data }));
    res.redirect(303, `/staff/donors/${donorId}?done=saved`);
  });

  router.post('/staff/donors/:id/pledges/:pledgeId/use-record', allow.staff, async (req: Request, res: Response) => {
    const donorId = idOf(res, req.params.id);
    const pledgeId = idOf(res, req.params.pledgeId);
    const reason = reasonOf(req, res);
    const pledge = await deps.db.selectFrom('pledges').select('donor_id').where('id', '=', pledgeId).executeTakeFirst();
    if (!pledge || pledge.donor_id !== donorId) throw new DomainError('not_found', (res.locals.t as TFunction)('common:errors.notFound'));
    await deps.db.transaction().execute((trx) => attachGiftToRecord(trx, { pledgeId, actor: actorOf(res, 'email'), reason }));
    res.redirect(303, `/staff/donors/${donorId}?done=attached`);
  });

  // Merge another record (by number or e-mail) into this one.
  router.post('/staff/donors/:id/merge', allow.staff, async (req: Request, res: Response) => {
    const t = res.locals.t as TFunction;
    const intoDonorId = idOf(res, req.params.id);
    const reason = reasonOf(req, res);
    const other = String((req.body as Record<string, unknown>)?.other ?? '').trim();
    const fromDonorId = /^\d{1,15}$/.test(other) ? Number(other) : other.includes('@') && other.length <= 254 ? await findDonorIdByEmail(deps.db, other) : undefined;
    if (fromDonorId === undefined || !(await findDonor(deps.db, fromDonorId))) {
      const message = t('giving:staffDonors.errors.other');
      throw new DomainError('invalid', message, { other: message });
    }
    await deps.db.transaction().execute((trx) => mergeDonors(trx, { fromDonorId, intoDonorId, reason, actor: actorOf(res, 'email') }));
    res.redirect(303, `/staff/donors/${intoDonorId}?done=merged`);
  });

  router.post('/staff/donor-merges/:id/undo', allow.staff, async (req: Request, res: Response) => {
    const mergeId = idOf(res, req.params.id);
    const reason = reasonOf(req, res);
    const { intoDonorId } = await deps.db.transaction().execute((trx) => undoDonorMerge(trx, { mergeId, actor: actorOf(res, 'email'), reason }));
    res.redirect(303, `/staff/donors/${intoDonorId}?done=undone`);
  });

  router.post('/staff/donors/:id/receipt-preference', allow.staff, async (req: Request, res: Response) => {
    const donorId = idOf(res, req.params.id);
    const choice = z.enum(['default', 'per_gift', 'annual']).safeParse((req.body as Record<string, unknown>)?.frequency);
    if (!choice.success) throw new DomainError('invalid', (res.locals.t as TFunction)('common:errors.badRequest'));
    await deps.db.transaction().execute((trx) => setReceiptFrequency(trx, donorId, choice.data === 'default' ? null : choice.data, actorOf(res, 'email')));
    res.redirect(303, `/staff/donors/${donorId}?done=preference`);
  });

  return router;
}
