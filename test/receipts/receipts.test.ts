import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import request from 'supertest';
import type { Database } from '../../server/db/schema';
import { listAudit } from '../../server/audit/audit';
import { renderEmail } from '../../server/notifications/emails';
import type { EmailMessage } from '../../server/notifications/outbox';
import { issueDuePerGiftReceipts, issueReceiptForPayment, issueReceiptIfDue, listUnreceipted, setReceiptFrequency } from '../../server/receipts/issuing';
import { cancelAndReplaceReceipt } from '../../server/receipts/replacing';
import { runYearEnd } from '../../server/receipts/year-end';
import { renderReceiptPdf } from '../../server/receipts/pdf';
import { findReceipt } from '../../server/receipts/receipts';
import { createApp } from '../../server/app';
import { createLogger } from '../../server/logger';
import { createTestApp, type TestApp, testConfig } from '../support/app';
import { giveAndReceive, pdfText, receiveAgain } from '../support/receipted-gifts';
import { recordRefundAsGivingWill } from '../support/refunds';
import { type SignedIn, signInAs } from '../support/session';

let t: TestApp;
let staffMember: SignedIn;
let staff: { userId: number; label: string };
beforeAll(async () => {
  t = await createTestApp({
    CHARITY_NAME: 'HanVoice Test Charity',
    CHARITY_ADDRESS: '1 Test Road, Toronto ON  M5V 1A1',
    CHARITY_REGISTRATION_NUMBER: '123456789 RR 0001',
    RECEIPT_LOCATION: 'Toronto, Ontario',
    RECEIPT_SIGNATORY_NAME: 'Jane Signer',
    RECEIPT_SIGNATORY_TITLE: 'Treasurer',
  });
  staffMember = await signInAs(t, 'staff');
  staff = { userId: staffMember.user.id, label: staffMember.user.email };
});
afterAll(() => t.destroy());

function issue(paymentId: number) {
  return t.db.transaction().execute((trx) => issueReceiptForPayment(trx, t.config, paymentId, staff));
}

async function outboxFor(email: string): Promise<EmailMessage[]> {
  const rows = await t.db.selectFrom('outbox').select('payload').orderBy('id').execute();
  return rows.map((r) => r.payload as EmailMessage).filter((m) => m.to === email);
}

test('a receipt PDF carries every element CRA requires, read back from the PDF', async () => {
  const { paymentId } = await giveAndReceive(t.db, { email: 'elements@example.org', name: 'Min-ji Park', amountCents: 12_345, receivedAt: new Date('2026-03-14T15:00:00Z') });
  const issued = await issue(paymentId);
  expect(issued.serial).toMatch(/^HV-2026-\d{6}$/);
  const receipt = (await findReceipt(t.db, issued.id))!;
  const text = await pdfText(await renderReceiptPdf(receipt));
  for (const element of [
    'Official receipt for income tax purposes',
    'HanVoice Test Charity',
    '1 Test Road, Toronto ON M5V 1A1',
    'Charity registration number: 123456789 RR 0001',
    `Receipt number: ${issued.serial}`,
    'Place of issue: Toronto, Ontario',
    'Date gift received: March 14, 2026',
    `Date issued: ${new Intl.DateTimeFormat('en-CA', { dateStyle: 'long', timeZone: 'America/Toronto' }).format(new Date())}`,
    'Min-ji Park',
    '100 Queen Street West',
    'Ottawa ON K1P 1J9',
    'Amount of gift: $123.45',
    'Value of advantage: $0.00',
    'Description of advantage: None',
    'Eligible amount of gift for tax purposes: $123.45',
    'Authorized signature',
    'Jane Signer, Treasurer',
    'Canada Revenue Agency, canada.ca/charities-giving',
  ]) {
    expect(text).toContain(element);
  }
  expect(text).not.toContain('replaces');
});

