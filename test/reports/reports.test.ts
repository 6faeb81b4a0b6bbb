import request from 'supertest';
import { accounts } from '../../server/ledger/accounts';
import { balanceOf, postTransaction } from '../../server/ledger/ledger';
import { centsToDecimal } from '../../server/reports/csv-export';
import { journalLines } from '../../server/reports/reports';
import { createTestApp, type TestApp } from '../support/app';
import { giveAndReceive, receiveAgain } from '../support/receipted-gifts';
import { recordRefundAsGivingWill } from '../support/refunds';
import { type SignedIn, signInAs } from '../support/session';
import { makeApprovedGroup } from '../groups/factories';

let t: TestApp;
let staff: SignedIn;

beforeAll(async () => {
  t = await createTestApp();
  staff = await signInAs(t, 'staff');
  // Card gifts with fees to the general fund, offline gifts to group 3, a monthly donor, a
  // partial refund, a lost dispute, a pay-later pledge not yet paid, and support paid to a family.
  const card = await giveAndReceive(t.db, { email: 'a@example.org', amountCents: 10_001, method: 'card', feeCents: 320, receivedAt: new Date('2026-01-10T15:00:00Z') });
  await giveAndReceive(t.db, { email: 'b@example.org', amountCents: 25_050, method: 'cheque', groupId: 3, receivedAt: new Date('2026-01-31T23:30:00-05:00') });
  const monthly = await giveAndReceive(t.db, { email: 'c@example.org', amountCents: 3_333, method: 'etransfer', frequency: 'monthly', groupId: 3, receivedAt: new Date('2026-02-01T12:00:00Z') });
  await receiveAgain(t.db, monthly.pledgeId, 3_333, new Date('2026-03-01T12:00:00Z'));
  const disputed = await giveAndReceive(t.db, { email: 'd@example.org', amountCents: 777, method: 'card', feeCents: 50, groupId: 5, receivedAt: new Date('2026-03-05T12:00:00Z') });
  await recordRefundAsGivingWill(t.db, t.config, card.paymentId, 2_000);
  await recordRefundAsGivingWill(t.db, t.config, disputed.paymentId, 777, { dispute: true });
  await t.db.transaction().execute((trx) =>
    postTransaction(trx, {
      kind: 'support_paid',
      description: 'Monthly support, group 3',
      entries: [
        { account: accounts.support({ groupId: 3 }), amountCents: 12_345 },
        { account: accounts.bank, amountCents: -12_345 },
      ],
    }),
  );
});
afterAll(() => t.destroy());

/** RFC 4180 cells: quoted cells may hold commas and doubled quotes (no line breaks in these exports). */
function splitCsvLine(line: string): string[] {
  return [...line.matchAll(/(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/g)].map((m) => (m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!));
}

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\r\n');
  const columns = splitCsvLine(header!);
  return lines.map((line) => Object.fromEntries(splitCsvLine(line).map((cell, i) => [columns[i]!, cell])));
}

/** "−123.45" → -12345 without floating point. */
function toCents(decimal: string): number {
  const match = /^(-?)(\d+)\.(\d{2})$/.exec(decimal);
  if (!match) throw new Error(`not a decimal amount: ${decimal}`);
  return (match[1] ? -1 : 1) * (Number(match[2]) * 100 + Number(match[3]));
}

async function csv(path: string) {
  const res = await staff.agent.get(path).expect(200).expect('Content-Type', /text\/csv/);
  return parseCsv(res.text);
}

test('cents become exact decimals', () => {
  expect([0, 5, -5, 100, 123_456, -100_001].map(centsToDecimal)).toEqual(['0.00', '0.05', '-0.05', '1.00', '1234.56', '-1000.01']);
});

