import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/app';
import { sampleJpeg } from '../support/photos';
import { anonymous, type SignedIn, signInAs, type TestVisitor } from '../support/session';
import { makeApprovedGroup, postForm, signInMember } from './factories';

let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff', { name: 'Photo Reviewer' });
});
afterAll(() => t.destroy());

const plainJpeg = () => sampleJpeg(16, 12);

/**
 * The same JPEG with an APP1 Exif segment carrying a GPS position, laid out as Exif 2.3
 * (JEITA CP-3451C §4.5.4: APP1 = FFE1, length, "Exif\0\0", a TIFF header; the GPS IFD is pointed
 * to by tag 0x8825 of IFD0; GPSLatitudeRef 0x0001 ASCII, GPSLatitude 0x0002 three RATIONALs).
 */
function jpegWithGps(): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4 + 2 + 2 * 12 + 4 + 24);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4); // IFD0 at 8
  tiff.writeUInt16LE(1, 8); // one entry
  tiff.writeUInt16LE(0x8825, 10); // GPSInfo IFD pointer
  tiff.writeUInt16LE(4, 12); // LONG
  tiff.writeUInt32LE(1, 14);
  const gpsIfd = 8 + 2 + 12 + 4;
  tiff.writeUInt32LE(gpsIfd, 18);
  tiff.writeUInt32LE(0, 22); // no next IFD
  tiff.writeUInt16LE(2, gpsIfd);
  tiff.writeUInt16LE(0x0001, gpsIfd + 2); // GPSLatitudeRef
  tiff.writeUInt16LE(2, gpsIfd + 4); // ASCII
  tiff.writeUInt32LE(2, gpsIfd + 6);
  tiff.write('N\0', gpsIfd + 10, 'latin1');
  const rationals = gpsIfd + 2 + 24 + 4;
  tiff.writeUInt16LE(0x0002, gpsIfd + 14); // GPSLatitude
  tiff.writeUInt16LE(5, gpsIfd + 16); // RATIONAL
  tiff.writeUInt32LE(3, gpsIfd + 18);
  tiff.writeUInt32LE(rationals, gpsIfd + 22);
  tiff.writeUInt32LE(0, gpsIfd + 26);
  [43, 1, 39, 1, 2317, 100].forEach((v, i) => tiff.writeUInt32LE(v, rationals + i * 4)); // 43° 39' 23.17" N
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(payload.length + 2, 2);
  const plain = plainJpeg();
  return Buffer.concat([plain.subarray(0, 2), app1, payload, plain.subarray(2)]);
}

/** A JPEG 16 px wide and 8 high, red on the left and blue on the right, whose Exif says Orientation 6 (Exif 2.3 §4.6.4 A: "rotate 90° clockwise to view"). */
function sidewaysJpeg(): Buffer {
  const width = 16;
  const height = 8;
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) data.set(x < 8 ? [220, 0, 0, 255] : [0, 0, 220, 255], (y * width + x) * 4);
  const plain = Buffer.from(jpeg.encode({ width, height, data }, 95).data);
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write('MM', 0, 'latin1'); // big-endian this time
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(1, 8);
  tiff.writeUInt16BE(0x0112, 10); // Orientation
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(6, 18);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([plain.subarray(0, 2), app1, payload, plain.subarray(2)]);
}

/** A PNG (pngjs) with a tEXt chunk before IEND (PNG spec §11.3.4.3). */
function pngWithText(): Buffer {
  const png = new PNG({ width: 4, height: 4 });
  png.data.fill(128);
  const plain = PNG.sync.write(png);
  const body = Buffer.from('Comment\0Taken at 12 Home Street', 'latin1');
  const chunk = Buffer.alloc(12 + body.length);
  chunk.writeUInt32BE(body.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  body.copy(chunk, 8);
  chunk.writeUInt32BE(0, 8 + body.length); // the CRC is not checked by what we test
  return Buffer.concat([plain.subarray(0, plain.length - 12), chunk, plain.subarray(plain.length - 12)]);
}

/** JPEG markers of a file, as the segments before the scan (ITU T.81 §B.1.1.4). */
function jpegMarkers(bytes: Buffer): number[] {
  const markers: number[] = [];
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    markers.push(marker);
    if (marker === 0xda) break;
    at += 2 + bytes.readUInt16BE(at + 2);
  }
  return markers;
}

