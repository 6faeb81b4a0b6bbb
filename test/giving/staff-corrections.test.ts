import request from 'supertest';
import { recordPayment } from '../../server/giving/payments';
import { monthlyCancelUrl } from '../../server/giving/gift-links';
import { createTestApp, type TestApp } from '../support/app';
import { makePledge } from '../support/gifts';
import { giveForm, ledgerImbalance, postGive, totals } from '../support/giving';
import { signInAs, type SignedIn } from '../support/session';

/**
 * Staff typos in offline payments (issue 15): caught before money moves, corrected with a trail
 * after. The figures are checked against the ledger's own balances and the campaign API.
 */
let t: TestApp;
let staff: SignedIn;
beforeAll(async () => {
  t = await createTestApp({ PLEDGE_RATE_LIMIT_PER_IP: '1000', PLEDGE_RATE_LIMIT_PER_EMAIL: '1000' });
  staff = await signInAs(t, 'staff');
});
afterAll(() => t.destroy());

/** A pay-later pledge made on /give: $20 a month for 12 months by cheque, from a donor with an address (per-gift receipts). */
async function payLaterPledge(overrides: Record<string, string> = {}): Promise<number> {
  const res = await postGive(t.app, giveForm({ method: 'cheque', frequency: 'monthly', months: '12', amount: 'other', customAmount: '20', wallConsent: 'on', displayName: 'The Kims', ...overrides }), 303);
  return Number(/^\/give\/pledged\/(\d+)\?t=/.exec(res.headers.location!)![1]);
}

function offline(fields: Record<string, string>) {
  return { amount: '20.00', method: 'cheque', reference: `CHQ-${Math.random().toString(36).slice(2, 8)}`, receivedOn: '2026-11-20', ...fields };
}

const campaign = async () => (await request(t.app).get('/api/campaign').expect(200)).body as { raisedCents: number; pledgedOutstandingCents: number; donorCount: number };

describe('sanity before money moves', () => {
  test('$99,999,999 on a $20/month pledge is refused beside the field, with what was typed kept, and nothing moves', async () => {
    const pledgeId = await payLaterPledge();
    const before = await campaign();
    const res = await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '99,999,999', reference: 'CHQ-TYPO-1' }));
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/id="amount"[^>]*value="99,999,999"/);
    expect(res.text).toMatch(/id="reference"[^>]*value="CHQ-TYPO-1"/);
    expect(res.text).toMatch(/<p class="field-error" id="amount-error">[^<]*\$100,000\.00/);
    expect(await campaign()).toEqual(before);
  });

  test('more than the pledge still owes needs a confirmation that spells the amount out; confirmed, it is recorded', async () => {
    const pledgeId = await payLaterPledge();
    const before = await campaign();
    const first = await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '5000', reference: 'CHQ-BIG-1' }));
    expect(first.status).toBe(400);
    expect(first.text).toContain('$5,000.00');
    expect(first.text).toMatch(/five thousand (canadian )?dollars/i);
    expect(first.text).toContain('$240.00'); // what the pledge still owes
    expect(first.text).toMatch(/name="confirmAmountCents" value="500000"/);
    expect(await campaign()).toEqual(before);

    // A confirmation for another amount (the form was changed) asks again.
    const changed = await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '6000', reference: 'CHQ-BIG-1', confirmAmountCents: '500000' }));
    expect(changed.status).toBe(400);
    expect(changed.text).toMatch(/six thousand (canadian )?dollars/i);

    await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '5000', reference: 'CHQ-BIG-1', confirmAmountCents: '500000' })).then((r) => expect(r.status).toBe(303));
    const after = await campaign();
    expect(after.raisedCents - before.raisedCents).toBe(500_000);
    expect(before.pledgedOutstandingCents - after.pledgedOutstandingCents).toBe(24_000);
  });

  test('above the configured threshold needs a confirmation even when the pledge owes more', async () => {
    const pledgeId = await payLaterPledge({ customAmount: '20000', months: '2' });
    const res = await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '20000', reference: 'CHQ-THRESH-1' }));
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/twenty thousand (canadian )?dollars/i);
  });

  test('a negative or empty amount and an unknown method are shown beside their fields, values kept', async () => {
    const pledgeId = await payLaterPledge();
    const res = await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '-50', method: 'barter', reference: 'CHQ-NEG-1' }));
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('Back to the campaign');
    expect(res.text).toMatch(/id="amount"[^>]*value="-50"/);
    expect(res.text).toMatch(/id="reference"[^>]*value="CHQ-NEG-1"/);
    expect(res.text).toContain('id="amount-error"');
    expect(res.text).toContain('id="method-error"');
  });

  test('a bad refund amount re-renders the pledge page with the message beside the refund field', async () => {
    const pledgeId = await makePledge(t.db, { method: 'card', amountCents: 5_000 });
    const paymentId = await t.db.transaction().execute((trx) =>
      recordPayment(trx, { pledgeId, amountCents: 5_000, feeCents: 175, method: 'card', stripeChargeId: 'ch_3RefundTypo', receivedAt: new Date() }),
    );
    const payment = { id: paymentId };
    const res = await staff.postForm(`/staff/payments/${payment.id}/refund`, { amount: 'ten' });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('Back to the campaign');
    expect(res.text).toContain(`id="refund-${payment.id}-error"`);
    expect(res.text).toMatch(new RegExp(`id="refund-${payment.id}"[^>]*value="ten"`));
  });
});

