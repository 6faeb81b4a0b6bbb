import { type Request, type Response, Router } from 'express';
import multer from 'multer';
import { z } from 'zod';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { DomainError } from '../domain-error';
import { doneHref } from '../http/done-notice';
import { requireIdParam } from '../http/forms';
import { allow, requireGroupId, requireUser } from '../http/policy';
import { publicCache, publicPageCache } from '../http/public-cache';
import { toProgress } from '../campaign/progress';
import { listDonorWall } from '../giving/donor-wall';
import { requireGroup } from './applications';
import { optionalText, parseForm, text } from './forms';
import { MAX_PHOTO_BYTES } from './photo-image';
import { approvedPhotoOf, pendingPhotoOf, photoBytesOf, publicPhotoBytes, sendPhoto, submitGroupPhoto } from './photos';
import { goalProgress, requirePublicGroup } from './public-pages';
import { STORY_MAX, storyExcerpt } from './story';
import { updateGroupPage } from './workspace';

/**
 * A group's public page: what visitors see (`/groups/:slug`, its photo) and what the coordinator
 * edits for it on the workspace (`/group/page`: name, stories, the photo offered to staff).
 */
const PageForm = z.object({ name: text(120), story: optionalText(STORY_MAX), storyKo: optionalText(STORY_MAX), storyFr: optionalText(STORY_MAX) });
const PhotoForm = z.object({
  // A multipart form's fields are parsed here, after the app's NUL-byte guard: PostgreSQL text cannot hold one.
  altText: text(250).refine((v) => !v.includes('\u0000'), 'groups:errors.invalid'),
  attest: z.literal('yes', 'groups:photo.errors.attest'),
});

type Errors = Record<string, string>;

function formError(error: unknown): DomainError {
  if (error instanceof DomainError && (error.kind === 'conflict' || error.kind === 'invalid')) return error;
  throw error;
}