async function upload(visitor: TestVisitor, file: Buffer, fields: { altText?: string; attest?: string; filename?: string; contentType?: string } = {}) {
  const token = await visitor.csrfToken();
  let req = visitor.agent.post(`/group/page/photo?_csrf=${encodeURIComponent(token)}`);
  if (fields.altText !== undefined) req = req.field('altText', fields.altText);
  if (fields.attest !== undefined) req = req.field('attest', fields.attest);
  return req.attach('photo', file, { filename: fields.filename ?? 'group.jpg', contentType: fields.contentType ?? 'image/jpeg' });
}

const good = { altText: 'Eight volunteers at the community centre', attest: 'yes' };
const photosOf = (groupId: number) => t.db.selectFrom('group_photos').select(['id', 'status', 'content_type', 'alt_text', 'reviewed_by']).where('group_id', '=', groupId).orderBy('id').execute();

test('the photo form refuses what is not a JPEG or PNG by its bytes, what is over 2 MB, and a missing statement, beside the field, keeping the alt text', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Refusing Photos' });
  const coordinator = await signInMember(t, group.id, 'coordinator');

  const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n', 'latin1');
  const renamed = await upload(coordinator, pdf, { ...good, filename: 'group.jpg', contentType: 'image/jpeg' });
  expect(renamed.status).toBe(400);
  expect(renamed.text).toMatch(/<p class="field-error" id="photo-error">Please choose a JPEG or PNG photo\.<\/p>/);
  expect(renamed.text).toContain('value="Eight volunteers at the community centre"');

  // Starts like a JPEG, and is one byte over 2 MB.
  const huge = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2 * 1024 * 1024 - 3)]);
  const tooLarge = await upload(coordinator, huge, good);
  expect(tooLarge.status).toBe(400);
  expect(tooLarge.text).toContain('This photo is larger than 2 MB');

  // A JPEG signature on bytes that do not decode.
  const broken = await upload(coordinator, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]), good);
  expect(broken.status).toBe(400);
  expect(broken.text).toContain('could not be read as a photo');

  const unattested = await upload(coordinator, plainJpeg(), { altText: 'Us' });
  expect(unattested.status).toBe(400);
  expect(unattested.text).toContain('id="attest-error"');
  const nul = await upload(coordinator, plainJpeg(), { altText: 'Us\u0000', attest: 'yes' });
  expect(nul.status).toBe(400);
  expect(nul.text).toContain('id="altText-error"');
  const noAlt = await upload(coordinator, plainJpeg(), { attest: 'yes' });
  expect(noAlt.status).toBe(400);
  expect(noAlt.text).toContain('id="altText-error"');

  expect(await photosOf(group.id)).toEqual([]);
});

