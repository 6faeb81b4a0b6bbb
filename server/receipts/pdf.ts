import { formatDate, formatMoney } from '../http/views';
import { translatorFor } from '../i18n/i18n';
import type { Receipt } from './receipts';

/**
 * PDFKit's standard fonts use WinAnsi encoding, which has the no-break space but not the narrow
 * one fr-CA uses in amounts (1 234,56 $).
 */
function pdfText(text: string): string {
  return text.replace(/\u202f/g, '\u00a0');
}

/**
 * The official receipt as a PDF, in the language of the donor it was issued to, carrying every
 * element CRA requires (shared/DOMAIN.md "Donations and tax receipts"). Rendered only from the
 * receipt row (charity details included), which cannot change once issued, so every copy reads the same.
 */
export async function renderReceiptPdf(receipt: Receipt): Promise<Buffer> {
  // pdfkit and its fonts cost about 24 MB: loaded with the first receipt, not at start-up.
  const { default: PDFDocument } = await import('pdfkit');
  const { charity } = receipt;
  const t = translatorFor(receipt.locale);
  const money = (cents: number) => pdfText(formatMoney(cents, receipt.locale));
  const date = (d: Date | string) => pdfText(formatDate(d, receipt.locale));

  const doc = new PDFDocument({
    size: 'LETTER',
    margin: 56,
    info: {
      Title: `${t('receipts:pdf.title')} ${receipt.serial}`,
      Author: charity.name,
      Subject: t('receipts:pdf.title'),
      CreationDate: receipt.issuedAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const field = (label: string, value: string) => {
    doc.font('Helvetica-Bold').text(`${label} `, { continued: true }).font('Helvetica').text(pdfText(value));
  };

  doc.font('Helvetica-Bold').fontSize(16).text(t('receipts:pdf.title'));
  doc.moveDown(0.5);
  doc.fontSize(11).font('Helvetica-Bold').text(pdfText(charity.name));
  doc.font('Helvetica').text(pdfText(charity.address));
  field(t('receipts:pdf.registrationNumber'), charity.registrationNumber);
  doc.moveDown();

  field(t('receipts:pdf.serial'), receipt.serial);
  if (receipt.replacesSerial) {
    doc.font('Helvetica-Bold').text(t('receipts:pdf.replaces', { serial: receipt.replacesSerial }));
  }
  field(t('receipts:pdf.placeOfIssue'), charity.placeOfIssue);
  if (receipt.frequency === 'annual' || receipt.receivedFrom !== receipt.receivedTo) {
    field(t('receipts:pdf.receivedRange'), t('receipts:pdf.range', { from: date(receipt.receivedFrom), to: date(receipt.receivedTo) }));
    field(t('receipts:pdf.taxYear'), String(receipt.taxYear));
  } else {
    field(t('receipts:pdf.receivedOn'), date(receipt.receivedFrom));
  }
  field(t('receipts:pdf.issuedOn'), date(receipt.issuedAt));
  doc.moveDown();

  doc.font('Helvetica-Bold').text(t('receipts:pdf.donor'));
  doc.font('Helvetica').text(pdfText(receipt.donorName));
  if (receipt.donorAddress) doc.text(pdfText(receipt.donorAddress));
  doc.moveDown();

  field(t('receipts:pdf.amount'), money(receipt.amountCents));
  field(t('receipts:pdf.advantageValue'), money(receipt.advantageCents));
  field(t('receipts:pdf.advantageDescription'), receipt.advantageDescription ?? t('receipts:pdf.noAdvantage'));
  field(t('receipts:pdf.eligibleAmount'), money(receipt.eligibleAmountCents));

  if (receipt.gifts.length > 1) {
    doc.moveDown();
    doc.font('Helvetica-Bold').text(t('receipts:pdf.gifts'));
    doc.font('Helvetica');
    for (const gift of receipt.gifts) doc.text(`${date(gift.receivedOn)} — ${money(gift.amountCents)}`);
  }

  doc.moveDown(2);
  doc.text('_______________________________');
  doc.text(t('receipts:pdf.signature'));
  doc.text(pdfText(`${charity.signatoryName}, ${charity.signatoryTitle}`));
  doc.moveDown(2);

  doc.fontSize(9).text(t('receipts:pdf.cra'));
  doc.end();
  return done;
}