describe('advantage (CRA): what the donor received in return', () => {
  test('an offline gift with an advantage is receipted for the gift less it; an advantage above 80 % or without a description is refused', async () => {
    const pledgeId = await payLaterPledge({ frequency: 'once', months: '', customAmount: '150' });
    const tooMuch = await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '150', reference: 'CHQ-GALA-1', advantage: '130', advantageDescription: 'Gala dinner' }));
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.text).toMatch(/id="advantage-error">[^<]*\$120\.00/);
    const undescribed = await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '150', reference: 'CHQ-GALA-1', advantage: '40' }));
    expect(undescribed.status).toBe(400);
    expect(undescribed.text).toContain('id="advantageDescription-error"');

    await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '150', reference: 'CHQ-GALA-1', advantage: '40', advantageDescription: 'Gala dinner, fair market value' })).then((r) => expect(r.status).toBe(303));
    const receipt = await t.db
      .selectFrom('receipts')
      .innerJoin('receipt_payments', 'receipt_payments.receipt_id', 'receipts.id')
      .innerJoin('payments', 'payments.id', 'receipt_payments.payment_id')
      .select(['receipts.amount_cents', 'receipts.advantage_cents', 'receipts.advantage_description', 'receipts.eligible_amount_cents'])
      .where('payments.reference', '=', 'CHQ-GALA-1')
      .executeTakeFirstOrThrow();
    expect(receipt).toEqual({ amount_cents: 15_000, advantage_cents: 4_000, advantage_description: 'Gala dinner, fair market value', eligible_amount_cents: 11_000 });
  });
});

