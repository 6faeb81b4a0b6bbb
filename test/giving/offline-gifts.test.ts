import request from 'supertest';
import { listDonorWall } from '../../server/giving/donor-wall';
import { deliverDueEmails } from '../../server/notifications/dispatcher';
import { recordOfflinePayment } from '../../server/giving/offline-payments';
import { listOverdueInstallments, listPayments, listPledges, remindOverdueInstallments, requirePledgeDetail } from '../../server/giving/staff';
import { createLogger } from '../../server/logger';
import { type RenderedEmail, renderEmail } from '../../server/notifications/emails';
import type { EmailMessage } from '../../server/notifications/outbox';
import { createTestApp, type TestApp, testConfig } from '../support/app';
import { makeApprovedGroup } from '../groups/factories';
import { giveForm, ledgerImbalance, postGive, totals } from '../support/giving';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ PLEDGE_RATE_LIMIT_PER_IP: '1000' });
});
afterAll(() => t.destroy());

const staff = { userId: 7, label: 'staff@hanvoice.ca' };

async function pledgeLater(overrides: Record<string, string>) {
  const res = await postGive(t.app, giveForm(overrides), 303);
  return Number(/^\/give\/pledged\/(\d+)\?t=/.exec(res.headers.location!)![1]);
}

test('an offline pledge in monthly instalments: instructions e-mailed, a cheque recorded, a duplicate cheque rejected', async () => {
  const before = await totals(t.db);
  const pledgeId = await pledgeLater({ method: 'cheque', frequency: 'monthly', months: '3', amount: '100', email: 'cheque@example.org' });
  expect((await totals(t.db)).pledgedOutstandingCents - before.pledgedOutstandingCents).toBe(30_000);

  const detail = await requirePledgeDetail(t.db, pledgeId);
  expect(detail.installments.map((i) => [i.seq, i.amount_cents, i.status])).toEqual([[1, 10_000, 'due'], [2, 10_000, 'due'], [3, 10_000, 'due']]);
  const mail = await t.db.selectFrom('outbox').select('payload').orderBy('id', 'desc').executeTakeFirstOrThrow();
  expect(mail.payload).toMatchObject({ to: 'cheque@example.org', template: 'giving/pledge-instructions', data: { reference: `HAVEN-${pledgeId}`, cheque: true, months: 3 } });
  const sent: RenderedEmail[] = [];
  await deliverDueEmails(t.db, { send: async (m) => void sent.push(m) }, createLogger(testConfig({ LOG_LEVEL: 'silent' })));
  expect(sent).toHaveLength(1);
  expect(sent[0]!.subject).toBe('How to complete your pledge to HanVoice');
  expect(sent[0]!.text).toContain(`write the reference HAVEN-${pledgeId} on it`);
  expect(sent[0]!.text).toContain('$100.00 a month for 3 months');

  await t.db.transaction().execute((trx) => recordOfflinePayment(trx, { pledgeId, amountCents: 10_000, method: 'cheque', reference: 'CHQ-1001', receivedOn: '2026-11-20', actor: staff }));
  const after = await totals(t.db);
  expect(after.raisedCents - before.raisedCents).toBe(10_000);
  expect(after.pledgedOutstandingCents - before.pledgedOutstandingCents).toBe(20_000);
  expect((await requirePledgeDetail(t.db, pledgeId)).installments.map((i) => i.status)).toEqual(['paid', 'due', 'due']);

  // The same cheque number again (any case) is refused with a clear message and changes nothing.
  await expect(
    t.db.transaction().execute((trx) => recordOfflinePayment(trx, { pledgeId, amountCents: 10_000, method: 'cheque', reference: 'chq-1001', receivedOn: '2026-11-21', actor: staff })),
  ).rejects.toMatchObject({ kind: 'conflict', message: expect.stringContaining('Cheque chq-1001 was already recorded as payment') });
  expect((await totals(t.db)).raisedCents - before.raisedCents).toBe(10_000);
  // The same reference as an e-transfer is a different natural key.
  await t.db.transaction().execute((trx) => recordOfflinePayment(trx, { pledgeId, amountCents: 10_000, method: 'etransfer', reference: 'CHQ-1001', receivedOn: '2026-11-21', actor: staff }));

  const audit = await t.db.selectFrom('audit_log').select(['action', 'actor_label']).where('action', '=', 'payment.recorded').execute();
  expect(audit).toHaveLength(2);
  expect(audit[0]!.actor_label).toBe('staff@hanvoice.ca');
  expect(await ledgerImbalance(t.db)).toEqual({ total: 0, unbalanced: 0 });
});

