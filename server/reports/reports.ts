import { type Kysely, sql } from 'kysely';
import { DEFAULT_CHARITY_TIME_ZONE } from '../calendar/charity-calendar';
import type { Database } from '../db/schema';
import { paymentDay } from '../giving/payments';
import { accounts } from '../ledger/accounts';
import { balancesOf } from '../ledger/ledger';

/**
 * Staff reports, every figure read from the ledger: gifts from the fund entries of transactions
 * tied to a payment, funds from the maintained balances, disbursements from support expenses.
 * So each report's totals equal the ledger's to the cent.
 */
type Handle = Kysely<Database>;

/** Dates are the charity's calendar days (CHARITY_TIME_ZONE); `to` is inclusive. */
export type Period = { from?: string; to?: string; timeZone?: string };

const zoneOf = (period: Period) => period.timeZone ?? DEFAULT_CHARITY_TIME_ZONE;

export type GiftGrouping = 'period' | 'method' | 'group';

export type GiftRow = {
  key: string;
  gifts: number;
  receivedCents: number;
  /** Refunds and lost disputes posted against gifts (a positive number). */
  reversedCents: number;
  netCents: number;
};

export type GiftReport = { by: GiftGrouping; rows: GiftRow[]; total: GiftRow };

/** 'fund:group:7' → 'group:7', 'fund:general' → 'general'. */
export function fundKeyOf(account: string): string {
  return account.replace(/^(fund|expense):/, '').replace(/:(fees|support)$/, '');
}

/**
 * Gifts by month received, by payment method, or by fund (general or a sponsor group's). A gift
 * counts in the month it was received; a refund or lost dispute in the month it was posted.
 */
export async function giftReport(db: Handle, by: GiftGrouping, period: Period = {}): Promise<GiftReport> {
  const zone = zoneOf(period);
  // A gift counts on the day it was received (the date typed for an offline gift); a reversal on the day it was posted.
  const localDay = sql`(case when t.kind = 'gift_received' then ${paymentDay(zone)} else (t.created_at at time zone ${sql.lit(zone)})::date end)`;
  const key = by === 'period' ? sql<string>`to_char(${localDay}, 'YYYY-MM')` : by === 'method' ? sql<string>`p.method` : sql<string>`e.account`;
  let query = db
    .selectFrom('ledger_transactions as t')
    .innerJoin('ledger_entries as e', 'e.transaction_id', 't.id')
    .innerJoin('payments as p', 'p.id', 't.payment_id')
    .where('e.account', 'like', 'fund:%')
    .select([
      key.as('key'),
      sql<number>`count(distinct t.id) filter (where t.kind = 'gift_received')::bigint`.as('gifts'),
      sql<number>`coalesce(-sum(e.amount_cents) filter (where t.kind = 'gift_received'), 0)::bigint`.as('receivedCents'),
      sql<number>`coalesce(sum(e.amount_cents) filter (where t.kind <> 'gift_received'), 0)::bigint`.as('reversedCents'),
      sql<number>`coalesce(-sum(e.amount_cents), 0)::bigint`.as('netCents'),
    ])
    .groupBy(key)
    .orderBy(key);
  if (period.from) query = query.where(localDay, '>=', sql`${period.from}::date`);
  if (period.to) query = query.where(localDay, '<=', sql`${period.to}::date`);
  const rows = (await query.execute()).map((r) => ({ ...r, key: by === 'group' ? fundKeyOf(r.key) : r.key }));
  const total = rows.reduce(
    (sum, r) => ({
      key: 'total',
      gifts: sum.gifts + r.gifts,
      receivedCents: sum.receivedCents + r.receivedCents,
      reversedCents: sum.reversedCents + r.reversedCents,
      netCents: sum.netCents + r.netCents,
    }),
    { key: 'total', gifts: 0, receivedCents: 0, reversedCents: 0, netCents: 0 },
  );
  return { by, rows, total };
}