describe('corrections with a trail', () => {
  async function recordTypo(pledgeId: number, reference: string) {
    await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '5000', reference, confirmAmountCents: '500000' })).then((r) => expect(r.status).toBe(303));
    return t.db.selectFrom('payments').select(['id']).where('reference', '=', reference).executeTakeFirstOrThrow();
  }
  const receiptsOf = (paymentId: number) =>
    t.db
      .selectFrom('receipts')
      .innerJoin('receipt_payments', 'receipt_payments.receipt_id', 'receipts.id')
      .select(['receipts.id', 'receipts.serial', 'receipts.status', 'receipts.amount_cents', 'receipts.replaces_receipt_id', 'receipts.tax_year'])
      .where('receipt_payments.payment_id', '=', paymentId)
      .orderBy('receipts.id')
      .execute();

  test('voiding restores every total exactly, cancels the receipt, leaves the donor wall, and needs a reason', async () => {
    const before = await campaign();
    const wallBefore = (await request(t.app).get('/api/donor-wall').expect(200)).body.gifts.length;
    const pledgeId = await payLaterPledge({ frequency: 'once', months: '', displayName: 'Void Family' }); // per-gift receipts
    const payment = await recordTypo(pledgeId, 'CHQ-VOID-1');
    expect((await receiptsOf(payment.id)).map((r) => r.status)).toEqual(['issued']);
    expect((await request(t.app).get('/').expect(200)).text).toContain('Void Family');

    const noReason = await staff.postForm(`/staff/payments/${payment.id}/void`, { reason: '  ' });
    expect(noReason.status).toBe(400);
    expect(noReason.text).toContain('id="reason-error"');

    await staff.postForm(`/staff/payments/${payment.id}/void`, { reason: 'Typed $5,000 for a $20 cheque' }).then((r) => expect(r.status).toBe(303));
    const after = await campaign();
    expect(after.raisedCents).toBe(before.raisedCents);
    expect(after.donorCount).toBe(before.donorCount);
    expect(after.pledgedOutstandingCents - before.pledgedOutstandingCents).toBe(2_000); // the $20 pledge is owed again
    expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
    expect((await receiptsOf(payment.id)).map((r) => r.status)).toEqual(['cancelled']);
    expect((await request(t.app).get('/api/donor-wall').expect(200)).body.gifts.length).toBe(wallBefore);
    expect((await request(t.app).get('/').expect(200)).text).not.toContain('Void Family');
    const audit = await t.db.selectFrom('audit_log').select(['action', 'details']).where('subject', '=', `payment:${payment.id}`).orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['payment.recorded', 'payment.voided']);
    expect(audit[1]!.details).toMatchObject({ reason: 'Typed $5,000 for a $20 cheque', amountCents: 500_000 });

    // The pledge page shows the history; a voided payment cannot be voided again.
    const page = await staff.agent.get(`/staff/pledges/${pledgeId}`).expect(200);
    expect(page.text).toContain('Typed $5,000 for a $20 cheque');
    expect(page.text).toMatch(/voided/i);
    await staff.postForm(`/staff/payments/${payment.id}/void`, { reason: 'again' }).then((r) => expect(r.status).toBe(409));
    // Said in the reader's language, with the payment's number (issue 18).
    const french = await staff.postForm(`/staff/payments/${payment.id}/void?lang=fr`, { reason: 'encore' });
    expect(french.status).toBe(409);
    expect(french.text).toContain(`Le paiement ${payment.id} a déjà été annulé.`);
    await staff.agent.get('/?lang=en');
    // The same cheque number can be recorded again, correctly, once the typo is voided.
    await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '20', reference: 'CHQ-VOID-1' })).then((r) => expect(r.status).toBe(303));
    expect((await campaign()).raisedCents - before.raisedCents).toBe(2_000);
  });

  test('correcting the amount and date posts a reversal and a new gift, and the receipt is cancelled and replaced', async () => {
    const before = await campaign();
    const pledgeId = await payLaterPledge({ frequency: 'once', months: '' });
    const payment = await recordTypo(pledgeId, 'CHQ-FIX-1');
    const [original] = await receiptsOf(payment.id);

    const form = await staff.agent.get(`/staff/payments/${payment.id}`).expect(200);
    expect(form.text).toContain('CHQ-FIX-1');
    const bad = await staff.postForm(`/staff/payments/${payment.id}/correct`, { amount: '20', receivedOn: '2026-11-19', reason: '' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/id="correct-amount"[^>]*value="20"/);

    await staff.postForm(`/staff/payments/${payment.id}/correct`, { amount: '20', receivedOn: '2026-11-19', reason: 'Cheque was $20, dated 19 November' }).then((r) => expect(r.status).toBe(303));
    const after = await campaign();
    expect(after.raisedCents - before.raisedCents).toBe(2_000);
    expect(after.pledgedOutstandingCents).toBe(before.pledgedOutstandingCents); // the $20 pledge is paid in full
    expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });

    const replacement = await t.db.selectFrom('payments').selectAll().where('corrects_payment_id', '=', payment.id).executeTakeFirstOrThrow();
    expect(replacement).toMatchObject({ amount_cents: 2_000, received_on: '2026-11-19', reference: 'CHQ-FIX-1', status: 'succeeded' });
    expect((await t.db.selectFrom('payments').select('status').where('id', '=', payment.id).executeTakeFirstOrThrow()).status).toBe('voided');
    const kinds = await t.db.selectFrom('ledger_transactions').select('kind').where('payment_id', 'in', [payment.id, replacement.id]).orderBy('id').execute();
    expect(kinds.map((k) => k.kind)).toEqual(['gift_received', 'payment_voided', 'gift_received']);

    expect((await receiptsOf(payment.id)).map((r) => r.status)).toEqual(['cancelled']);
    const [newReceipt] = await receiptsOf(replacement.id);
    expect(newReceipt).toMatchObject({ status: 'issued', amount_cents: 2_000, replaces_receipt_id: original!.id, tax_year: 2026 });
    // The instalment the typo paid is paid by the correction.
    const installments = await t.db.selectFrom('pledge_installments').select(['seq', 'status', 'payment_id']).where('pledge_id', '=', pledgeId).orderBy('seq').execute();
    expect(installments[0]).toMatchObject({ status: 'paid', payment_id: replacement.id });
    const page = await staff.agent.get(`/staff/pledges/${pledgeId}`).expect(200);
    expect(page.text).toContain('Cheque was $20, dated 19 November');
  });

  test('a correction writes one payment.corrected audit row: who, why, and the amount and date before and after', async () => {
    const pledgeId = await payLaterPledge({ frequency: 'once', months: '' });
    const payment = await recordTypo(pledgeId, 'CHQ-AUDIT-1'); // $5,000 received 2026-11-20, confirmed
    await staff.postForm(`/staff/payments/${payment.id}/correct`, { amount: '19.50', receivedOn: '2026-11-18', reason: 'Cheque reads $19.50, dated 18 November' }).then((r) => expect(r.status).toBe(303));
    const replacement = await t.db.selectFrom('payments').select('id').where('corrects_payment_id', '=', payment.id).executeTakeFirstOrThrow();

    const audit = await t.db.selectFrom('audit_log').select(['action', 'actor_user_id', 'actor_label', 'details']).where('subject', '=', `payment:${payment.id}`).orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['payment.recorded', 'payment.corrected']);
    expect(audit[1]).toEqual({
      action: 'payment.corrected',
      actor_user_id: staff.user.id,
      actor_label: staff.user.email,
      details: {
        reason: 'Cheque reads $19.50, dated 18 November',
        from: { amountCents: 500_000, receivedOn: '2026-11-20' },
        to: { amountCents: 1_950, receivedOn: '2026-11-18' },
        replacementPaymentId: replacement.id,
      },
    });
    // The replacement's own trail names the payment it corrects, by the same staff member.
    const recorded = await t.db.selectFrom('audit_log').select(['action', 'actor_user_id', 'details']).where('subject', '=', `payment:${replacement.id}`).orderBy('id').execute();
    expect(recorded).toEqual([{ action: 'payment.recorded', actor_user_id: staff.user.id, details: { pledgeId, amountCents: 1_950, correctsPaymentId: payment.id } }]);
    // A refused correction (no reason) writes nothing.
    const before = await t.db.selectFrom('audit_log').select('id').where('action', '=', 'payment.corrected').execute();
    await staff.postForm(`/staff/payments/${replacement.id}/correct`, { amount: '21', receivedOn: '2026-11-18', reason: ' ' }).then((r) => expect(r.status).toBe(400));
    expect(await t.db.selectFrom('audit_log').select('id').where('action', '=', 'payment.corrected').execute()).toEqual(before);
  });

  /** The gift page's history table, as the text of each row's cells. */
  function historyRows(html: string): string[][] {
    const table = html.split('<h2>History</h2>')[1]?.split('</table>')[0] ?? '';
    const body = table.split('<tbody>')[1] ?? '';
    return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim()));
  }

  test('the gift page shows the whole correction history from either end: recorded, corrected (before → after, reason), the correction recorded, then voided', async () => {
    const pledgeId = await payLaterPledge({ frequency: 'once', months: '' });
    const original = await recordTypo(pledgeId, 'CHQ-HIST-1'); // $5,000 received 2026-11-20
    const corrected = await staff.postForm(`/staff/payments/${original.id}/correct`, { amount: '20', receivedOn: '2026-11-19', reason: 'Cheque was $20, dated 19 November' });
    expect(corrected.status).toBe(303);
    const replacementId = Number(/^\/staff\/payments\/(\d+)\?notice=corrected$/.exec(corrected.headers.location!)![1]);
    await staff.postForm(`/staff/payments/${replacementId}/void`, { reason: 'Cheque returned by the bank' }).then((r) => expect(r.status).toBe(303));

    // Each row's date is the charity's date (Toronto) of when it was done.
    const done = await t.db.selectFrom('audit_log').select('at').where('subject', 'in', [`payment:${original.id}`, `payment:${replacementId}`]).orderBy('id').execute();
    expect(done).toHaveLength(4);
    const on = (at: Date) => at.toLocaleDateString('en-US', { timeZone: 'America/Toronto', month: 'long', day: 'numeric', year: 'numeric' });
    const by = staff.user.email;
    const expected = [
      [on(done[0]!.at), String(original.id), 'Recorded $5,000.00', by],
      [on(done[1]!.at), String(original.id), 'Corrected: $5,000.00 (November 20, 2026) → $20.00 (November 19, 2026) — Cheque was $20, dated 19 November', by],
      [on(done[2]!.at), String(replacementId), 'Recorded $20.00', by],
      [on(done[3]!.at), String(replacementId), 'Voided $20.00 — Cheque returned by the bank', by],
    ];
    for (const id of [original.id, replacementId]) {
      const page = await staff.agent.get(`/staff/payments/${id}`).expect(200);
      expect(historyRows(page.text)).toEqual(expected);
    }
  });

  test('in a French staff session, a large payment and a large correction are confirmed with the amount in French words', async () => {
    const francophone = await signInAs(t, 'staff');
    expect((await francophone.agent.get('/staff?lang=fr').expect(200)).text).toContain('<html lang="fr">'); // the language switch, remembered in a cookie
    const pledgeId = await payLaterPledge({ frequency: 'once', months: '', customAmount: '20000' });
    const nbsp = '\u00a0';
    // 12 345,67 $ typed as a French speaker writes it: a space between the thousands, a comma before the cents.
    const asked = await francophone.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '12 345,67', reference: 'CHQ-FR-1' }));
    expect(asked.status).toBe(400);
    // Written from French number rules (traditional spelling, as on Canadian cheques), not from to-words' output:
    // « mille » never varies and takes no « un »; « cent » takes no s when another number follows it; tens and units
    // below a hundred are joined by a hyphen (quarante-cinq, soixante-sept); « et » joins the dollars and the cents.
    const words = 'douze mille trois cent quarante-cinq dollars et soixante-sept cents';
    expect(asked.text).toContain(`Vous avez saisi 12${nbsp}345,67${nbsp}$ (${words}), plus de 10${nbsp}000,00${nbsp}$.`);
    expect(asked.text).toMatch(/name="confirmAmountCents" value="1234567"/);
    expect(asked.text).toContain(`Oui, enregistrer 12${nbsp}345,67${nbsp}$.`);
    await francophone.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '12 345,67', reference: 'CHQ-FR-1', confirmAmountCents: '1234567' })).then((r) => expect(r.status).toBe(303));
    const payment = await t.db.selectFrom('payments').select(['id', 'amount_cents']).where('reference', '=', 'CHQ-FR-1').executeTakeFirstOrThrow();
    expect(payment.amount_cents).toBe(1_234_567);

    // On the gift page, a correction to another large amount asks again. « Quatre-vingts » keeps its s when nothing follows
    // it in the number (280, 80 cents); « deux cent » loses it before « quatre-vingts ».
    const fix = await francophone.postForm(`/staff/payments/${payment.id}/correct`, { amount: '11 280,80', receivedOn: '2026-11-20', reason: 'Montant mal lu' });
    expect(fix.status).toBe(400);
    expect(fix.text).toContain(`Vous avez saisi 11${nbsp}280,80${nbsp}$ (onze mille deux cent quatre-vingts dollars et quatre-vingts cents), plus de 10${nbsp}000,00${nbsp}$.`);
    expect(fix.text).toMatch(/name="confirmAmountCents" value="1128080"/);
    expect((await t.db.selectFrom('payments').select('status').where('id', '=', payment.id).executeTakeFirstOrThrow()).status).toBe('succeeded');
  });
});