test('a French donor gets the receipt in French, amounts formatted for fr-CA', async () => {
  const { paymentId } = await giveAndReceive(t.db, { email: 'fr@example.org', name: 'Soo-ah Kim', locale: 'fr', amountCents: 123_456, receivedAt: new Date('2026-03-14T15:00:00Z') });
  const issued = await issue(paymentId);
  const text = await pdfText(await renderReceiptPdf((await findReceipt(t.db, issued.id))!));
  for (const element of [
    'Reçu officiel aux fins de l’impôt sur le revenu',
    'Numéro d’enregistrement de l’organisme de bienfaisance : 123456789 RR 0001',
    `Numéro du reçu : ${issued.serial}`,
    'Lieu de délivrance : Toronto, Ontario',
    'Date de réception du don : 14 mars 2026',
    'Date de délivrance :',
    'Montant du don : 1 234,56 $',
    'Valeur de l’avantage : 0,00 $',
    'Montant admissible du don aux fins de l’impôt : 1 234,56 $',
    'Signature autorisée',
    'Agence du revenu du Canada, canada.ca/organismes-bienfaisance-dons',
  ]) {
    expect(text).toContain(element);
  }
  const [mail] = await outboxFor('fr@example.org');
  const rendered = renderEmail(mail!);
  expect(rendered.subject).toBe(`Votre reçu officiel de don ${issued.serial}`);
  expect(rendered.text).toContain('Téléchargez votre reçu');
});

