/**
 * The size of an official receipt's PDF for names in several scripts: `npx tsx bench/receipt-size.ts`
 * (or `npm run bench:receipts`). Each receipt is issued as the app issues one (server/receipts), on an
 * in-memory PGlite, at a fixed instant so every run prints the same figures; then rendered by
 * renderReceiptPdf, whose embedded Noto fonts are subset to the glyphs each receipt uses.
 */
import { loadConfig } from '../server/config';
import { createKysely } from '../server/db/database';
import { startEmbeddedPostgres } from '../server/db/embedded';
import { migrateToLatest } from '../server/db/migrator';
import { issueReceiptForPayment } from '../server/receipts/issuing';
import { renderReceiptPdf } from '../server/receipts/pdf';
import { findReceipt } from '../server/receipts/receipts';
import { fixedClock } from '../test/support/clock';
import { giveAndReceive } from '../test/support/receipted-gifts';

const NAMES = ['김지우 (Ji-woo Kim)', 'Nguyễn Thị Minh Khai', 'Łukasz Œuvray-Żółć', '陳美玲 Chén Měilíng', 'Jane Smith'];
const AT = '2026-12-01T15:00:00Z';

async function main() {
  const embedded = await startEmbeddedPostgres({});
  const db = createKysely(embedded.url, 1);
  try {
    await migrateToLatest(db);
    const settings = { ...loadConfig({ NODE_ENV: 'test', PUBLIC_URL: 'http://haven.test', LOG_LEVEL: 'silent' }), clock: fixedClock(AT) };
    console.log('bytes   name');
    for (const [i, name] of NAMES.entries()) {
      const { paymentId } = await giveAndReceive(db, { email: `receipt-size-${i}@example.org`, name, amountCents: 5_000, receivedAt: new Date(AT) });
      const issued = await db.transaction().execute((trx) => issueReceiptForPayment(trx, settings, paymentId, { userId: null, label: 'bench' }));
      const pdf = await renderReceiptPdf((await findReceipt(db, issued.id))!);
      console.log(`${String(pdf.length).padStart(6)}  ${name}`);
    }
  } finally {
    await db.destroy();
    await embedded.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