describe('pledges that end release what they promised', () => {
  test('a donor cancelling a pay-later monthly pledge lowers pledgedOutstandingCents by exactly what was unpaid', async () => {
    const pledgeId = await payLaterPledge();
    await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '20', reference: 'CHQ-END-1' })).then((r) => expect(r.status).toBe(303));
    const before = await totals(t.db);
    // The donor's link to stop the gift, as the pledge's e-mails carry it.
    const url = new URL(await t.db.transaction().execute((trx) => monthlyCancelUrl(trx, t.config.publicUrl, pledgeId)));
    const token = url.searchParams.get('t')!;
    const visitor = request.agent(t.app);
    const page = await visitor.get(`/give/monthly/${pledgeId}/cancel?t=${token}`).expect(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    await visitor.post(`/give/monthly/${pledgeId}/cancel`).type('form').send({ _csrf: csrf, t: token }).expect(303);
    const after = await totals(t.db);
    expect(before.pledgedOutstandingCents - after.pledgedOutstandingCents).toBe(11 * 2_000);
    expect(after.raisedCents).toBe(before.raisedCents);
    expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
  });

  test('staff close a pledge as lapsed with a reason: its remainder leaves the pledged total', async () => {
    const pledgeId = await payLaterPledge({ customAmount: '50', months: '4' });
    const before = await totals(t.db);
    const noReason = await staff.postForm(`/staff/pledges/${pledgeId}/end`, { status: 'lapsed', reason: '' });
    expect(noReason.status).toBe(400);
    await staff.postForm(`/staff/pledges/${pledgeId}/end`, { status: 'lapsed', reason: 'No cheque after three reminders' }).then((r) => expect(r.status).toBe(303));
    const after = await totals(t.db);
    expect(before.pledgedOutstandingCents - after.pledgedOutstandingCents).toBe(20_000);
    const pledge = await t.db.selectFrom('pledges').select('status').where('id', '=', pledgeId).executeTakeFirstOrThrow();
    expect(pledge.status).toBe('lapsed');
    const statuses = await t.db.selectFrom('pledge_installments').select('status').where('pledge_id', '=', pledgeId).execute();
    expect(statuses.every((s) => s.status === 'cancelled')).toBe(true);
  });
});

