import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DomainError } from '../domain-error';

/**
 * A group photo's bytes, made safe to publish. What the browser declared (type, file name) is
 * ignored: the first bytes say whether it is a JPEG or a PNG. Then the image is decoded and
 * encoded again by pure-JS codecs (jpeg-js, pngjs), so what is kept is the pixels and nothing
 * else: no EXIF (GPS can say where people live), XMP, IPTC, comments, text chunks, or bytes
 * hidden after the image. An image that does not decode is refused, not stored.
 */
export const MAX_PHOTO_BYTES = 2 * 1024 * 1024;
/** Decoding is bounded before it starts: a small file can claim huge dimensions. */
export const MAX_PHOTO_MEGAPIXELS = 16;
const JPEG_QUALITY = 88;

export type PhotoType = 'image/jpeg' | 'image/png';
export type CleanPhoto = { bytes: Buffer; contentType: PhotoType; width: number; height: number };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The type the bytes are, by their signature (magic bytes); undefined for anything else. */
export function sniffPhotoType(bytes: Buffer): PhotoType | undefined {
  if (bytes.length > 8 && bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return undefined;
}

const refuse = (key: string) => new DomainError('invalid', key, { photo: key });

/** The photo re-encoded without metadata, or a DomainError for the `photo` field. */
export function cleanPhoto(bytes: Buffer): CleanPhoto {
  if (bytes.length > MAX_PHOTO_BYTES) throw refuse('groups:photo.errors.size');
  const type = sniffPhotoType(bytes);
  if (!type) throw refuse('groups:photo.errors.type');
  return type === 'image/jpeg' ? cleanJpeg(bytes) : cleanPng(bytes);
}

function cleanJpeg(bytes: Buffer): CleanPhoto {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PHOTO_MEGAPIXELS, maxMemoryUsageInMB: 256 });
  } catch (error) {
    throw refuse(/maxResolutionInMP|maxMemoryUsageInMB/.test(String(error)) ? 'groups:photo.errors.pixels' : 'groups:photo.errors.unreadable');
  }
  if (!(decoded.width > 0 && decoded.height > 0)) throw refuse('groups:photo.errors.unreadable');
  // A new object: jpeg-js writes an APP1 segment when the image it encodes carries `exifBuffer`.
  const encoded = jpeg.encode({ width: decoded.width, height: decoded.height, data: decoded.data }, JPEG_QUALITY);
  return { bytes: Buffer.from(encoded.data), contentType: 'image/jpeg', width: decoded.width, height: decoded.height };
}

function cleanPng(bytes: Buffer): CleanPhoto {
  // IHDR is the first chunk: width and height at bytes 16–23, checked before inflating anything.
  if (bytes.length < 33 || bytes.toString('latin1', 12, 16) !== 'IHDR') throw refuse('groups:photo.errors.unreadable');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  if (width * height > MAX_PHOTO_MEGAPIXELS * 1_000_000) throw refuse('groups:photo.errors.pixels');
  let decoded: PNG;
  try {
    decoded = PNG.sync.read(bytes);
  } catch {
    throw refuse('groups:photo.errors.unreadable');
  }
  if (!(decoded.width > 0 && decoded.height > 0)) throw refuse('groups:photo.errors.unreadable');
  const clean = new PNG({ width: decoded.width, height: decoded.height });
  decoded.data.copy(clean.data);
  // Only IHDR, IDAT and IEND are written: no tEXt/iTXt/zTXt, eXIf or tIME chunks.
  return { bytes: PNG.sync.write(clean, { colorType: 6 }), contentType: 'image/png', width: decoded.width, height: decoded.height };
}
