import type { EmailMessage } from '../../server/notifications/outbox';
import { findReceipt } from '../../server/receipts/receipts';
import { renderReceiptPdf } from '../../server/receipts/pdf';
import { createGivingTest, deliverAll, type GivingTest, giveForm, postGive, startCardGift } from '../support/giving';
import { pdfText } from '../support/receipted-gifts';
import { type SignedIn, signInAs } from '../support/session';

/**
 * Issue 14: a gift form submits that gift's details; it never rewrites the donor record of the
 * e-mail it names. A stranger giving $5 with someone else's e-mail must leave that person's
 * record, receipts and e-mails as they were, end to end through /give and the staff payment form.
 */
let t: GivingTest;
let staff: SignedIn;
beforeAll(async () => {
  t = await createGivingTest();
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroyAll());

const VICTIM = { name: 'Ji-woo Kim', addressLine1: '10 Bloor Street West', city: 'Toronto', province: 'ON', postalCode: 'M4W 1A8' };
const STRANGER = { name: 'Mallory Impostor', addressLine1: '666 Fake Road', city: 'Nowhere', province: 'QC', postalCode: 'H0H 0H0' };

async function donorRow(email: string) {
  return t.db.selectFrom('donors').select(['id', 'name', 'address_line1', 'city', 'locale', 'receipt_frequency']).where('email', '=', email).executeTakeFirstOrThrow();
}

async function mailsTo(email: string): Promise<EmailMessage[]> {
  const rows = await t.db.selectFrom('outbox').select('payload').orderBy('id').execute();
  return rows.map((r) => r.payload as EmailMessage).filter((m) => m.to === email);
}

async function receiptText(paymentId: number) {
  const line = await t.db.selectFrom('receipt_payments').select('receipt_id').where('payment_id', '=', paymentId).where('in_force', '=', true).executeTakeFirstOrThrow();
  const receipt = (await findReceipt(t.db, line.receipt_id))!;
  return { receipt, text: await pdfText(await renderReceiptPdf(receipt)) };
}

async function pledgeOf(email: string, index: number) {
  return t.db
    .selectFrom('pledges')
    .innerJoin('donors', 'donors.id', 'pledges.donor_id')
    .select(['pledges.id', 'pledges.stripe_checkout_session_id'])
    .where('donors.email', '=', email)
    .orderBy('pledges.id')
    .offset(index)
    .limit(1)
    .executeTakeFirstOrThrow();
}

test('a stranger\'s card gift with the victim\'s e-mail leaves the victim\'s record, receipts and e-mails untouched (/give)', async () => {
  const email = 'ji-woo.card@example.org';
  // The victim gives once by card: their details are on the record and on their receipt.
  const first = await startCardGift(t.app, { ...VICTIM, email });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(first.sessionId));
  const before = await donorRow(email);
  expect(before).toMatchObject({ name: 'Ji-woo Kim', address_line1: '10 Bloor Street West', locale: 'en' });

  // The stranger gives $5 monthly with the victim's e-mail, in French, with their own name and address.
  const stranger = await postGive(t.app, giveForm({ ...STRANGER, email, amount: 'other', customAmount: '5', frequency: 'monthly' }), 303);
  const strangerSession = /\/checkout\/(cs_\w+)$/.exec(stranger.headers.location as string)![1]!;
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(strangerSession));

  // The victim's record is as it was: name, address, language, receipt choice (a monthly gift would have made it annual).
  expect(await donorRow(email)).toEqual(before);

  // The victim gives again by card: that gift's receipt is in their own name and address.
  const again = await startCardGift(t.app, { ...VICTIM, email });
  await deliverAll(t.app, t.stand, t.stand.completeCheckout(again.sessionId));
  const victimPledge = await pledgeOf(email, 2);
  const payment = await t.db.selectFrom('payments').select('id').where('pledge_id', '=', victimPledge.id).executeTakeFirstOrThrow();
  const { receipt, text } = await receiptText(payment.id);
  expect(receipt.donorName).toBe('Ji-woo Kim');
  expect(text).toContain('10 Bloor Street West');
  expect(text).not.toContain('Mallory');
  expect(text).not.toContain('666 Fake Road');

  // Every e-mail about the victim's own gifts greets the victim; none names the stranger.
  const mails = await mailsTo(email);
  const aboutVictim = mails.filter((m) => m.data.name !== 'Mallory Impostor');
  expect(aboutVictim.length).toBeGreaterThanOrEqual(4); // two confirmations, two receipts
  for (const m of aboutVictim) expect(JSON.stringify(m.data)).not.toContain('Mallory');
  for (const m of aboutVictim) expect(m.locale).toBe('en');

  // A staff correction (cancel and replace) re-issues in the victim's name, not the stranger's.
  const res = await staff.postForm(`/staff/receipts/${receipt.id}/replace`, { reason: 'donor asked for a copy' });
  expect(res.status).toBe(303);
  const replaced = await receiptText(payment.id);
  expect(replaced.receipt.donorName).toBe('Ji-woo Kim');
  expect(replaced.text).toContain('10 Bloor Street West');
});

test('a stranger\'s pay-later pledge with the victim\'s e-mail changes nothing of the victim\'s when staff record the cheques (staff payment form)', async () => {
  const email = 'ji-woo.cheque@example.org';
  await postGive(t.app, giveForm({ ...VICTIM, email, method: 'cheque', amount: '100' }), 303);
  await postGive(t.app, giveForm({ ...STRANGER, email, method: 'cheque', amount: 'other', customAmount: '5' }), 303);
  const victimPledge = await pledgeOf(email, 0);
  const strangerPledge = await pledgeOf(email, 1);
  const before = await donorRow(email);
  expect(before.name).toBe('Ji-woo Kim');

  // Staff record the stranger's cheque first, then the victim's, on the pledge pages' form.
  for (const [pledge, reference, amount] of [[strangerPledge, 'CHQ-666', '5'], [victimPledge, 'CHQ-100', '100']] as const) {
    const res = await staff.postForm(`/staff/pledges/${pledge.id}/payments`, { amount, method: 'cheque', reference, receivedOn: new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10) });
    expect(res.status).toBe(303);
  }
  expect(await donorRow(email)).toEqual(before);

  const victimPayment = await t.db.selectFrom('payments').select('id').where('pledge_id', '=', victimPledge.id).executeTakeFirstOrThrow();
  const victim = await receiptText(victimPayment.id);
  expect(victim.receipt.donorName).toBe('Ji-woo Kim');
  expect(victim.text).toContain('10 Bloor Street West');
  expect(victim.text).not.toContain('Mallory');

  // The stranger's own gift is receipted as that gift's form said: never in the victim's name.
  const strangerPayment = await t.db.selectFrom('payments').select('id').where('pledge_id', '=', strangerPledge.id).executeTakeFirstOrThrow();
  const theirs = await receiptText(strangerPayment.id);
  expect(theirs.receipt.donorName).toBe('Mallory Impostor');
  expect(theirs.text).not.toContain('Ji-woo Kim');

  // The victim's pledge instructions and receipt greet the victim.
  const mails = (await mailsTo(email)).filter((m) => m.template !== 'giving/details-confirmation');
  const victimMails = mails.filter((m) => m.data.name === 'Ji-woo Kim');
  expect(victimMails.map((m) => m.template).sort()).toEqual(['giving/pledge-instructions', 'receipts/issued']);
});