test('serials stay unique under 50 concurrent issues', async () => {
  const payments: number[] = [];
  for (let i = 0; i < 50; i += 1) {
    payments.push((await giveAndReceive(t.db, { email: `concurrent${i}@example.org`, amountCents: 1_000 + i })).paymentId);
  }
  // A pool as large as the test database allows, with a patient connection timeout: on the
  // embedded database the 50 transactions queue one behind another.
  const pool = new pg.Pool({ connectionString: t.url, max: t.mode === 'embedded' ? 4 : 20, connectionTimeoutMillis: 120_000 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const issued = await Promise.all(payments.map((id) => db.transaction().execute((trx) => issueReceiptForPayment(trx, t.config, id, staff)))).finally(() => db.destroy());
  const serials = new Set(issued.map((r) => r.serial));
  expect(serials.size).toBe(50);
  const stored = await t.db.selectFrom('receipts').select('serial').execute();
  expect(new Set(stored.map((r) => r.serial)).size).toBe(stored.length);
  // Issuing the same payment twice at once: exactly one wins.
  const { paymentId } = await giveAndReceive(t.db, { email: 'twice@example.org', amountCents: 5_000 });
  const outcomes = await Promise.allSettled([issue(paymentId), issue(paymentId), issue(paymentId)]);
  expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
});

test('a refund after receipting cancels the receipt and replaces it for what remains', async () => {
  const { paymentId } = await giveAndReceive(t.db, { email: 'refund@example.org', amountCents: 10_000, method: 'card', feeCents: 320 });
  const original = await issue(paymentId);

  const partial = await recordRefundAsGivingWill(t.db, t.config, paymentId, 4_000);
  expect(partial!.cancelled.serial).toBe(original.serial);
  const replacement = (await findReceipt(t.db, partial!.replacement!.id))!;
  expect(replacement).toMatchObject({ status: 'issued', amountCents: 6_000, eligibleAmountCents: 6_000, replacesSerial: original.serial });
  expect((await findReceipt(t.db, original.id))!).toMatchObject({ status: 'cancelled', amountCents: 10_000 });
  const text = await pdfText(await renderReceiptPdf(replacement));
  expect(text).toContain(`This receipt replaces receipt ${original.serial}`);
  expect(text).toContain('Amount of gift: $60.00');

  // The donor's e-mail for the replacement says what it replaces and links to it.
  const mails = await outboxFor('refund@example.org');
  expect(renderEmail(mails[mails.length - 1]!).text).toContain(`This receipt replaces receipt ${original.serial}`);

  // The rest refunded: the replacement is cancelled too and nothing is left to receipt.
  const full = await recordRefundAsGivingWill(t.db, t.config, paymentId, 6_000);
  expect(full).toMatchObject({ cancelled: { serial: replacement.serial }, replacement: null });
  const inForce = await t.db.selectFrom('receipt_payments').select('receipt_id').where('payment_id', '=', paymentId).where('in_force', '=', true).execute();
  expect(inForce).toEqual([]);
  expect((await listUnreceipted(t.db)).map((p) => p.paymentId)).not.toContain(paymentId);
  const audit = await listAudit(t.db, { action: 'receipt.revised_after_refund' });
  expect(audit.rows).toHaveLength(2);
});

test('a lost dispute on a receipted gift cancels its receipt', async () => {
  const { paymentId } = await giveAndReceive(t.db, { email: 'dispute@example.org', amountCents: 2_500, method: 'card' });
  const original = await issue(paymentId);
  const result = await recordRefundAsGivingWill(t.db, t.config, paymentId, 2_500, { dispute: true });
  expect(result).toMatchObject({ cancelled: { serial: original.serial }, replacement: null });
});

test('a refund before receipting leaves only the rest to receipt; no receipt means nothing to revise', async () => {
  const { paymentId } = await giveAndReceive(t.db, { email: 'early-refund@example.org', amountCents: 9_000 });
  expect(await recordRefundAsGivingWill(t.db, t.config, paymentId, 1_000)).toBeNull();
  expect((await issue(paymentId)).amountCents).toBe(8_000);
});

test('the year-end run issues exactly one annual receipt per donor with the right total', async () => {
  // Two monthly donors (annual by default) and a one-time donor (per gift), all in 2025.
  const a = await giveAndReceive(t.db, { email: 'annual-a@example.org', frequency: 'monthly', amountCents: 2_500, receivedAt: new Date('2025-01-15T17:00:00Z') });
  await receiveAgain(t.db, a.pledgeId, 2_500, new Date('2025-02-15T17:00:00Z'));
  await receiveAgain(t.db, a.pledgeId, 2_500, new Date('2025-03-15T17:00:00Z'));
  const b = await giveAndReceive(t.db, { email: 'annual-b@example.org', frequency: 'monthly', amountCents: 1_000, receivedAt: new Date('2025-06-01T17:00:00Z') });
  await receiveAgain(t.db, b.pledgeId, 1_000, new Date('2025-12-31T23:30:00-05:00')); // still 2025 in Toronto
  await receiveAgain(t.db, b.pledgeId, 1_000, new Date('2026-01-01T12:00:00-05:00')); // 2026: not in the run
  const once = await giveAndReceive(t.db, { email: 'once-2025@example.org', amountCents: 7_700, receivedAt: new Date('2025-05-05T17:00:00Z') });

  // A monthly donor cannot be given a per-gift receipt by mistake.
  await expect(issue(a.paymentId)).rejects.toThrow(/one receipt a year/);

  const run = () => t.db.transaction().execute((trx) => runYearEnd(trx, t.config, 2025, staff));
  expect(await run()).toMatchObject({ annualIssued: 2, annualReplaced: 0, perGiftIssued: 1, donorsWithoutAddress: 0 });

  const annual = await t.db.selectFrom('receipts').selectAll().where('tax_year', '=', 2025).where('frequency', '=', 'annual').where('status', '=', 'issued').execute();
  const byDonor = new Map(annual.map((r) => [r.donor_id, r]));
  expect(annual).toHaveLength(2);
  expect(byDonor.get(a.donorId)).toMatchObject({ amount_cents: 7_500, received_from: '2025-01-15', received_to: '2025-03-15' });
  expect(byDonor.get(b.donorId)).toMatchObject({ amount_cents: 2_000, received_from: '2025-06-01', received_to: '2025-12-31' });
  const perGift = await t.db.selectFrom('receipts').select('amount_cents').where('donor_id', '=', once.donorId).execute();
  expect(perGift).toEqual([{ amount_cents: 7_700 }]);

  const text = await pdfText(await renderReceiptPdf((await findReceipt(t.db, byDonor.get(a.donorId)!.id))!));
  expect(text).toContain('Gifts received: January 15, 2025 to March 15, 2025');
  expect(text).toContain('Tax year: 2025');
  expect(text).toContain('Amount of gift: $75.00');

  // Running again changes nothing.
  expect(await run()).toMatchObject({ annualIssued: 0, annualReplaced: 0, perGiftIssued: 0 });

  // A late cheque dated in 2025: the annual receipt is replaced by one for the new total.
  await receiveAgain(t.db, a.pledgeId, 2_500, new Date('2025-04-15T17:00:00Z'), 'cheque');
  expect(await run()).toMatchObject({ annualIssued: 0, annualReplaced: 1, perGiftIssued: 0 });
  const inForce = await t.db.selectFrom('receipts').selectAll().where('donor_id', '=', a.donorId).where('tax_year', '=', 2025).where('status', '=', 'issued').execute();
  expect(inForce).toHaveLength(1);
  expect(inForce[0]).toMatchObject({ amount_cents: 10_000, replaces_receipt_id: byDonor.get(a.donorId)!.id });

  // A refund of one gift on an annual receipt: replaced by one for the other gifts.
  const janPayment = await t.db.selectFrom('payments').select('id').where('pledge_id', '=', a.pledgeId).orderBy('received_at').executeTakeFirstOrThrow();
  const revised = await recordRefundAsGivingWill(t.db, t.config, janPayment.id, 2_500);
  const afterRefund = (await findReceipt(t.db, revised!.replacement!.id))!;
  expect(afterRefund).toMatchObject({ frequency: 'annual', taxYear: 2025, amountCents: 7_500, receivedFrom: '2025-02-15', receivedTo: '2025-04-15' });
  expect(afterRefund.gifts).toHaveLength(3);

  // The 2026 gift waits for next year's run.
  expect((await listUnreceipted(t.db)).filter((p) => p.donorId === b.donorId)).toHaveLength(1);
});

test('receipts are only for money received and receiptable', async () => {
  // A pay-later pledge with nothing received never appears.
  const campaign = await t.db.selectFrom('campaigns').select('id').executeTakeFirstOrThrow();
  const pledgeOnly = await t.db.transaction().execute(async (trx) => {
    const { upsertDonor } = await import('../../server/giving/donors');
    const { createPledge } = await import('../../server/giving/pledges');
    const donorId = await upsertDonor(trx, { email: 'pledge-only@example.org', name: 'Pledge Only' });
    await createPledge(trx, { campaignId: campaign.id, donorId, groupId: null, amountCents: 50_000, frequency: 'once', installments: null, method: 'cheque' });
    return donorId;
  });
  expect((await listUnreceipted(t.db)).map((p) => p.donorId)).not.toContain(pledgeOnly);

  // A payment marked non-receiptable (e.g. an imported gift directed to a family) never is.
  const { paymentId } = await giveAndReceive(t.db, { email: 'directed@example.org', amountCents: 3_000 });
  await t.db.updateTable('payments').set({ receiptable: false }).where('id', '=', paymentId).execute();
  expect((await listUnreceipted(t.db)).map((p) => p.paymentId)).not.toContain(paymentId);
  await expect(issue(paymentId)).rejects.toThrow(/non-receiptable/);

  // A donor without an address waits (CRA: the receipt states it) and is not swept up by a run.
  const noAddress = await t.db.transaction().execute(async (trx) => {
    const { upsertDonor } = await import('../../server/giving/donors');
    const { createPledge } = await import('../../server/giving/pledges');
    const { recordPayment } = await import('../../server/giving/payments');
    const donorId = await upsertDonor(trx, { email: 'no-address@example.org', name: 'No Address' });
    const pledgeId = await createPledge(trx, { campaignId: campaign.id, donorId, groupId: null, amountCents: 4_200, frequency: 'once', installments: null, method: 'etransfer' });
    return recordPayment(trx, { pledgeId, amountCents: 4_200, method: 'etransfer', receivedAt: new Date() });
  });
  await expect(issue(noAddress)).rejects.toThrow(/address is needed/);
  expect((await listUnreceipted(t.db)).find((p) => p.paymentId === noAddress)).toMatchObject({ hasAddress: false });
  await t.db.transaction().execute((trx) => issueDuePerGiftReceipts(trx, t.config, staff));
  expect(await t.db.selectFrom('receipt_payments').select('receipt_id').where('payment_id', '=', noAddress).execute()).toEqual([]);

  // A payment dated in the future is not received yet.
  const future = await giveAndReceive(t.db, { email: 'future@example.org', amountCents: 3_000, receivedAt: new Date(Date.now() + 86_400_000) });
  await expect(issue(future.paymentId)).rejects.toThrow(/before the gift is received/);
});

test('issued receipts cannot be altered or deleted, only cancelled', async () => {
  const { paymentId } = await giveAndReceive(t.db, { email: 'immutable@example.org', amountCents: 4_000 });
  const { id } = await issue(paymentId);
  await expect(t.db.updateTable('receipts').set({ amount_cents: 1 }).where('id', '=', id).execute()).rejects.toThrow(/cannot be altered/);
  await expect(t.db.deleteFrom('receipts').where('id', '=', id).execute()).rejects.toThrow(/kept/);
});

test('per-gift receipts can be issued as payments arrive; the donor preference is honoured', async () => {
  const onceDonor = await giveAndReceive(t.db, { email: 'pref@example.org', amountCents: 1_500 });
  expect(await t.db.transaction().execute((trx) => issueReceiptIfDue(trx, t.config, onceDonor.paymentId))).toMatchObject({ amountCents: 1_500 });
  // The same donor now asks for one receipt a year: later gifts wait for the year-end run.
  await t.db.transaction().execute((trx) => setReceiptFrequency(trx, onceDonor.donorId, 'annual', staff));
  const later = await giveAndReceive(t.db, { email: 'pref@example.org', amountCents: 2_000 });
  expect(await t.db.transaction().execute((trx) => issueReceiptIfDue(trx, t.config, later.paymentId))).toBeNull();
});

test('donors download their receipt by its link; staff cancel and replace from their page', async () => {
  const { paymentId } = await giveAndReceive(t.db, { email: 'link@example.org', amountCents: 5_500 });

  // Anonymous visitors are sent to sign in; staff see the queue and issue.
  await request(t.app).get('/staff/receipts').expect(303).expect('Location', '/sign-in?next=%2Fstaff%2Freceipts');
  const sponsor = await signInAs(t, 'sponsor');
  await sponsor.agent.get('/staff/receipts').expect(403);
  const queue = await staffMember.agent.get('/staff/receipts').expect(200);
  expect(queue.text).toContain('Received but not yet receipted');
  expect(queue.text).toContain(`name="paymentId" value="${paymentId}"`);
  const issued = await staffMember.postForm('/staff/receipts/issue', { paymentId });
  expect(issued.status).toBe(303);
  // Without the CSRF token nothing is issued.
  await staffMember.agent.post('/staff/receipts/issue').type('form').send({ paymentId }).expect(403);
  const serial = decodeURIComponent(/issued=([^&]+)/.exec(issued.headers.location!)![1]!);
  expect((await staffMember.agent.get(issued.headers.location!).expect(200)).text).toContain(`Receipt ${serial} issued.`);

  const [mail] = await outboxFor('link@example.org');
  const link = String(mail!.data.link);
  expect(link).toMatch(/^http:\/\/haven\.test\/receipts\/[A-Za-z0-9_-]{43}$/);
  const path = new URL(link).pathname;
  const pdf = await request(t.app).get(path).buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });
  expect(pdf.status).toBe(200);
  expect(pdf.headers['content-type']).toBe('application/pdf');
  expect(pdf.headers['cache-control']).toBe('private, no-store');
  expect(await pdfText(pdf.body as Buffer)).toContain(`Receipt number: ${serial}`);
  await request(t.app).get('/receipts/not-a-real-token-at-all-xxxxxxxx').expect(404);

  // The charity's details changing later does not alter a receipt already issued.
  const movedConfig = testConfig({ CHARITY_NAME: 'Renamed Charity', CHARITY_ADDRESS: '9 New Street, Ottawa ON  K1A 0A1' });
  const movedApp = createApp({ config: movedConfig, db: t.db, logger: createLogger(movedConfig) });
  const copy = await request(movedApp).get(path).buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });
  const copyText = await pdfText(copy.body as Buffer);
  expect(copyText).toContain('HanVoice Test Charity');
  expect(copyText).not.toContain('Renamed Charity');

  // The module's errors are shown in the reader's language.
  const again = await staffMember.postForm('/staff/receipts/issue?lang=fr', { paymentId });
  expect(again.status).toBe(409);
  expect(again.text).toContain('Ce paiement a déjà un reçu.');

  // Cancel and replace: the old link says it was cancelled, the audit log has the decision.
  const receipt = await t.db.selectFrom('receipts').select('id').where('serial', '=', serial).executeTakeFirstOrThrow();
  const replaced = await staffMember.postForm(`/staff/receipts/${receipt.id}/replace`, { reason: 'Donor moved' });
  expect(replaced.status).toBe(303);
  expect(replaced.headers.location).toMatch(/replaced=.*&replacement=HV-/);
  const gone = await request(t.app).get(path).expect(410);
  expect(gone.text).toContain(`Receipt ${serial} was cancelled`);
  const audit = await listAudit(t.db, { subject: `receipt:${receipt.id}` });
  expect(audit.rows.map((r) => r.action)).toEqual(['receipt.replaced', 'receipt.issued']);
  expect(audit.rows[0]).toMatchObject({ actor_user_id: staffMember.user.id });
  await expect(t.db.transaction().execute((trx) => cancelAndReplaceReceipt(trx, t.config, receipt.id, 'again', staff))).rejects.toThrow(/already cancelled/);

  // Every per-gift receipt due, in one action; annual donors' gifts stay in the queue.
  await giveAndReceive(t.db, { email: 'due-1@example.org', amountCents: 1_100 });
  await giveAndReceive(t.db, { email: 'due-2@example.org', amountCents: 2_200 });
  const dueRun = await staffMember.postForm('/staff/receipts/issue-due');
  expect(dueRun.status).toBe(303);
  expect(Number(/perGift=(\d+)/.exec(dueRun.headers.location!)![1])).toBeGreaterThanOrEqual(2);
  expect((await listUnreceipted(t.db)).filter((p) => p.frequency === 'per_gift' && p.hasAddress)).toEqual([]);

  // The year-end run from the staff page, audited.
  const run = await staffMember.postForm('/staff/receipts/year-end', { year: 2024 });
  expect(run.status).toBe(303);
  expect(run.headers.location).toBe('/staff/receipts?yearEnd=2024:0:0:0:0');
  expect((await listAudit(t.db, { action: 'receipt.year_end_run' })).rows.length).toBeGreaterThan(0);
});