export function groupPageRoutes(deps: { db: Db; read: Db; config: Config }): Router {
  const { db, read } = deps;
  const router = Router();

  // A group's public page as every visitor sees it, reused for config.publicCacheSeconds; an
  // unknown or unapproved slug is a 404 and is not kept.
  const publicPages = publicCache(deps.config.publicCacheSeconds, async (slug) => {
    const group = await requirePublicGroup(read, slug);
    return { group, wall: await listDonorWall(read, { groupId: group.id }) };
  });
  const pages = publicPageCache(deps.config.publicCacheSeconds);

  router.get('/groups/:slug', allow.anyone, pages.middleware, async (req, res) => {
    const { group, wall } = await publicPages.get(String(req.params.slug));
    // A Korean or French page shows the group's story in that language where it has written one.
    const translated = res.locals.locale === 'ko' ? group.storyKoHtml : res.locals.locale === 'fr' ? group.storyFrHtml : null;
    const storyHtml = translated || group.storyHtml;
    const path = `/groups/${group.slug}`;
    // ?v= changes with each approved photo, so a short public cache never shows the one it replaced for long.
    const photoPath = group.photo ? `${path}/photo?v=${group.photo.id}` : undefined;
    const description = storyExcerpt(storyHtml) || res.locals.t('groups:show.shareFallback', { name: group.name, city: group.city });
    res.render('groups/show', {
      title: group.name,
      group: { ...group, storyHtml },
      wall,
      photoPath,
      goal: goalProgress(group.receivedCents, group.targetCents),
      progress: toProgress(group.receivedCents, group.pledgedOutstandingCents, group.targetCents),
      // The campaign's share partial (views/partials/share-links.hbs): plain links and a first-party copy button.
      shareUrl: `${deps.config.publicUrl}${path}`,
      shareText: group.name,
      share: {
        description,
        path,
        imagePath: photoPath,
        imageAlt: group.photo?.altText,
      },
    });
  });

  // The approved photo only (a pending or rejected one is not found); its bytes were re-encoded without metadata.
  router.get('/groups/:slug/photo', allow.anyone, async (req, res) => {
    const photo = await publicPhotoBytes(read, String(req.params.slug));
    if (!photo) throw new DomainError('not_found', 'groups:errors.notFound');
    sendPhoto(res, photo, 'public, max-age=300');
  });

  // ---- The workspace editor: always the signed-in member's own group ---------------------------
  const renderPageForm = async (res: Response, status: number, page?: { values: Record<string, unknown>; errors: Errors }, photoForm?: { values: Record<string, unknown>; errors: Errors }) => {
    const groupId = requireGroupId(res);
    const [group, approvedPhoto, pendingPhoto] = await Promise.all([requireGroup(db, groupId), approvedPhotoOf(db, groupId), pendingPhotoOf(db, groupId)]);
    res.status(status).render('groups/workspace-page', {
      title: group.name,
      group,
      values: page?.values ?? { name: group.name, story: group.story, storyKo: group.story_ko, storyFr: group.story_fr },
      errors: page?.errors ?? {},
      photo: { approved: approvedPhoto, pending: pendingPhoto, maxMb: MAX_PHOTO_BYTES / (1024 * 1024), values: photoForm?.values ?? {}, errors: photoForm?.errors ?? {} },
      noindex: true,
    });
  };
  const forgetPublicPage = async (groupId: number) => {
    // The editor sees the change on the public page at once (other processes within the cache's second).
    const { slug } = await requireGroup(db, groupId);
    publicPages.forget(slug);
    pages.forgetPath(`/groups/${slug}`);
  };

  router.get('/group/page', allow.groupMember, (_req, res) => renderPageForm(res, 200));
  // The group's own photos (the pending one's preview): another group's photo id is not found.
  router.get('/group/page/photo/:id', allow.groupMember, async (req, res) => {
    const photo = await photoBytesOf(db, requireGroupId(res), requireIdParam(req.params.id, 'groups:errors.notFound'));
    if (!photo) throw new DomainError('not_found', 'groups:errors.notFound');
    sendPhoto(res, photo, 'private, no-store');
  });
  router.post('/group/page', allow.groupCoordinator, async (req, res) => {
    const groupId = requireGroupId(res);
    const form = parseForm(PageForm, req);
    if (!form.ok) return renderPageForm(res, 400, { values: form.values, errors: form.fieldErrors });
    const failed = await db
      .transaction()
      .execute((trx) => updateGroupPage(trx, groupId, form.data))
      .catch(formError);
    if (failed instanceof DomainError) return renderPageForm(res, 409, { values: form.values, errors: failed.fieldErrors });
    await forgetPublicPage(groupId);
    res.redirect(303, doneHref('/group/page', 'groups.pageSaved'));
  });

  // Multipart: the CSRF token came in the query string (server/http/csrf.ts). One file, one byte
  // over the limit is enough to know it is too large; the text fields come before it in the form.
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: MAX_PHOTO_BYTES + 1, files: 1, fields: 4, fieldSize: 4096 } }).single('photo');
  const receive = (req: Request, res: Response) =>
    new Promise<{ file?: Buffer; tooLarge: boolean }>((resolve, reject) =>
      upload(req, res, (error: unknown) => {
        if (error instanceof multer.MulterError && error.code === 'LIMIT_FILE_SIZE') return resolve({ tooLarge: true });
        if (error) return reject(new DomainError('invalid', 'groups:errors.invalid'));
        resolve({ file: (req as Request & { file?: { buffer: Buffer } }).file?.buffer, tooLarge: false });
      }),
    );

  router.post('/group/page/photo', allow.groupCoordinator, async (req, res) => {
    const groupId = requireGroupId(res);
    const { file, tooLarge } = await receive(req, res);
    const form = parseForm(PhotoForm, req);
    const errors: Errors = form.ok ? {} : { ...form.fieldErrors };
    if (tooLarge) errors.photo = 'groups:photo.errors.size';
    else if (!file || file.length === 0) errors.photo = 'groups:photo.errors.required';
    const values = { altText: typeof req.body?.altText === 'string' ? req.body.altText : '' };
    if (!form.ok || Object.keys(errors).length) return renderPageForm(res, 400, undefined, { values, errors });
    const user = requireUser(res);
    const failed = await db
      .transaction()
      .execute((trx) => submitGroupPhoto(trx, { userId: user.id, label: user.name }, groupId, { bytes: file!, altText: form.data.altText }))
      .catch(formError);
    if (failed instanceof DomainError) return renderPageForm(res, 400, undefined, { values, errors: failed.fieldErrors });
    res.redirect(303, doneHref('/group/page', 'groups.photoUploaded'));
  });

  return router;
}
