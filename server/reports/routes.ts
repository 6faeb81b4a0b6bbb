import { type Response, Router } from 'express';
import { accountLabel, fundLabel, groupIdsIn, groupNamesIn, kindLabel } from './names';
import { descriptionLabel, groupIdsInDescriptions } from './descriptions';
import { groupNamesOf } from '../groups/public-pages';
import type { TFunction } from 'i18next';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { DomainError } from '../domain-error';
import { optionalIdParam } from '../http/forms';
import { allow } from '../http/policy';
import { addDays } from '../calendar/dates';
import { charityCalendar } from '../calendar/charity-calendar';
import { reconciliation } from './reconciliation';
import { centsToDecimal, type CsvColumn, toCsv, writeCsv } from './csv-export';
import {
  disbursementReport,
  type DisbursementRow,
  fundReport,
  type FundRow,
  giftReport,
  type GiftRow,
  type JournalLine,
  journalLines,
  listJournal,
} from './reports';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional().or(z.literal('').transform(() => undefined));
const PeriodQuery = z.object({ from: Day, to: Day });
const GiftQuery = PeriodQuery.extend({ by: z.enum(['period', 'method', 'group']).default('period') });
const JournalQuery = z.object({ before: optionalIdParam });

function parseQuery<T>(schema: z.ZodType<T>, value: unknown, res: Response): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DomainError('invalid', (res.locals.t as TFunction)('common:errors.badRequest'));
  return parsed.data;
}

function sendCsv(res: Response, name: string, body: string): void {
  res.set('Cache-Control', 'private, no-store');
  res.type('text/csv; charset=utf-8').attachment(`${name}.csv`).send(body);
}

const giftColumns: CsvColumn<GiftRow>[] = [
  { header: 'key', value: (r) => r.key },
  { header: 'gifts', value: (r) => r.gifts },
  { header: 'received', value: (r) => centsToDecimal(r.receivedCents) },
  { header: 'refunded_or_disputed', value: (r) => centsToDecimal(r.reversedCents) },
  { header: 'net', value: (r) => centsToDecimal(r.netCents) },
];

const fundColumns: CsvColumn<FundRow>[] = [
  { header: 'fund', value: (r) => r.key },
  { header: 'raised', value: (r) => centsToDecimal(r.raisedCents) },
  { header: 'fees', value: (r) => centsToDecimal(r.feesCents) },
  { header: 'support_paid', value: (r) => centsToDecimal(r.supportCents) },
  { header: 'other_expenses', value: (r) => centsToDecimal(r.otherExpensesCents) },
  { header: 'available', value: (r) => centsToDecimal(r.availableCents) },
];

const disbursementColumns: CsvColumn<DisbursementRow>[] = [
  { header: 'fund', value: (r) => r.fundKey },
  { header: 'case_code', value: (r) => r.caseCode ?? 'unassigned' },
  { header: 'disbursements', value: (r) => r.disbursements },
  { header: 'total', value: (r) => centsToDecimal(r.totalCents) },
];

const journalColumns: CsvColumn<JournalLine>[] = [
  { header: 'transaction_id', value: (r) => r.transactionId },
  { header: 'posted_at', value: (r) => r.postedAt.toISOString() },
  { header: 'kind', value: (r) => r.kind },
  { header: 'description', value: (r) => r.description },
  { header: 'payment_id', value: (r) => r.paymentId },
  { header: 'account', value: (r) => r.account },
  { header: 'amount', value: (r) => centsToDecimal(r.amountCents) },
];

/** A CSV's columns with the fund's name (the group's name) after its key, for a reader who does not know group ids. */
function withName<R>(columns: CsvColumn<R>[], name: (row: R) => string): CsvColumn<R>[] {
  return [columns[0]!, { header: 'name', value: name }, ...columns.slice(1)];
}

function giftRowLabel(t: TFunction, by: 'period' | 'method' | 'group', key: string, names: Map<number, string>): string {
  if (by === 'method') return t(`reports:method.${key}`);
  if (by === 'group') return fundLabel(t, key, names);
  return key;
}

