import { createTestApp, type TestApp } from '../support/app';
import { giveAndReceive, pdfText } from '../support/receipted-gifts';
import { type SignedIn, signInAs } from '../support/session';

/**
 * Issue 14: the kept copy of a cancelled receipt says so (shared/DOMAIN.md: "the original is kept,
 * marked cancelled"). The reference is the PDF's text layer, read back with pdf-parse.
 */
let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

async function issueAndReplace(email: string, locale: 'en' | 'fr') {
  const { paymentId } = await giveAndReceive(t.db, { email, name: 'Soo-ah Kim', locale, amountCents: 7_500, receivedAt: new Date('2026-03-01T15:00:00Z') });
  expect((await staff.postForm('/staff/receipts/issue', { paymentId })).status).toBe(303);
  const original = await t.db.selectFrom('receipts').select(['id', 'serial']).orderBy('id', 'desc').executeTakeFirstOrThrow();
  const before = (await staff.agent.get(`/staff/receipts/${original.id}/pdf`).buffer(true).expect(200)).body as Buffer;
  expect((await staff.postForm(`/staff/receipts/${original.id}/replace`, { reason: 'address corrected' })).status).toBe(303);
  const replacement = await t.db.selectFrom('receipts').select(['id', 'serial']).where('replaces_receipt_id', '=', original.id).executeTakeFirstOrThrow();
  const after = (await staff.agent.get(`/staff/receipts/${original.id}/pdf`).buffer(true).expect(200)).body as Buffer;
  return { original, replacement, before, after };
}

test('the staff copy of a cancelled receipt is stamped CANCELLED with its replacement\'s serial; the bytes as issued are kept', async () => {
  const { original, replacement, before, after } = await issueAndReplace('cancelled-en@example.org', 'en');
  expect(after.equals(before)).toBe(false);
  const text = await pdfText(after);
  expect(text).toContain('CANCELLED');
  expect(text).toContain(`replaced by receipt ${replacement.serial}`);
  expect(text).toContain(`Receipt number: ${original.serial}`);
  // The replacement names the original, as before.
  const replacementText = await pdfText((await staff.agent.get(`/staff/receipts/${replacement.id}/pdf`).buffer(true).expect(200)).body as Buffer);
  expect(replacementText).toContain(`This receipt replaces receipt ${original.serial}`);
  expect(replacementText).not.toContain('CANCELLED');
  // The unalterable copy: exactly the bytes issued.
  const kept = (await staff.agent.get(`/staff/receipts/${original.id}/original`).buffer(true).expect(200)).body as Buffer;
  expect(kept.equals(before)).toBe(true);
  expect(await pdfText(kept)).not.toContain('CANCELLED');
});

test('in French the stamp reads ANNULÉ, and the first of the month is « 1er »', async () => {
  const { replacement, after } = await issueAndReplace('cancelled-fr@example.org', 'fr');
  const text = await pdfText(after);
  expect(text).toContain('ANNULÉ');
  expect(text).toContain(`remplacé par le reçu ${replacement.serial}`);
  expect(text).toContain('Date de réception du don : 1er mars 2026');
});
