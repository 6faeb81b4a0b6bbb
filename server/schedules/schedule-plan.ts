import { addMonths } from '../calendar/dates';

/**
 * The arithmetic of a family's support schedule, as pure functions: which instalments, to
 * whom, when and how much. The database layer (support-schedules.ts) stores what these return.
 *
 * Rules (shared/DOMAIN.md "What a family's first year costs"):
 * - start-up costs are paid once, in the first month (on the arrival date);
 * - income support is paid monthly for 12 months, extendable to at most 36 in total;
 * - each member aged 18 or over is a separate payee, paid into their own account;
 * - the amounts come from the cost-table edition in force (or community rates staff enter).
 */
export const BASE_MONTHS = 12;
export const MAX_MONTHS = 36;

export type Payee = { key: string; label: string };

export type PlannedInstallment = {
  payeeKey: string;
  kind: 'startup' | 'monthly';
  /** 0 for start-up, 1.. for the months of income support. */
  monthIndex: number;
  dueOn: string;
  amountCents: number;
};

export type PlanInput = {
  arrivalOn: string;
  /** Income support for twelve months (the cost table's figure), split evenly by month. */
  annualIncomeSupportCents: number;
  startupCents: number;
  payees: Payee[];
  months?: number;
};

/**
 * Splits `total` into `parts` whole-cent shares that add up to it exactly: the first
 * `total mod parts` shares carry the extra cent.
 */
export function splitEvenly(total: number, parts: number): number[] {
  if (!Number.isSafeInteger(total) || total < 0) throw new RangeError(`cannot split ${total} cents`);
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`cannot split into ${parts} parts`);
  const base = Math.floor(total / parts);
  const extra = total % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

/** The monthly income support of month `monthIndex` (1-based) of a 12-month cost-table year. */
export function monthlyAmount(annualCents: number, monthIndex: number): number {
  const position = (monthIndex - 1) % BASE_MONTHS;
  return splitEvenly(annualCents, BASE_MONTHS)[position]!;
}

/**
 * Start-up in month 1 to the first payee (the household's principal applicant), then a line
 * per payee per month. Months beyond 12 (extensions) repeat the year's monthly amounts.
 */
export function planSchedule(input: PlanInput): PlannedInstallment[] {
  const months = input.months ?? BASE_MONTHS;
  if (months < 1 || months > MAX_MONTHS) throw new RangeError(`a schedule runs 1 to ${MAX_MONTHS} months, not ${months}`);
  if (input.payees.length === 0) throw new RangeError('a schedule needs at least one payee (an adult member)');
  const lines: PlannedInstallment[] = [];
  if (input.startupCents > 0) {
    lines.push({ payeeKey: input.payees[0]!.key, kind: 'startup', monthIndex: 0, dueOn: input.arrivalOn, amountCents: input.startupCents });
  }
  lines.push(...monthlyLines(input, 1, months));
  return lines;
}

/** Monthly lines for months `from`..`to` inclusive (used to plan and to extend). */
export function monthlyLines(input: PlanInput, from: number, to: number): PlannedInstallment[] {
  const lines: PlannedInstallment[] = [];
  for (let month = from; month <= to; month++) {
    const shares = splitEvenly(monthlyAmount(input.annualIncomeSupportCents, month), input.payees.length);
    input.payees.forEach((payee, i) => {
      lines.push({ payeeKey: payee.key, kind: 'monthly', monthIndex: month, dueOn: addMonths(input.arrivalOn, month - 1), amountCents: shares[i]! });
    });
  }
  return lines;
}

/**
 * Earned income (shared/DOMAIN.md): support is not reduced until the family's net monthly
 * employment income exceeds 50% of its monthly support, then by one dollar for each dollar
 * above that, reaching zero at 150%. The Canada Child Benefit is never counted: callers
 * pass employment income only. Returns the reduced monthly support.
 */
export function supportAfterEarnings(monthlySupportCents: number, netEmploymentIncomeCents: number): number {
  if (monthlySupportCents < 0 || netEmploymentIncomeCents < 0) throw new RangeError('amounts cannot be negative');
  // reduction = income − support/2, in whole cents without halves: floor((2·income − support) / 2)
  const reduction = Math.floor(Math.max(0, 2 * netEmploymentIncomeCents - monthlySupportCents) / 2);
  return Math.max(0, monthlySupportCents - reduction);
}

/**
 * Scales each payee's share of one month to a new monthly total, keeping the proportions
 * and adding up exactly (largest remainders get the leftover cents).
 */
export function rescaleShares(shares: number[], newTotal: number): number[] {
  const oldTotal = shares.reduce((a, b) => a + b, 0);
  if (oldTotal === 0) return splitEvenly(newTotal, shares.length);
  // Integer arithmetic only: quotient and remainder of share × newTotal / oldTotal.
  const parts = shares.map((s, i) => {
    const numerator = s * newTotal;
    const remainder = numerator % oldTotal;
    return { i, quotient: (numerator - remainder) / oldTotal, remainder };
  });
  const result = parts.map((p) => p.quotient);
  let left = newTotal - result.reduce((a, b) => a + b, 0);
  for (const { i } of [...parts].sort((a, b) => b.remainder - a.remainder || a.i - b.i)) {
    if (left <= 0) break;
    result[i]! += 1;
    left -= 1;
  }
  return result;
}

/**
 * The month of the schedule (1-based) from which a child born in `birth` (year and month: all
 * Haven keeps) is an adult and so their own payee: the first month whose due date falls in or
 * after the calendar month of their 18th birthday. 1 when they are already 18 at arrival; null
 * when they turn 18 after the schedule's last month.
 */
export function adultFromMonth(arrivalOn: string, birth: { year: number; month: number }, months: number): number | null {
  const turns18 = (birth.year + 18) * 12 + (birth.month - 1);
  for (let m = 1; m <= months; m++) {
    const [y, mo] = addMonths(arrivalOn, m - 1).split('-').map(Number) as [number, number];
    if (y * 12 + (mo - 1) >= turns18) return m;
  }
  return null;
}

/**
 * One month re-split among `payees` (existing payees first, the new one last): the month's total
 * is kept to the cent and shared evenly (splitEvenly), so a month tapered by earned income keeps
 * its taper.
 */
export function resplitMonth(currentShares: readonly number[], payees: number): number[] {
  return splitEvenly(currentShares.reduce((a, b) => a + b, 0), payees);
}