describe('a one-time pledge paid in part', () => {
  test('stays open, counting what it still owes, so staff record the rest (or end it); a correction down to part of it reopens it', async () => {
    const before = await campaign();
    const pledgeId = await payLaterPledge({ frequency: 'once', months: '', customAmount: '100' });
    await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '50', reference: 'CHQ-HALF-1' })).then((r) => expect(r.status).toBe(303));
    expect((await t.db.selectFrom('pledges').select('status').where('id', '=', pledgeId).executeTakeFirstOrThrow()).status).toBe('active');
    expect((await campaign()).pledgedOutstandingCents - before.pledgedOutstandingCents).toBe(5_000);
    const page = await staff.agent.get(`/staff/pledges/${pledgeId}`).expect(200);
    expect(page.text).toContain(`action="/staff/pledges/${pledgeId}/payments"`);

    await staff.postForm(`/staff/pledges/${pledgeId}/payments`, offline({ amount: '50', reference: 'CHQ-HALF-2' })).then((r) => expect(r.status).toBe(303));
    expect((await t.db.selectFrom('pledges').select('status').where('id', '=', pledgeId).executeTakeFirstOrThrow()).status).toBe('fulfilled');
    expect((await campaign()).pledgedOutstandingCents).toBe(before.pledgedOutstandingCents);

    // An extra zero on a second pledge, corrected to half of it: open again for the rest.
    const other = await payLaterPledge({ frequency: 'once', months: '', customAmount: '100' });
    await staff.postForm(`/staff/pledges/${other}/payments`, offline({ amount: '500', reference: 'CHQ-HALF-3', confirmAmountCents: '50000' })).then((r) => expect(r.status).toBe(303));
    const typo = await t.db.selectFrom('payments').select('id').where('reference', '=', 'CHQ-HALF-3').executeTakeFirstOrThrow();
    await staff.postForm(`/staff/payments/${typo.id}/correct`, { amount: '50', receivedOn: '2026-11-20', reason: 'Extra zero; the cheque is $50' }).then((r) => expect(r.status).toBe(303));
    expect((await t.db.selectFrom('pledges').select('status').where('id', '=', other).executeTakeFirstOrThrow()).status).toBe('active');
    expect((await campaign()).pledgedOutstandingCents - before.pledgedOutstandingCents).toBe(5_000);
    await staff.postForm(`/staff/pledges/${other}/end`, { status: 'lapsed', reason: 'The donor sent half' }).then((r) => expect(r.status).toBe(303));
    expect((await campaign()).pledgedOutstandingCents).toBe(before.pledgedOutstandingCents);
    expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
  });
});
