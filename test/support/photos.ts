import * as jpeg from 'jpeg-js';

/** A real JPEG made by jpeg-js: a warm gradient, `width` × `height` px (a stand-in for a group photo). */
export function sampleJpeg(width = 16, height = 12): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) data.set([200, 80 + Math.round((120 * x) / width), 40 + Math.round((120 * y) / height), 255], (y * width + x) * 4);
  }
  return Buffer.from(jpeg.encode({ width, height, data }, 90).data);
}
