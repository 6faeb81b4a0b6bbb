import { formatDate, formatMoney } from '../http/views';
import { translatorFor } from '../i18n/i18n';
import { type FontStyle, fontRuns } from './receipt-fonts';
import type { Receipt } from './receipts';

/**
 * OpenType features for every run: the defaults, but no glyph (de)composition, so a precomposed
 * letter such as Vietnamese "ị" stays one glyph and extracts back as itself (with `ccmp`, Noto
 * Sans draws it as "i" plus a combining dot, and readers extract "i" alone).
 */
const FEATURES = { ccmp: false } as Record<string, boolean>;

type Write = (text: string, style: FontStyle, continued?: boolean, extra?: { lineBreak?: boolean }) => void;

export type ReceiptPdfOptions = {
  /**
   * A cancelled receipt's kept copy: the same receipt, stamped CANCELLED / ANNULÉ with the serial
   * of its replacement (shared/DOMAIN.md: the original is kept, marked cancelled).
   */
  stampCancelled?: boolean;
};

/**
 * The official receipt as a PDF, in the language of the donor it was issued to, carrying every
 * element CRA requires (shared/DOMAIN.md "Donations and tax receipts"). Rendered only from the
 * receipt row (charity details and signature included), which cannot change once issued; the
 * bytes as issued are also kept (receipt_documents).
 */
export async function renderReceiptPdf(receipt: Receipt, options: ReceiptPdfOptions = {}): Promise<Buffer> {
  // pdfkit costs about 24 MB: loaded with the first receipt, not at start-up.
  const { default: PDFDocument } = await import('pdfkit');
  const { charity } = receipt;
  const t = translatorFor(receipt.locale);
  const money = (cents: number) => formatMoney(cents, receipt.locale);
  const date = (d: Date | string) => formatDate(d, receipt.locale);

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

  const registered = new Set<string>();
  /** Writes text in the style's font chain; `continued` leaves the line open for more. */
  const write: Write = (text, style, continued = false, extra = {}) => {
    const runs = fontRuns(text, style);
    runs.forEach((run, i) => {
      if (!registered.has(run.font.name)) {
        // The parsed font, shared by every receipt: parsing Noto Sans KR anew costs about half a second.
        doc.registerFont(run.font.name, run.font.font as unknown as Buffer);
        registered.add(run.font.name);
      }
      doc.font(run.font.name).text(run.text, { ...extra, continued: continued || i < runs.length - 1, features: FEATURES } as unknown as PDFKit.Mixins.TextOptions);
    });
  };
  const field = (label: string, value: string) => {
    write(`${label} `, 'bold', true);
    write(value, 'regular');
  };

  if (options.stampCancelled) {
    stampCancelled(doc, receipt, t, write);
  }

  doc.fontSize(16);
  write(t('receipts:pdf.title'), 'bold');
  doc.moveDown(0.5);
  doc.fontSize(11);
  write(charity.name, 'bold');
  write(charity.address, 'regular');
  field(t('receipts:pdf.registrationNumber'), charity.registrationNumber);
  doc.moveDown();

  field(t('receipts:pdf.serial'), receipt.serial);
  if (receipt.replacesSerial) write(t('receipts:pdf.replaces', { serial: receipt.replacesSerial }), 'bold');
  field(t('receipts:pdf.placeOfIssue'), charity.placeOfIssue);
  if (receipt.frequency === 'annual' || receipt.receivedFrom !== receipt.receivedTo) {
    field(t('receipts:pdf.receivedRange'), t('receipts:pdf.range', { from: date(receipt.receivedFrom), to: date(receipt.receivedTo) }));
    field(t('receipts:pdf.taxYear'), String(receipt.taxYear));
  } else {
    field(t('receipts:pdf.receivedOn'), date(receipt.receivedFrom));
  }
  field(t('receipts:pdf.issuedOn'), date(receipt.issuedOn));
  doc.moveDown();

  write(t('receipts:pdf.donor'), 'bold');
  write(receipt.donorName, 'regular');
  if (receipt.donorAddress) write(receipt.donorAddress, 'regular');
  doc.moveDown();

  field(t('receipts:pdf.amount'), money(receipt.amountCents));
  field(t('receipts:pdf.advantageValue'), money(receipt.advantageCents));
  field(t('receipts:pdf.advantageDescription'), receipt.advantageDescription ?? t('receipts:pdf.noAdvantage'));
  field(t('receipts:pdf.eligibleAmount'), money(receipt.eligibleAmountCents));

  if (receipt.gifts.length > 1) {
    doc.moveDown();
    write(t('receipts:pdf.gifts'), 'bold');
    for (const gift of receipt.gifts) write(`${date(gift.receivedOn)} — ${money(gift.amountCents)}`, 'regular');
  }

  doc.moveDown(2);
  if (receipt.signature) {
    // The authorised signature staff uploaded, as it stood when this receipt was issued.
    const height = 48;
    const width = Math.min(220, (receipt.signature.width / receipt.signature.height) * height);
    doc.image(receipt.signature.image, doc.x, doc.y, { fit: [width, height] });
    doc.y += height + 4;
  } else {
    write('_______________________________', 'regular');
  }
  write(t('receipts:pdf.signature'), 'regular');
  write(`${charity.signatoryName}, ${charity.signatoryTitle}`, 'regular');
  doc.moveDown(2);

  doc.fontSize(9);
  write(t('receipts:pdf.cra'), 'regular');
  doc.end();
  return done;
}

/** A line at the top naming the replacement, and CANCELLED / ANNULÉ across the page, behind the text. */
function stampCancelled(doc: PDFKit.PDFDocument, receipt: Receipt, t: ReturnType<typeof translatorFor>, write: Write) {
  const { width, height } = doc.page;
  const x = doc.x;
  const y = doc.y;
  doc.save();
  doc.rotate(-35, { origin: [width / 2, height / 2] });
  doc.fillColor('#c0392b', 0.18).fontSize(84);
  [doc.x, doc.y] = [width / 2 - 250, height / 2 - 100];
  write('CANCELLED', 'bold', false, { lineBreak: false });
  [doc.x, doc.y] = [width / 2 - 170, height / 2];
  write('ANNULÉ', 'bold', false, { lineBreak: false });
  doc.restore();
  doc.x = x;
  doc.y = y;
  doc.fillColor('#c0392b', 1).fontSize(12);
  write(
    receipt.replacedBySerial
      ? t('receipts:pdf.cancelledReplaced', { serial: receipt.replacedBySerial })
      : t('receipts:pdf.cancelledOnly'),
    'bold',
  );
  doc.fillColor('black', 1);
  doc.moveDown();
}