/** Staff reports: each a page and a CSV export with the same figures, all from the ledger. */
export function reportRoutes(deps: AppDeps): Router {
  const router = Router();

  // The treasurer's reconciliation (issue 15): per charity day, gifts by method against their postings and Stripe's payouts.
  router.get('/staff/reconciliation', allow.staff, async (req, res) => {
    const calendar = charityCalendar(deps.config.charityTimeZone, deps.clock);
    const query = parseQuery(PeriodQuery, req.query, res);
    const to = query.to ?? calendar.today();
    const from = query.from ?? addDays(to, -13);
    if (from > to || addDays(from, 92) < to) throw new DomainError('invalid', (res.locals.t as TFunction)('reports:reconciliation.badPeriod'));
    const days = await reconciliation(deps.db, { from, to, timeZone: calendar.timeZone });
    res.render('reports/reconciliation', { title: (res.locals.t as TFunction)('reports:reconciliation.title'), noindex: true, from, to, days, anyDifference: days.some((d) => d.differences.length > 0 || d.stripeShort || d.methods.some((m) => m.differenceCents !== 0)) });
  });
  const { db } = deps;
  const title = (res: Response, key: string) => (res.locals.t as TFunction)(key);

  router.get('/staff/reports', allow.staff, (_req, res) => {
    res.render('reports/index', { title: title(res, 'reports:index.title'), noindex: true });
  });

  router.get('/staff/reports/gifts', allow.staff, async (req, res) => {
    const q = parseQuery(GiftQuery, req.query, res);
    const report = await giftReport(db, q.by, { ...q, timeZone: deps.config.charityTimeZone });
    const t = res.locals.t as TFunction;
    const names = q.by === 'group' ? await groupNamesIn(db, report.rows.map((r) => r.key)) : new Map<number, string>();
    const rows = report.rows.map((r) => ({ ...r, label: giftRowLabel(t, q.by, r.key, names) }));
    const csvQuery = new URLSearchParams({ by: q.by, ...(q.from ? { from: q.from } : {}), ...(q.to ? { to: q.to } : {}) });
    res.render('reports/gifts', { title: title(res, 'reports:gifts.title'), rows, total: report.total, by: q.by, query: q, csvHref: `/staff/reports/gifts.csv?${csvQuery.toString()}`, noindex: true });
  });
  router.get('/staff/reports/gifts.csv', allow.staff, async (req, res) => {
    const q = parseQuery(GiftQuery, req.query, res);
    const report = await giftReport(db, q.by, { ...q, timeZone: deps.config.charityTimeZone });
    const t = res.locals.t as TFunction;
    const names = q.by === 'group' ? await groupNamesIn(db, report.rows.map((r) => r.key)) : new Map<number, string>();
    // A group or a method is named (in the staff member's language, as the page is) beside its code, which stays for formulas and imports.
    const columns = q.by === 'period' ? giftColumns : withName(giftColumns, (r) => (r.key === 'total' ? '' : giftRowLabel(t, q.by, r.key, names)));
    sendCsv(res, `gifts-by-${q.by}`, toCsv(columns, [...report.rows, report.total]));
  });

  router.get('/staff/reports/funds', allow.staff, async (_req, res) => {
    const t = res.locals.t as TFunction;
    const report = await fundReport(db);
    const names = await groupNamesIn(db, report.rows.map((r) => r.key));
    const rows = report.rows.map((r) => ({ ...r, label: fundLabel(t, r.key, names) }));
    res.render('reports/funds', { title: title(res, 'reports:funds.title'), rows, total: report.total, noindex: true });
  });
  router.get('/staff/reports/funds.csv', allow.staff, async (_req, res) => {
    const report = await fundReport(db);
    const names = await groupNamesIn(db, report.rows.map((r) => r.key));
    const columns = withName(fundColumns, (r) => (r.key === 'total' ? '' : fundLabel(res.locals.t as TFunction, r.key, names)));
    sendCsv(res, 'funds-by-group', toCsv(columns, [...report.rows, report.total]));
  });

  router.get('/staff/reports/disbursements', allow.staff, async (req, res) => {
    const q = parseQuery(PeriodQuery, req.query, res);
    const t = res.locals.t as TFunction;
    const report = await disbursementReport(db, { ...q, timeZone: deps.config.charityTimeZone });
    const names = await groupNamesIn(db, report.rows.map((r) => r.fundKey));
    const rows = report.rows.map((r) => ({ ...r, label: fundLabel(t, r.fundKey, names) }));
    res.render('reports/disbursements', { title: title(res, 'reports:disbursements.title'), rows, totalCents: report.totalCents, query: q, noindex: true });
  });
  router.get('/staff/reports/disbursements.csv', allow.staff, async (req, res) => {
    const q = parseQuery(PeriodQuery, req.query, res);
    const report = await disbursementReport(db, { ...q, timeZone: deps.config.charityTimeZone });
    const total: DisbursementRow = { fundKey: 'total', groupId: null, caseCode: '', disbursements: report.rows.reduce((s, r) => s + r.disbursements, 0), totalCents: report.totalCents };
    const names = await groupNamesIn(db, report.rows.map((r) => r.fundKey));
    const columns = withName(disbursementColumns, (r) => (r.fundKey === 'total' ? '' : fundLabel(res.locals.t as TFunction, r.fundKey, names)));
    sendCsv(res, 'disbursements-by-case', toCsv(columns, [...report.rows, total]));
  });

  router.get('/staff/reports/journal', allow.staff, async (req, res) => {
    const q = parseQuery(JournalQuery, req.query, res);
    const page = await listJournal(db, { before: q.before });
    const t = res.locals.t as TFunction;
    const names = await groupNamesOf(db, [...groupIdsIn(page.rows.flatMap((r) => r.entries.map((e) => e.account))), ...groupIdsInDescriptions(page.rows)]);
    const rows = page.rows.map((r) => ({ ...r, kindLabel: kindLabel(t, r.kind), description: descriptionLabel(t, r.kind, r.description, names), entries: r.entries.map((e) => ({ ...e, accountLabel: accountLabel(t, e.account, names) })) }));
    res.render('reports/journal', { title: title(res, 'reports:journal.title'), page: { ...page, rows }, noindex: true });
  });
  router.get('/staff/reports/journal.csv', allow.staff, async (req, res) => {
    const q = parseQuery(PeriodQuery, req.query, res);
    // Streamed: a journal can hold millions of entries. A failure part-way cuts the download short
    // (the status is already sent), which a spreadsheet shows as an incomplete file, never as a whole one.
    res.set('Cache-Control', 'private, no-store');
    res.type('text/csv; charset=utf-8').attachment('journal.csv');
    await writeCsv(res, journalColumns, journalLines(db, { ...q, timeZone: deps.config.charityTimeZone }));
    res.end();
  });

  return router;
}