export type FundRow = {
  /** 'general' or 'group:<id>' */
  key: string;
  groupId: number | null;
  raisedCents: number;
  feesCents: number;
  supportCents: number;
  otherExpensesCents: number;
  availableCents: number;
};

/**
 * Each fund (general, and each sponsor group's) from the maintained balances: raised (net of
 * refunds), processing fees, support paid to families, and what it can still spend.
 */
export async function fundReport(db: Handle): Promise<{ rows: FundRow[]; total: FundRow }> {
  const rows = await db
    .selectFrom('ledger_balances')
    .select(['account', sql<number>`sum(balance_cents)::bigint`.as('balance')])
    .where(sql<boolean>`account ~ '^(fund|expense):(general|group:[0-9]+)(:(fees|support))?$'`)
    .groupBy('account')
    .execute();
  const balance = new Map(rows.map((r) => [r.account, r.balance]));
  const keys = [...new Set(rows.map((r) => fundKeyOf(r.account)))].sort((a, b) => {
    if (a === 'general') return -1;
    if (b === 'general') return 1;
    return Number(a.split(':')[1]) - Number(b.split(':')[1]);
  });
  const funds = keys.map((key): FundRow => {
    const fund = balance.get(`fund:${key}`) ?? 0;
    const expenses = balance.get(`expense:${key}`) ?? 0;
    const fees = balance.get(`expense:${key}:fees`) ?? 0;
    const support = balance.get(`expense:${key}:support`) ?? 0;
    return {
      key,
      groupId: key === 'general' ? null : Number(key.split(':')[1]),
      raisedCents: -fund,
      feesCents: fees,
      supportCents: support,
      otherExpensesCents: expenses - fees - support,
      availableCents: -(fund + expenses),
    };
  });
  const prefixes = await balancesOf(db, [accounts.allFunds, 'expense']);
  const sum = (pick: (r: FundRow) => number) => funds.reduce((s, r) => s + pick(r), 0);
  const total: FundRow = {
    key: 'total',
    groupId: null,
    // The campaign-wide prefix balances, so a fund outside general/group:<id> would still count.
    raisedCents: -(prefixes.get(accounts.allFunds) ?? 0),
    feesCents: sum((r) => r.feesCents),
    supportCents: sum((r) => r.supportCents),
    otherExpensesCents: (prefixes.get('expense') ?? 0) - sum((r) => r.feesCents) - sum((r) => r.supportCents),
    availableCents: -((prefixes.get(accounts.allFunds) ?? 0) + (prefixes.get('expense') ?? 0)),
  };
  return { rows: funds, total };
}

export type DisbursementRow = { fundKey: string; groupId: number | null; caseCode: string | null; disbursements: number; totalCents: number };

/** Support paid out (expense:<fund>:support), by group and family case code. */
export async function disbursementReport(db: Handle, period: Period = {}): Promise<{ rows: DisbursementRow[]; totalCents: number }> {
  const localDay = sql`((t.created_at at time zone ${sql.lit(zoneOf(period))})::date)`;
  let query = db
    .selectFrom('ledger_entries as e')
    .innerJoin('ledger_transactions as t', 't.id', 'e.transaction_id')
    // Each disbursement's ledger transaction leads to its instalment, schedule and family case code (never identity).
    .leftJoin('disbursements as d', 'd.ledger_transaction_id', 't.id')
    .leftJoin('schedule_installments as i', 'i.id', 'd.installment_id')
    .leftJoin('support_schedules as s', 's.id', 'i.schedule_id')
    .leftJoin('families as f', 'f.id', 's.family_id')
    .select(['t.id as transactionId', 't.description', 'e.account', 'e.amount_cents as amountCents', 'f.case_code as caseCode'])
    .where(sql<boolean>`e.account ~ '^expense:(general|group:[0-9]+):support$'`)
    .orderBy('t.id');
  if (period.from) query = query.where(localDay, '>=', sql`${period.from}::date`);
  if (period.to) query = query.where(localDay, '<=', sql`${period.to}::date`);
  const entries = await query.execute();
  const rows = new Map<string, DisbursementRow>();
  for (const entry of entries) {
    const fundKey = fundKeyOf(entry.account);
    const caseCode = entry.caseCode;
    const id = `${fundKey}|${caseCode ?? ''}`;
    const row = rows.get(id) ?? { fundKey, groupId: fundKey === 'general' ? null : Number(fundKey.split(':')[1]), caseCode, disbursements: 0, totalCents: 0 };
    row.disbursements += 1;
    row.totalCents += entry.amountCents;
    rows.set(id, row);
  }
  const list = [...rows.values()];
  return { rows: list, totalCents: list.reduce((s, r) => s + r.totalCents, 0) };
}