test.each(['period', 'method', 'group'])('gifts by %s: the CSV totals equal the ledger', async (by) => {
  const rows = await csv(`/staff/reports/gifts.csv?by=${by}`);
  const total = rows.pop()!;
  expect(total.key).toBe('total');
  const raised = -(await balanceOf(t.db, accounts.allFunds));
  expect(toCents(total.net!)).toBe(raised);
  expect(rows.reduce((s, r) => s + toCents(r.net!), 0)).toBe(raised);
  expect(toCents(total.received!)).toBe(10_001 + 25_050 + 3_333 * 2 + 777);
  expect(toCents(total.refunded_or_disputed!)).toBe(2_000 + 777);
  expect(Number(total.gifts)).toBe(5);
});

test('gifts by period put each gift in its Toronto month; by group follows the fund credited', async () => {
  const byPeriod = await csv('/staff/reports/gifts.csv?by=period');
  expect(byPeriod.map((r) => [r.key, r.net])).toEqual([
    ['2026-01', '350.51'],
    ['2026-02', '33.33'],
    ['2026-03', '41.10'],
    [expect.stringMatching(/^\d{4}-\d{2}$/), '-27.77'],
    ['total', '397.17'],
  ]);
  const byGroup = await csv('/staff/reports/gifts.csv?by=group');
  expect(byGroup.map((r) => [r.key, r.net])).toEqual([
    ['general', '80.01'],
    ['group:3', '317.16'],
    ['group:5', '0.00'],
    ['total', '397.17'],
  ]);
  const filtered = await csv('/staff/reports/gifts.csv?by=method&from=2026-02-01&to=2026-02-28');
  expect(filtered.map((r) => [r.key, r.name, r.net])).toEqual([
    ['etransfer', 'E-transfer', '33.33'],
    ['total', '', '33.33'],
  ]);
});

test('funds by group equal the ledger balances', async () => {
  const rows = await csv('/staff/reports/funds.csv');
  const total = rows.pop()!;
  expect(toCents(total.raised!)).toBe(-(await balanceOf(t.db, accounts.allFunds)));
  expect(toCents(total.available!)).toBe(-((await balanceOf(t.db, accounts.allFunds)) + (await balanceOf(t.db, 'expense'))));
  const group3 = rows.find((r) => r.fund === 'group:3')!;
  expect(toCents(group3.raised!)).toBe(-(await balanceOf(t.db, 'fund:group:3')));
  expect(toCents(group3.support_paid!)).toBe(12_345);
  expect(toCents(group3.available!)).toBe(-((await balanceOf(t.db, 'fund:group:3')) + (await balanceOf(t.db, 'expense:group:3'))));
  const general = rows.find((r) => r.fund === 'general')!;
  expect(toCents(general.fees!)).toBe(320);
  expect(rows.reduce((s, r) => s + toCents(r.raised!), 0)).toBe(toCents(total.raised!));
});

test('disbursements by case code add up to the support expense accounts', async () => {
  const rows = await csv('/staff/reports/disbursements.csv');
  const total = rows.pop()!;
  expect(rows).toEqual([{ fund: 'group:3', name: 'Group 3', case_code: 'unassigned', disbursements: '1', total: '123.45' }]);
  expect(toCents(total.total!)).toBe(await balanceOf(t.db, accounts.support({ groupId: 3 })));
});

