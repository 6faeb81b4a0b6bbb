import { type Response, Router } from 'express';
import { doneHref } from '../http/done-notice';
import { z } from 'zod';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { DomainError } from '../domain-error';
import { requireIdParam } from '../http/forms';
import { actorOf, allow } from '../http/policy';
import { approveGroup, rejectGroup, requireGroup } from './applications';
import { addEdition, type CostRow, listEditions } from './cost-tables';
import { dollars, optionalText, parseDollars, parseForm, text } from './forms';
import { currentHousingShare, IN_KIND_STATUSES, listInKind, recordHousingShare, verifyInKind } from './in-kind';
import { fundingPosition, GROUP_CHECKS, groupProfile, listGroupProfiles, recordCheck } from './readiness';
import { approvedPhotoOf, listPhotosToReview, pendingPhotoOf, photoBytesOf, reviewGroupPhoto, sendPhoto } from './photos';
import { settlementPlan } from './settlement-plan';
import { generalFundAvailable, transferToGroup } from './transfers';
import { STORY_MAX } from './story';
import { listMembers, updateGroupStory } from './workspace';

const RejectForm = z.object({ reason: text(2000) });
const CheckForm = z.object({
  check: z.enum(GROUP_CHECKS, 'groups:errors.invalid'),
  done: z.enum(['yes', 'no'], 'groups:errors.invalid'),
  note: z.string().trim().max(1000, 'groups:errors.tooLong').optional().default(''),
});
const TransferForm = z.object({ amount: dollars(100_000_000) });
const EditionForm = z.object({ editionOn: z.iso.date('groups:errors.date') });
const VerifyInKindForm = z.object({
  status: z.enum(IN_KIND_STATUSES, 'groups:errors.invalid'),
  donorIsParty: z.literal('yes').optional(),
});
/** A percentage with at most two decimals (a point or a comma), 0–100, as basis points. */
const percent = z
  .string({ error: 'groups:errors.required' })
  .trim()
  .transform((v, ctx) => {
    const match = /^(\d{1,3})(?:[.,](\d{1,2}))?$/.exec(v);
    const basisPoints = match ? Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0')) : NaN;
    if (!(basisPoints >= 0 && basisPoints <= 10_000)) {
      ctx.addIssue({ code: 'custom', message: 'groups:errors.percent' });
      return z.NEVER;
    }
    return basisPoints;
  });
const StoryForm = z.object({ story: optionalText(STORY_MAX), storyKo: optionalText(STORY_MAX), storyFr: optionalText(STORY_MAX) });
const PhotoReviewForm = z.object({ decision: z.enum(['approved', 'rejected'], 'groups:errors.invalid') });
const HousingShareForm = z.object({ percent, source: text(1000) });
const EDITION_SIZES = [1, 2, 3, 4, 5, 6, 0] as const;
/** A cost-table amount: $0 to $1,000,000. */
const MAX_COST_CENTS = 100_000_000;

function groupIdParam(value: unknown): number {
  return requireIdParam(value, 'groups:errors.notFound');
}

function formError(error: unknown): DomainError {
  if (error instanceof DomainError && (error.kind === 'conflict' || error.kind === 'invalid')) return error;
  throw error;
}