test('an uploaded JPEG is kept without its Exif GPS segment, is not public until staff approve it, then is served with its type, nosniff and a short public cache', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Photo Friends' });
  const coordinator = await signInMember(t, group.id, 'coordinator');
  const original = jpegWithGps();
  expect(jpegMarkers(original)).toContain(0xe1); // the fixture does carry APP1 Exif
  expect(original.includes(Buffer.from('Exif\0\0', 'latin1'))).toBe(true);

  const res = await upload(coordinator, original, good);
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/group/page?done=groups.photoUploaded');
  const [pending] = await photosOf(group.id);
  expect(pending).toMatchObject({ status: 'pending', content_type: 'image/jpeg', alt_text: good.altText });

  // Pending: not on the public page, not in its share tags, and its URL is not found.
  await request(t.app).get(`/groups/${group.slug}/photo`).expect(404);
  const page = await request(t.app).get(`/groups/${group.slug}`).expect(200);
  expect(page.text).not.toContain('og:image');
  expect(page.text).not.toContain(`/groups/${group.slug}/photo`);
  expect(page.text).toContain('<meta name="twitter:card" content="summary">');

  // The coordinator sees it waiting; staff see it with a preview.
  const editor = await coordinator.agent.get('/group/page').expect(200);
  expect(editor.text).toContain('Waiting for HanVoice staff to approve it');
  const list = await staff.agent.get('/staff/groups').expect(200);
  expect(list.text).toContain(`<a href="/staff/groups/${group.id}#photo-title">Photo Friends</a>`);
  const detail = await staff.agent.get(`/staff/groups/${group.id}`).expect(200);
  expect(detail.text).toContain(`src="/staff/groups/${group.id}/photos/${pending!.id}"`);
  const preview = await staff.agent.get(`/staff/groups/${group.id}/photos/${pending!.id}`).expect(200);
  expect(preview.headers['cache-control']).toBe('private, no-store');

  expect((await postForm(staff, `/staff/groups/${group.id}/photos/${pending!.id}`, { decision: 'approved' })).headers.location).toBe(`/staff/groups/${group.id}?done=groups.photoApproved`);
  const audit = await t.db.selectFrom('audit_log').select(['action', 'actor_user_id']).where('subject', '=', `group:${group.id}`).where('action', 'like', 'group.photo%').orderBy('id').execute();
  expect(audit).toEqual([
    { action: 'group.photo_uploaded', actor_user_id: coordinator.user.id },
    { action: 'group.photo_approved', actor_user_id: staff.user.id },
  ]);

  const served = await request(t.app).get(`/groups/${group.slug}/photo`).buffer(true).parse((r, done) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => done(null, Buffer.concat(chunks)));
  });
  expect(served.status).toBe(200);
  expect(served.headers['content-type']).toBe('image/jpeg');
  expect(served.headers['x-content-type-options']).toBe('nosniff');
  expect(served.headers['cache-control']).toBe('public, max-age=300');
  const bytes = served.body as Buffer;
  expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  expect(jpegMarkers(bytes)).not.toContain(0xe1);
  expect(bytes.includes(Buffer.from('Exif', 'latin1'))).toBe(false);
  expect(jpeg.decode(bytes)).toMatchObject({ width: 16, height: 12 });

  const shown = (await request(t.app).get(`/groups/${group.slug}`).expect(200)).text.replace(/&#x3D;/g, '=');
  expect(shown).toContain(`<meta property="og:image" content="${t.config.publicUrl}/groups/${group.slug}/photo?v=${pending!.id}">`);
  expect(shown).toContain(`<meta property="og:image:alt" content="${good.altText}">`);
  expect(shown).toContain(`<img src="/groups/${group.slug}/photo?v=${pending!.id}" alt="${good.altText}"`);
});

test('a PNG loses its text chunks; a new upload replaces the pending one, and the page keeps the approved photo until staff approve the next', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Png Friends' });
  const coordinator = await signInMember(t, group.id, 'coordinator');
  const first = pngWithText();
  expect(first.includes(Buffer.from('tEXt', 'latin1'))).toBe(true);
  expect((await upload(coordinator, first, { ...good, filename: 'us.png', contentType: 'image/png' })).status).toBe(303);
  const [png] = await photosOf(group.id);
  const stored = await t.db.selectFrom('group_photos').select('bytes').where('id', '=', png!.id).executeTakeFirstOrThrow();
  expect(stored.bytes.includes(Buffer.from('tEXt', 'latin1'))).toBe(false);
  expect(stored.bytes.includes(Buffer.from('Home Street', 'latin1'))).toBe(false);
  expect(PNG.sync.read(stored.bytes)).toMatchObject({ width: 4, height: 4 });
  await postForm(staff, `/staff/groups/${group.id}/photos/${png!.id}`, { decision: 'approved' });

  // Two uploads: the second replaces the first while both wait.
  expect((await upload(coordinator, plainJpeg(), good)).status).toBe(303);
  expect((await upload(coordinator, plainJpeg(), { ...good, altText: 'The second one' })).status).toBe(303);
  const photos = await photosOf(group.id);
  expect(photos.map((p) => [p.status, p.alt_text])).toEqual([
    ['approved', good.altText],
    ['pending', 'The second one'],
  ]);
  const stillPng = await request(t.app).get(`/groups/${group.slug}/photo`).expect(200);
  expect(stillPng.headers['content-type']).toBe('image/png');

  // Rejected: the approved PNG stays; approved: it replaces the PNG, which is deleted.
  await postForm(staff, `/staff/groups/${group.id}/photos/${photos[1]!.id}`, { decision: 'rejected' });
  expect((await request(t.app).get(`/groups/${group.slug}/photo`).expect(200)).headers['content-type']).toBe('image/png');
  expect((await upload(coordinator, plainJpeg(), { ...good, altText: 'Third' })).status).toBe(303);
  const third = (await photosOf(group.id)).find((p) => p.status === 'pending')!;
  await postForm(staff, `/staff/groups/${group.id}/photos/${third.id}`, { decision: 'approved' });
  expect((await request(t.app).get(`/groups/${group.slug}/photo`).expect(200)).headers['content-type']).toBe('image/jpeg');
  expect((await photosOf(group.id)).map((p) => [p.status, p.alt_text])).toEqual([
    ['rejected', 'The second one'],
    ['approved', 'Third'],
  ]);
});