test('the journal export has every entry, sums to zero, and gives every account its balance', async () => {
  const rows = await csv('/staff/reports/journal.csv');
  const { n } = await t.db.selectFrom('ledger_entries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  expect(rows).toHaveLength(Number(n));
  expect(rows.reduce((s, r) => s + toCents(r.amount!), 0)).toBe(0);
  const perAccount = new Map<string, number>();
  for (const r of rows) perAccount.set(r.account!, (perAccount.get(r.account!) ?? 0) + toCents(r.amount!));
  for (const [account, cents] of perAccount) expect(cents).toBe(await balanceOf(t.db, account));
});

test('report pages render for staff only, in both languages', async () => {
  for (const path of ['/staff/reports', '/staff/reports/gifts?by=group', '/staff/reports/funds', '/staff/reports/disbursements', '/staff/reports/journal']) {
    await request(t.app).get(path).expect(303);
    const en = await staff.agent.get(path).expect(200);
    expect(en.text).not.toMatch(/\b(reports|common):[a-zA-Z]+\.[a-zA-Z.]+/);
    const fr = await staff.agent.get(`${path}${path.includes('?') ? '&' : '?'}lang=fr`).expect(200);
    expect(fr.text).toContain('<html lang="fr">');
  }
  const funds = await staff.agent.get('/staff/reports/funds?lang=en').expect(200);
  expect(funds.text).toContain('$397.17');
  const journal = await staff.agent.get('/staff/reports/journal').expect(200);
  expect(journal.text).toContain('support_paid');
});

test('the journal pages with a keyset cursor', async () => {
  const { listJournal } = await import('../../server/reports/reports');
  const first = await listJournal(t.db, { limit: 3 });
  expect(first.rows).toHaveLength(3);
  const second = await listJournal(t.db, { limit: 3, before: first.nextBefore });
  expect(second.rows[0]!.id).toBeLessThan(first.rows[2]!.id);
});

test('the journal is read in keyset pages that together are exactly the whole journal, in order', async () => {
  const collect = async (pageSize: number) => {
    const pages: number[] = [];
    const lines = [];
    for await (const page of journalLines(t.db, {}, pageSize)) {
      pages.push(page.length);
      lines.push(...page);
    }
    return { pages, lines };
  };
  const whole = await collect(100_000);
  const paged = await collect(3);
  expect(whole.pages).toHaveLength(1);
  expect(paged.pages.length).toBeGreaterThan(3);
  expect(paged.pages.every((n) => n <= 3)).toBe(true);
  expect(paged.lines).toEqual(whole.lines);
  // A period with nothing in it is an empty journal, and its export is the header row alone.
  expect((await journalLines(t.db, { from: '1999-01-01', to: '1999-01-02' }, 3).next()).done).toBe(true);
  const res = await staff.agent.get('/staff/reports/journal.csv?from=1999-01-01&to=1999-01-02').expect(200);
  expect(res.text).toBe('transaction_id,posted_at,kind,description,payment_id,account,amount\r\n');
});

test('reports, their CSVs and the journal name groups and accounts in words, in English and French', async () => {
  const group = await makeApprovedGroup(t.db, { name: 'Maple Street Neighbours' });
  await giveAndReceive(t.db, { email: 'named@example.org', amountCents: 4_200, method: 'cheque', groupId: group.id });
  const funds = await csv('/staff/reports/funds.csv');
  expect(funds.find((r) => r.fund === `group:${group.id}`)?.name).toBe('Maple Street Neighbours');
  expect(funds.find((r) => r.fund === 'general')?.name).toBe('General fund');
  const byGroup = await csv('/staff/reports/gifts.csv?by=group');
  expect(byGroup.find((r) => r.key === `group:${group.id}`)?.name).toBe('Maple Street Neighbours');
  const page = await staff.agent.get('/staff/reports/funds').expect(200);
  expect(page.text).toContain('Maple Street Neighbours');
  const journal = await staff.agent.get('/staff/reports/journal').expect(200);
  expect(journal.text).toContain('Fund: Maple Street Neighbours');
  expect(journal.text).toContain('Pledged, not yet received: Maple Street Neighbours');
  expect(journal.text).toContain('Gift received');
  expect(journal.text).not.toMatch(/>(fund|receivable|deferred):[a-z0-9:]+</);
  expect(journal.text).not.toContain('>gift_received<');
  const french = await signInAs(t, 'staff');
  const fr = await french.agent.get('/staff/reports/journal?lang=fr').expect(200);
  expect(fr.text).toContain('Fonds : Maple Street Neighbours');
  expect(fr.text).toContain('Don reçu');
});