export function staffGroupRoutes(deps: { db: Db; config: Config }): Router {
  const { db, config } = deps;
  const rules = { startupCashFloorPercent: config.groupStartupCashFloorPercent };
  const router = Router();

  router.get('/staff/groups', allow.staff, async (_req, res) => {
    const [profiles, photosToReview] = await Promise.all([listGroupProfiles(db, rules), listPhotosToReview(db)]);
    res.render('groups/staff-list', {
      title: res.locals.t('groups:staff.title'),
      applied: profiles.filter((p) => p.status === 'applied'),
      photosToReview,
      profiles,
      noindex: true,
    });
  });

  const renderDetail = async (res: Response, groupId: number, status = 200, errors: Record<string, string> = {}, message?: string, notice?: string, storyValues?: Record<string, unknown>) => {
    const group = await requireGroup(db, groupId);
    const [profile, funding, plan, items, members, generalCents, housingShare, approvedPhoto, pendingPhoto] = await Promise.all([
      groupProfile(db, groupId, rules),
      fundingPosition(db, groupId, rules),
      settlementPlan(db, groupId),
      listInKind(db, groupId),
      listMembers(db, groupId),
      generalFundAvailable(db),
      currentHousingShare(db),
      approvedPhotoOf(db, groupId),
      pendingPhotoOf(db, groupId),
    ]);
    res.status(status).render('groups/staff-detail', {
      title: group.name,
      group,
      storyHtml: group.story_html,
      storyValues: storyValues ?? { story: group.story, storyKo: group.story_ko, storyFr: group.story_fr },
      profile,
      funding,
      plan,
      percent: Math.round(plan.completeness * 100),
      items,
      members,
      generalCents,
      checks: GROUP_CHECKS,
      inKindStatuses: IN_KIND_STATUSES,
      housingPercent: housingShare.basisPoints / 100,
      photo: { approved: approvedPhoto, pending: pendingPhoto },
      errors,
      message,
      notice,
      noindex: true,
    });
  };

  router.get('/staff/groups/:id', allow.staff, (req, res) =>
    renderDetail(res, groupIdParam(req.params.id), 200, {}, undefined, req.query.saved === 'in-kind' ? 'groups:inKind.verified' : undefined),
  );

  // Staff confirm (or not) what a group recorded in kind: only what they confirm counts toward readiness.
  router.post('/staff/groups/:id/in-kind/:itemId', allow.staff, async (req, res) => {
    const groupId = groupIdParam(req.params.id);
    const itemId = groupIdParam(req.params.itemId);
    const form = parseForm(VerifyInKindForm, req);
    if (!form.ok) return renderDetail(res, groupId, 400, form.fieldErrors, 'groups:errors.fixBelow');
    await db.transaction().execute((trx) => verifyInKind(trx, actorOf(res, 'name'), groupId, itemId, { status: form.data.status, donorIsParty: form.data.donorIsParty === 'yes' }));
    res.redirect(303, `/staff/groups/${groupId}?saved=in-kind#inkind-title`);
  });

  // Staff may correct a group's story for it (in English, Korean and French); the group sees the change on its page.
  router.post('/staff/groups/:id/story', allow.staff, async (req, res) => {
    const groupId = groupIdParam(req.params.id);
    const form = parseForm(StoryForm, req);
    if (!form.ok) return renderDetail(res, groupId, 400, form.fieldErrors, 'groups:errors.fixBelow', undefined, form.values);
    await db.transaction().execute((trx) => updateGroupStory(trx, actorOf(res, 'name'), groupId, form.data));
    res.redirect(303, doneHref(`/staff/groups/${groupId}`, 'groups.story'));
  });

  // A group's photo as staff review it (pending, approved or rejected): never cached.
  router.get('/staff/groups/:id/photos/:photoId', allow.staff, async (req, res) => {
    const photo = await photoBytesOf(db, groupIdParam(req.params.id), groupIdParam(req.params.photoId));
    if (!photo) throw new DomainError('not_found', 'groups:errors.notFound');
    sendPhoto(res, photo, 'private, no-store');
  });

  // Staff approve the photo a group offers for its page (never the family's), or reject it; audited.
  router.post('/staff/groups/:id/photos/:photoId', allow.staff, async (req, res) => {
    const groupId = groupIdParam(req.params.id);
    const photoId = groupIdParam(req.params.photoId);
    const form = parseForm(PhotoReviewForm, req);
    if (!form.ok) throw new DomainError('invalid', 'groups:errors.invalid');
    await db.transaction().execute((trx) => reviewGroupPhoto(trx, actorOf(res, 'name'), groupId, photoId, form.data.decision));
    res.redirect(303, doneHref(`/staff/groups/${groupId}`, form.data.decision === 'approved' ? 'groups.photoApproved' : 'groups.photoRejected'));
  });

  router.post('/staff/groups/:id/approve', allow.staff, async (req, res) => {
    const groupId = groupIdParam(req.params.id);
    await db.transaction().execute((trx) => approveGroup(trx, actorOf(res, 'name'), groupId, config.publicUrl));
    res.redirect(303, doneHref(`/staff/groups/${groupId}`, 'groups.approved'));
  });

  router.post('/staff/groups/:id/reject', allow.staff, async (req, res) => {
    const groupId = groupIdParam(req.params.id);
    const form = parseForm(RejectForm, req);
    if (!form.ok) return renderDetail(res, groupId, 400, form.fieldErrors);
    await db.transaction().execute((trx) => rejectGroup(trx, actorOf(res, 'name'), groupId, form.data.reason));
    res.redirect(303, doneHref(`/staff/groups/${groupId}`, 'groups.rejected'));
  });

  router.post('/staff/groups/:id/checks', allow.staff, async (req, res) => {
    const groupId = groupIdParam(req.params.id);
    const form = parseForm(CheckForm, req);
    if (!form.ok) return renderDetail(res, groupId, 400, form.fieldErrors);
    await requireGroup(db, groupId);
    await db.transaction().execute((trx) => recordCheck(trx, actorOf(res, 'name'), groupId, form.data.check, form.data.done === 'yes', form.data.note));
    res.redirect(303, doneHref(`/staff/groups/${groupId}`, 'groups.checks'));
  });

  router.post('/staff/groups/:id/transfer', allow.staff, async (req, res) => {
    const groupId = groupIdParam(req.params.id);
    const form = parseForm(TransferForm, req);
    if (!form.ok) return renderDetail(res, groupId, 400, form.fieldErrors);
    const failed = await db
      .transaction()
      .execute((trx) => transferToGroup(trx, actorOf(res, 'name'), groupId, form.data.amount))
      .catch(formError);
    if (failed instanceof DomainError) return renderDetail(res, groupId, 409, failed.fieldErrors, failed.message);
    res.redirect(303, doneHref(`/staff/groups/${groupId}`, 'groups.transferred'));
  });

  // ---- Cost-table editions -----------------------------------------------------------------
  const renderEditions = async (res: Response, status = 200, values: Record<string, unknown> = {}, errors: Record<string, string> = {}, message?: string, notice?: string) => {
    const housingShare = await currentHousingShare(db);
    res.status(status).render('groups/staff-cost-tables', {
      title: res.locals.t('groups:costTables.title'),
      editions: await listEditions(db),
      housingShare: { ...housingShare, percent: housingShare.basisPoints / 100 },
      notice,
      sizes: EDITION_SIZES.map((size) => ({ size, income: values[`income${size}`] ?? '', startup: values[`startup${size}`] ?? '' })),
      values,
      errors,
      message,
      noindex: true,
    });
  };
  router.get('/staff/cost-tables', allow.staff, (req, res) => renderEditions(res, 200, {}, {}, undefined, req.query.saved === 'housing-share' ? 'groups:housingShare.saved' : undefined));
  router.post('/staff/cost-tables/housing-share', allow.staff, async (req, res) => {
    const form = parseForm(HousingShareForm, req);
    if (!form.ok) return renderEditions(res, 400, form.values, form.fieldErrors, 'groups:errors.fixBelow');
    await db.transaction().execute((trx) => recordHousingShare(trx, actorOf(res, 'name'), { basisPoints: form.data.percent, source: form.data.source }));
    res.redirect(303, '/staff/cost-tables?saved=housing-share');
  });
  router.post('/staff/cost-tables', allow.staff, async (req, res) => {
    const form = parseForm(EditionForm, req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const errors: Record<string, string> = form.ok ? {} : { ...form.fieldErrors };
    const rows: CostRow[] = [];
    for (const size of EDITION_SIZES) {
      const income = parseDollars(String(body[`income${size}`] ?? ''));
      const startup = parseDollars(String(body[`startup${size}`] ?? ''));
      if (income === undefined || income > MAX_COST_CENTS) errors[`income${size}`] = 'groups:errors.amount';
      if (startup === undefined || startup > MAX_COST_CENTS) errors[`startup${size}`] = 'groups:errors.amount';
      rows.push({ familySize: size, incomeSupportCents: income ?? 0, startupCents: startup ?? 0 });
    }
    if (!form.ok || Object.keys(errors).length) return renderEditions(res, 400, body, errors, 'groups:errors.fixBelow');
    const failed = await db
      .transaction()
      .execute((trx) => addEdition(trx, actorOf(res, 'name'), { editionOn: form.data.editionOn, rows }))
      .catch(formError);
    if (failed instanceof DomainError) return renderEditions(res, 409, body, { editionOn: failed.message }, failed.message);
    res.redirect(303, doneHref('/staff/cost-tables', 'groups.edition'));
  });

  return router;
}
