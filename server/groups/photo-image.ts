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
  let decoded: { width: number; height: number; data: Uint8Array; exifBuffer?: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PHOTO_MEGAPIXELS, maxMemoryUsageInMB: 256 });
  } catch (error) {
    throw refuse(/maxResolutionInMP|maxMemoryUsageInMB/.test(String(error)) ? 'groups:photo.errors.pixels' : 'groups:photo.errors.unreadable');
  }
  if (!(decoded.width > 0 && decoded.height > 0)) throw refuse('groups:photo.errors.unreadable');
  // The one piece of metadata that changes how a photo looks: phones store portraits sideways
  // and say so in Exif. The pixels are turned upright here, since the Exif goes.
  const upright = orient(decoded, orientationOf(decoded.exifBuffer));
  // A new object: jpeg-js writes an APP1 segment when the image it encodes carries `exifBuffer`.
  const encoded = jpeg.encode({ width: upright.width, height: upright.height, data: upright.data }, JPEG_QUALITY);
  return { bytes: Buffer.from(encoded.data), contentType: 'image/jpeg', width: upright.width, height: upright.height };
}

/**
 * The Exif Orientation tag (0x0112, a SHORT in IFD0; Exif 2.3 §4.6.4 A) of the APP1 payload
 * jpeg-js hands back (from the byte after "Exif\0"): 1 (as stored) when absent or unreadable.
 */
export function orientationOf(exif: Uint8Array | undefined): number {
  if (!exif) return 1;
  const b = Buffer.from(exif.buffer, exif.byteOffset, exif.byteLength);
  const start = b[0] === 0 ? 1 : 0;
  const order = b.toString('latin1', start, start + 2);
  if (b.length < start + 8 || (order !== 'II' && order !== 'MM')) return 1;
  const u16 = (at: number) => (order === 'II' ? b.readUInt16LE(start + at) : b.readUInt16BE(start + at));
  const u32 = (at: number) => (order === 'II' ? b.readUInt32LE(start + at) : b.readUInt32BE(start + at));
  const ifd = u32(4);
  if (start + ifd + 2 > b.length) return 1;
  for (let i = 0, n = u16(ifd); i < n; i += 1) {
    const entry = ifd + 2 + i * 12;
    if (start + entry + 12 > b.length) return 1;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

type Pixels = { width: number; height: number; data: Uint8Array };

/** RGBA pixels turned as Exif orientation `o` says (2–8 mirror and/or rotate; 5–8 swap width and height). */
export function orient(image: Pixels, o: number): Pixels {
  if (o === 1) return image;
  const { width: w, height: h, data } = image;
  const swap = o >= 5;
  const outW = swap ? h : w;
  const outH = swap ? w : h;
  const out = new Uint8Array(data.length);
  // The source pixel (its index) of each output pixel x, y.
  const source: Record<number, (x: number, y: number) => number> = {
    2: (x, y) => y * w + (w - 1 - x),
    3: (x, y) => (h - 1 - y) * w + (w - 1 - x),
    4: (x, y) => (h - 1 - y) * w + x,
    5: (x, y) => x * w + y,
    6: (x, y) => (h - 1 - x) * w + y,
    7: (x, y) => (h - 1 - x) * w + (w - 1 - y),
    8: (x, y) => x * w + (w - 1 - y),
  };
  const from = source[o];
  if (!from) return image;
  for (let y = 0; y < outH; y += 1) {
    for (let x = 0; x < outW; x += 1) {
      const s = from(x, y) * 4;
      const d = (y * outW + x) * 4;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
      out[d + 3] = data[s + 3]!;
    }
  }
  return { width: outW, height: outH, data: out };
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
