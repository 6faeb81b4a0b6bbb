import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { issueReceiptForPayment } from '../../server/receipts/issuing';
import { renderReceiptPdf } from '../../server/receipts/pdf';
import { findReceipt } from '../../server/receipts/receipts';
import { createTestApp, type TestApp } from '../support/app';
import { giveAndReceive, pdfText } from '../support/receipted-gifts';

/**
 * Issue 14: every donor's name prints exactly. The reference is the PDF's own text layer,
 * extracted by readers we did not write: pdf-parse (pdf.js) and, where installed, poppler's pdftotext.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

const NAMES = ['김지우 (Ji-woo Kim)', 'Nguyễn Thị Minh Khai', 'Łukasz Œuvray-Żółć', '陳美玲 Chén Měilíng'];

function pdftotext(pdf: Buffer): string | undefined {
  try {
    execFileSync('pdftotext', ['-v'], { stdio: 'ignore' });
  } catch {
    return undefined; // poppler-utils not installed: pdf-parse alone checks
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'receipt-')), 'r.pdf');
  fs.writeFileSync(file, pdf);
  return execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
}

test.each(NAMES)('a receipt for %s reads back with the name exactly', async (name) => {
  const { paymentId } = await giveAndReceive(t.db, { email: `${Buffer.from(name).toString('hex').slice(0, 20)}@example.org`, name, amountCents: 5_000 });
  const issued = await t.db.transaction().execute((trx) => issueReceiptForPayment(trx, t.config, paymentId, { userId: null, label: 'test' }));
  const pdf = await renderReceiptPdf((await findReceipt(t.db, issued.id))!);
  expect(await pdfText(pdf)).toContain(name);
  const poppler = pdftotext(pdf);
  if (poppler !== undefined) expect(poppler).toContain(name);
  // Subset: the embedded fonts carry only the glyphs used, so a receipt stays small.
  expect(pdf.length).toBeLessThan(120_000);
});
