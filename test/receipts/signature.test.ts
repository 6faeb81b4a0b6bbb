import { deflateSync } from 'node:zlib';
import { createTestApp, type TestApp } from '../support/app';
import { giveAndReceive } from '../support/receipted-gifts';
import { type SignedIn, signInAs } from '../support/session';

/** Issue 14: a real signature image, uploaded by staff, kept in the database, printed on every receipt issued after. */
let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

/** A real PNG (RGB, 60 × 20, a dark stroke), built by hand: signature, IHDR, IDAT, IEND with their CRCs. */
function png(width = 60, height = 20): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height, 0xff);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 3 + 1)] = 0; // filter: none
    const x = Math.floor((y / height) * width);
    rows.fill(0x20, y * (width * 3 + 1) + 1 + x * 3, y * (width * 3 + 1) + 1 + Math.min(x + 4, width) * 3);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

async function issuedPdf(email: string): Promise<Buffer> {
  const { paymentId } = await giveAndReceive(t.db, { email, amountCents: 2_000 });
  expect((await staff.postForm('/staff/receipts/issue', { paymentId })).status).toBe(303);
  const receipt = await t.db.selectFrom('receipts').select('id').orderBy('id', 'desc').executeTakeFirstOrThrow();
  return (await staff.agent.get(`/staff/receipts/${receipt.id}/pdf`).buffer(true).expect(200)).body as Buffer;
}

test('staff upload a signature image; receipts issued after carry it, earlier ones keep the blank line', async () => {
  const before = await issuedPdf('before-signature@example.org');
  expect(before.toString('latin1')).not.toContain('/Subtype /Image');

  const token = await staff.csrfToken();
  // Not an image: refused with a message, nothing stored.
  const bad = await staff.agent.post(`/staff/receipts/signature?_csrf=${token}`).attach('signature', Buffer.from('not an image'), 'sig.png');
  expect(bad.status).toBe(400);
  expect(bad.text).toContain('Choose a PNG or JPEG image');
  expect(await t.db.selectFrom('receipt_signatures').select('id').execute()).toHaveLength(0);

  const image = png();
  await staff.agent.post(`/staff/receipts/signature?_csrf=${token}`).attach('signature', image, 'sig.png').expect(303);
  const stored = await t.db.selectFrom('receipt_signatures').select(['image', 'width', 'height']).executeTakeFirstOrThrow();
  expect(stored).toMatchObject({ width: 60, height: 20 });
  expect(Buffer.compare(stored.image, image)).toBe(0);
  const page = await staff.agent.get('/staff/receipts/signature').expect(200);
  expect(page.text).toContain('In use since');

  const after = await issuedPdf('after-signature@example.org');
  expect(after.toString('latin1')).toContain('/Subtype /Image');
  // The earlier receipt still reads as issued.
  const first = await t.db.selectFrom('receipts').select(['id', 'signature_id']).orderBy('id').executeTakeFirstOrThrow();
  expect(first.signature_id).toBeNull();
});
