import type { Kysely, Transaction } from 'kysely';
import { type Actor, writeAudit } from '../audit/audit';
import type { Database } from '../db/schema';
import { ReceiptError } from './issuing';

/**
 * The authorised signature printed on receipts: an image staff upload (PNG or JPEG, at most
 * 1 MB), kept in the database. Each upload is a new row; a receipt names the one in force when it
 * was issued (receipts.signature_id), so a copy downloaded years later carries the same signature.
 */
export const MAX_SIGNATURE_BYTES = 1024 * 1024;

type Handle = Kysely<Database> | Transaction<Database>;

function contentTypeOf(image: Buffer): 'image/png' | 'image/jpeg' | undefined {
  if (image.length > 8 && image.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (image.length > 3 && image[0] === 0xff && image[1] === 0xd8 && image[2] === 0xff) return 'image/jpeg';
  return undefined;
}

/** Width and height as pdfkit reads them: an image pdfkit cannot place is refused here, not on a receipt. */
async function dimensionsOf(image: Buffer): Promise<{ width: number; height: number } | undefined> {
  const { default: PDFDocument } = await import('pdfkit');
  try {
    const doc = new PDFDocument({ autoFirstPage: false }) as unknown as { openImage(src: Buffer): { width: number; height: number } };
    const opened = doc.openImage(image);
    return opened.width > 0 && opened.height > 0 ? { width: opened.width, height: opened.height } : undefined;
  } catch {
    return undefined;
  }
}

export async function saveSignature(trx: Transaction<Database>, image: Buffer, actor: Actor): Promise<number> {
  const contentType = contentTypeOf(image);
  if (!contentType || image.length > MAX_SIGNATURE_BYTES) throw new ReceiptError('invalid', 'signatureFile');
  const size = await dimensionsOf(image);
  if (!size) throw new ReceiptError('invalid', 'signatureFile');
  const { id } = await trx
    .insertInto('receipt_signatures')
    .values({ image, content_type: contentType, width: size.width, height: size.height, uploaded_by_user_id: actor.userId })
    .returning('id')
    .executeTakeFirstOrThrow();
  await writeAudit(trx, { actor, action: 'receipt.signature_uploaded', subject: `receipt_signature:${id}`, details: { bytes: image.length, ...size, contentType } });
  return id;
}

/** The signature new receipts carry, if staff uploaded one. */
export async function findCurrentSignature(db: Handle) {
  return db.selectFrom('receipt_signatures').select(['id', 'image', 'content_type', 'width', 'height', 'uploaded_at']).orderBy('id', 'desc').limit(1).executeTakeFirst();
}