export type JournalTransaction = {
  id: number;
  kind: string;
  description: string;
  paymentId: number | null;
  createdAt: Date;
  entries: { account: string; amountCents: number }[];
};

/** The journal, newest first, keyset-paged by transaction id. */
export async function listJournal(db: Handle, options: { before?: number; limit?: number } = {}) {
  const limit = Math.min(options.limit ?? 50, 200);
  let query = db
    .selectFrom('ledger_transactions')
    .select(['id', 'kind', 'description', 'payment_id as paymentId', 'created_at as createdAt'])
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (options.before) query = query.where('id', '<', options.before);
  const transactions = await query.execute();
  const page = transactions.slice(0, limit);
  const entries = page.length
    ? await db
        .selectFrom('ledger_entries')
        .select(['transaction_id', 'account', 'amount_cents'])
        .where('transaction_id', 'in', page.map((t) => t.id))
        .orderBy('id')
        .execute()
    : [];
  const rows: JournalTransaction[] = page.map((t) => ({
    ...t,
    entries: entries.filter((e) => e.transaction_id === t.id).map((e) => ({ account: e.account, amountCents: e.amount_cents })),
  }));
  return { rows, nextBefore: transactions.length > limit ? page[page.length - 1]!.id : undefined };
}

export type JournalLine = { transactionId: number; postedAt: Date; kind: string; description: string; paymentId: number | null; account: string; amountCents: number };

/**
 * Every entry in the period (posting date in Toronto), oldest first: the journal export. Read in
 * keyset pages of `pageSize` entries, so exporting millions of entries holds one page at a time.
 */
export async function* journalLines(db: Handle, period: Period = {}, pageSize = 5_000): AsyncGenerator<JournalLine[]> {
  const localDay = sql`((t.created_at at time zone ${sql.lit(zoneOf(period))})::date)`;
  let after: { transactionId: number; entryId: number } | undefined;
  for (;;) {
    let query = db
      .selectFrom('ledger_entries as e')
      .innerJoin('ledger_transactions as t', 't.id', 'e.transaction_id')
      .select(['e.id as entryId', 't.id as transactionId', 't.created_at as postedAt', 't.kind', 't.description', 't.payment_id as paymentId', 'e.account', 'e.amount_cents as amountCents'])
      .orderBy('t.id')
      .orderBy('e.id')
      .limit(pageSize);
    if (period.from) query = query.where(localDay, '>=', sql`${period.from}::date`);
    if (period.to) query = query.where(localDay, '<=', sql`${period.to}::date`);
    if (after) query = query.where(sql`(t.id, e.id)`, '>', sql`(${after.transactionId}::bigint, ${after.entryId}::bigint)`);
    const rows = await query.execute();
    if (rows.length === 0) return;
    yield rows.map(({ entryId: _entryId, ...line }) => line);
    const last = rows[rows.length - 1]!;
    after = { transactionId: last.transactionId, entryId: last.entryId };
    if (rows.length < pageSize) return;
  }
}