test('request logs never carry a receipt download token', async () => {
  const { redactPathTokens } = await import('../../server/http/request-log');
  expect(redactPathTokens('/receipts/abcDEF123_-xyz')).toBe('/receipts/:token');
  expect(redactPathTokens('/staff/receipts')).toBe('/staff/receipts');
});

test("a receipt prints the charity's dates in CHARITY_TIME_ZONE: 23:00 on 31 December in Vancouver is received and issued that year", async () => {
  // 2027-01-01T06:30Z is 22:30 on 31 December in Vancouver (UTC−8), already 1 January in Toronto and in UTC.
  const { paymentId } = await giveAndReceive(t.db, { email: 'vancouver@example.org', amountCents: 5_000, method: 'card', receivedAt: new Date('2027-01-01T06:30:00Z') });
  const settings = { ...t.config, charityTimeZone: 'America/Vancouver', clock: { now: () => new Date('2027-01-01T07:00:00Z') } };
  const issued = await t.db.transaction().execute((trx) => issueReceiptForPayment(trx, settings, paymentId, staff));
  expect(issued.serial).toMatch(/^HV-2026-/);
  const text = await pdfText(await renderReceiptPdf((await findReceipt(t.db, issued.id))!));
  expect(text).not.toContain('2027');
  expect(text.match(/December 31, 2026/g)?.length).toBeGreaterThanOrEqual(2); // date received and date issued
});
