import type { Response } from 'express';
import type { Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Db } from '../db/database';
import type { Database } from '../db/schema';
import { DomainError } from '../domain-error';
import { cleanPhoto } from './photo-image';

/**
 * A group's public-page photo. The coordinator uploads one, with its alt text and a statement
 * that it shows the group's members or volunteers — never the family it sponsors — who agreed
 * to it. Staff look at it and approve or reject it; the public page shows only the latest
 * approved photo. A new upload replaces the pending one (the approved one stays on the page until
 * staff approve another). Approving a photo deletes the photos approved before it: nobody's
 * picture is kept once it can no longer be shown.
 */
type Handle = Db | Transaction<Database>;

export type PhotoMeta = { id: number; altText: string; width: number; height: number; contentType: string; uploadedAt: Date };

const META = ['id', 'alt_text', 'width', 'height', 'content_type', 'uploaded_at'] as const;
const toMeta = (row: { id: number; alt_text: string; width: number; height: number; content_type: string; uploaded_at: Date }): PhotoMeta => ({
  id: row.id,
  altText: row.alt_text,
  width: row.width,
  height: row.height,
  contentType: row.content_type,
  uploadedAt: row.uploaded_at,
});

/** The coordinator's upload: cleaned (photo-image.ts), stored pending, replacing a pending one. */
export async function submitGroupPhoto(trx: Transaction<Database>, actor: Actor, groupId: number, upload: { bytes: Buffer; altText: string }): Promise<number> {
  const photo = cleanPhoto(upload.bytes);
  await trx.deleteFrom('group_photos').where('group_id', '=', groupId).where('status', '=', 'pending').execute();
  const { id } = await trx
    .insertInto('group_photos')
    .values({
      group_id: groupId,
      bytes: photo.bytes,
      content_type: photo.contentType,
      width: photo.width,
      height: photo.height,
      alt_text: upload.altText,
      uploaded_by: actor.userId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await writeAudit(trx, { actor, action: 'group.photo_uploaded', subject: `group:${groupId}`, details: { photoId: id, bytes: photo.bytes.length, width: photo.width, height: photo.height } });
  return id;
}

/** Staff approve or reject a group's pending photo; audited. Only the pending photo can be reviewed. */
export async function reviewGroupPhoto(trx: Transaction<Database>, actor: Actor, groupId: number, photoId: number, decision: 'approved' | 'rejected'): Promise<void> {
  const photo = await trx
    .selectFrom('group_photos')
    .select(['id'])
    .where('id', '=', photoId)
    .where('group_id', '=', groupId)
    .where('status', '=', 'pending')
    .forUpdate()
    .executeTakeFirst();
  if (!photo) throw new DomainError('not_found', 'groups:photo.errors.notPending');
  if (decision === 'approved') {
    await trx.deleteFrom('group_photos').where('group_id', '=', groupId).where('status', '=', 'approved').execute();
  }
  await trx
    .updateTable('group_photos')
    .set({ status: decision, reviewed_by: actor.userId, reviewed_at: new Date() })
    .where('id', '=', photoId)
    .execute();
  await writeAudit(trx, { actor, action: decision === 'approved' ? 'group.photo_approved' : 'group.photo_rejected', subject: `group:${groupId}`, details: { photoId } });
}

/** What the public page shows: the latest approved photo, if any (no bytes). */
export async function approvedPhotoOf(db: Handle, groupId: number): Promise<PhotoMeta | undefined> {
  const row = await db
    .selectFrom('group_photos')
    .select(META)
    .where('group_id', '=', groupId)
    .where('status', '=', 'approved')
    .orderBy('reviewed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && toMeta(row);
}

/** The photo waiting for staff, if any (no bytes). */
export async function pendingPhotoOf(db: Handle, groupId: number): Promise<PhotoMeta | undefined> {
  const row = await db.selectFrom('group_photos').select(META).where('group_id', '=', groupId).where('status', '=', 'pending').executeTakeFirst();
  return row && toMeta(row);
}

/** The bytes of an approved group's latest approved photo, by the group's slug. */
export async function publicPhotoBytes(db: Handle, slug: string): Promise<{ bytes: Buffer; contentType: string } | undefined> {
  const row = await db
    .selectFrom('group_photos')
    .innerJoin('sponsor_groups', 'sponsor_groups.id', 'group_photos.group_id')
    .select(['group_photos.bytes', 'group_photos.content_type'])
    .where('sponsor_groups.slug', '=', slug)
    .where('sponsor_groups.status', '=', 'approved')
    .where('group_photos.status', '=', 'approved')
    .orderBy('group_photos.reviewed_at', 'desc')
    .orderBy('group_photos.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && { bytes: row.bytes, contentType: row.content_type };
}

/** Any photo of a group by id, for staff and for the group's own members (the preview of a pending photo). */
export async function photoBytesOf(db: Handle, groupId: number, photoId: number): Promise<{ bytes: Buffer; contentType: string } | undefined> {
  const row = await db.selectFrom('group_photos').select(['bytes', 'content_type']).where('id', '=', photoId).where('group_id', '=', groupId).executeTakeFirst();
  return row && { bytes: row.bytes, contentType: row.content_type };
}

/** Groups with a photo waiting for staff, oldest upload first (the staff groups list; the dashboard counts them). */
export async function listPhotosToReview(db: Handle): Promise<{ groupId: number; name: string; uploadedAt: Date }[]> {
  const rows = await db
    .selectFrom('group_photos')
    .innerJoin('sponsor_groups', 'sponsor_groups.id', 'group_photos.group_id')
    .select(['sponsor_groups.id', 'sponsor_groups.name', 'group_photos.uploaded_at'])
    .where('group_photos.status', '=', 'pending')
    .orderBy('group_photos.uploaded_at')
    .execute();
  return rows.map((r) => ({ groupId: r.id, name: r.name, uploadedAt: r.uploaded_at }));
}

/** A photo's answer: its own type, never sniffed by the browser as anything else. */
export function sendPhoto(res: Response, photo: { bytes: Buffer; contentType: string }, cacheControl: string): void {
  res.set({ 'Cache-Control': cacheControl, 'X-Content-Type-Options': 'nosniff', 'Content-Type': photo.contentType });
  res.send(photo.bytes);
}