test('overdue instalments are listed and reminded through the outbox, once a week at most', async () => {
  const pledgeId = await pledgeLater({ method: 'etransfer', frequency: 'monthly', months: '2', amount: '30', email: 'late@example.org' });
  const inAMonth = new Date(Date.now() + 40 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  const overdue = await listOverdueInstallments(t.db, inAMonth);
  expect(overdue.filter((o) => o.pledge_id === pledgeId).map((o) => o.seq)).toEqual([1, 2]);

  const payTo = { payee: t.config.charity.name, ...t.config.contact };
  const sent = await t.db.transaction().execute((trx) => remindOverdueInstallments(trx, { actor: staff, today: inAMonth, payTo }));
  expect(sent).toBeGreaterThanOrEqual(2);
  const reminders = (await t.db.selectFrom('outbox').select('payload').execute()).map((r) => r.payload as EmailMessage).filter((m) => m.template === 'giving/installment-reminder' && m.to === 'late@example.org');
  expect(reminders).toHaveLength(2);
  // The reminder says where the e-transfer goes (configuration), as the pledge's instructions did.
  expect(renderEmail(reminders[0]!).text).toContain(`Please send an Interac e-Transfer to ${t.config.contact.eTransferEmail} with the reference HAVEN-${pledgeId} in the message.`);
  expect(await t.db.transaction().execute((trx) => remindOverdueInstallments(trx, { actor: staff, today: inAMonth, payTo }))).toBe(0);
  expect(await t.db.selectFrom('audit_log').select('id').where('action', '=', 'installment.reminders_sent').execute()).toHaveLength(2);
});

test('staff lists search, filter and page by keyset', async () => {
  const pledges = await listPledges(t.db, { q: 'cheque@example', method: 'cheque' });
  expect(pledges.rows).toHaveLength(1);
  const payments = await listPayments(t.db, { method: 'cheque' });
  expect(payments.rows.map((p) => p.reference)).toEqual(['CHQ-1001']);
  const all = await listPayments(t.db, {});
  const older = await listPayments(t.db, { before: all.rows[0]!.id });
  expect(older.rows.every((r) => r.id < all.rows[0]!.id)).toBe(true);
});

test('the donor wall shows names and messages only with consent, anonymous gifts as anonymous, and filters by group', async () => {
  const gift = async (fields: Record<string, string>, reference: string) => {
    const pledgeId = await pledgeLater({ method: 'cheque', amount: '25', ...fields });
    await t.db.transaction().execute((trx) => recordOfflinePayment(trx, { pledgeId, amountCents: 2_500, method: 'cheque', reference, receivedOn: '2026-11-21', actor: staff }));
  };
  await gift({ name: 'Private Person', displayName: 'Pat', publicMessage: 'Secret note', wall: 'anonymous' }, 'W-1');
  await gift({ name: 'Quiet Person', displayName: 'Quinn', publicMessage: 'Unshown note' }, 'W-2');
  // Only an approved sponsor group can be named as a preference.
  const { id: groupId } = await makeApprovedGroup(t.db);
  await gift({ name: 'Open Person', displayName: 'The Parks', publicMessage: 'Welcome home', wallConsent: 'on', groupId: String(groupId) }, 'W-3');

  const home = await request(t.app).get('/').expect(200);
  expect(home.text).toContain('The Parks');
  expect(home.text).toContain('Welcome home');
  expect(home.text).toContain('Anonymous');
  for (const hidden of ['Private Person', 'Pat<', 'Quinn', 'Unshown note', 'Quiet Person', '@example.org']) expect(home.text).not.toContain(hidden);

  const group = await listDonorWall(t.db, { groupId });
  expect(group.map((g) => g.displayName)).toEqual(['The Parks']);
  const api = await request(t.app).get(`/api/donor-wall?groupId=${groupId}`).expect(200);
  expect(api.body.gifts).toEqual([expect.objectContaining({ displayName: 'The Parks', message: 'Welcome home', anonymous: false })]);
});