test('a sideways phone photo is kept upright: its Exif orientation is applied to the pixels before the Exif goes', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Upright Friends' });
  const coordinator = await signInMember(t, group.id, 'coordinator');
  expect((await upload(coordinator, sidewaysJpeg(), good)).status).toBe(303);
  const stored = await t.db.selectFrom('group_photos').select(['bytes', 'width', 'height']).where('group_id', '=', group.id).executeTakeFirstOrThrow();
  expect([stored.width, stored.height]).toEqual([8, 16]);
  expect(jpegMarkers(stored.bytes)).not.toContain(0xe1);
  const upright = jpeg.decode(stored.bytes);
  const pixel = (x: number, y: number) => [...upright.data.subarray((y * upright.width + x) * 4, (y * upright.width + x) * 4 + 3)];
  // Turned clockwise, the left (red) half is on top and the right (blue) half below.
  expect(pixel(4, 2)[0]).toBeGreaterThan(150);
  expect(pixel(4, 2)[2]).toBeLessThan(80);
  expect(pixel(4, 13)[2]).toBeGreaterThan(150);
  expect(pixel(4, 13)[0]).toBeLessThan(80);
});

test("only staff review a photo: another group's coordinator, the group itself and anonymous visitors cannot approve it or see its preview", async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Guarded Photo' });
  const other = await makeApprovedGroup(t.db, { name: 'Other Group' });
  const coordinator = await signInMember(t, group.id, 'coordinator');
  const otherCoordinator = await signInMember(t, other.id, 'coordinator');
  expect((await upload(coordinator, plainJpeg(), good)).status).toBe(303);
  const [photo] = await photosOf(group.id);
  const path = `/staff/groups/${group.id}/photos/${photo!.id}`;

  expect((await postForm(otherCoordinator, path, { decision: 'approved' })).status).toBe(403);
  expect((await postForm(coordinator, path, { decision: 'approved' })).status).toBe(403);
  const visitor = await anonymous(t);
  expect((await visitor.postForm(path, { decision: 'approved' })).status).toBe(401);
  await otherCoordinator.agent.get(path).expect(403);
  await request(t.app).get(path).expect(303);
  // Another group's member cannot see it through the workspace either.
  await otherCoordinator.agent.get(`/group/page/photo/${photo!.id}`).expect(404);
  await coordinator.agent.get(`/group/page/photo/${photo!.id}`).expect(200);
  // A plain member cannot upload one.
  const member = await signInMember(t, group.id, 'member');
  expect((await upload(member, plainJpeg(), good)).status).toBe(403);

  expect((await photosOf(group.id)).map((p) => p.status)).toEqual(['pending']);
  await request(t.app).get(`/groups/${group.slug}/photo`).expect(404);
});
