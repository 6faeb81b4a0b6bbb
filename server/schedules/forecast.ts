import { addMonths } from '../calendar/dates';

/**
 * The funding forecast, month by month: what will be owed (scheduled instalments not yet
 * paid) against what will be there (funds available now plus pledge instalments due by then).
 * A month whose cumulative money falls below its cumulative obligations is short: the early
 * warning of a sponsorship breakdown.
 */
export const FORECAST_MONTHS = 36;
/** A forecast grows to show every scheduled obligation (an arrival a year ahead with 36 months of support ends 48 months out), up to this. */
export const MAX_FORECAST_MONTHS = 120;

export type Flow = { dueOn: string; amountCents: number };

export type ForecastInput = {
  /** Any date in the first month of the forecast (usually today). */
  from: string;
  months?: number;
  openingBalanceCents: number;
  /** Unpaid remainders of scheduled instalments; anything due before `from` counts in the first month. */
  owed: Flow[];
  /** Pledge instalments expected; anything due before `from` counts in the first month. */
  inflows: Flow[];
};

export type ForecastMonth = {
  month: string;
  owedCents: number;
  inflowCents: number;
  cumulativeOwedCents: number;
  cumulativeAvailableCents: number;
  /** cumulativeAvailable − cumulativeOwed */
  balanceCents: number;
  short: boolean;
};

function monthIndex(first: string, date: string): number {
  const [fy, fm] = [Number(first.slice(0, 4)), Number(first.slice(5, 7))];
  const [y, m] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];
  return Math.max(0, (y - fy) * 12 + (m - fm));
}

export function forecast(input: ForecastInput): ForecastMonth[] {
  const first = `${input.from.slice(0, 7)}-01`;
  // Never leave an obligation out (the forecast said "Covered" while a schedule starting years ahead was unseen):
  // the horizon reaches the last one, and anything past the longest horizon counts in its last month.
  const lastOwed = Math.max(-1, ...input.owed.map((f) => monthIndex(first, f.dueOn)));
  const months = Math.min(Math.max(input.months ?? FORECAST_MONTHS, lastOwed + 1), MAX_FORECAST_MONTHS);
  const owed = new Array<number>(months).fill(0);
  const inflow = new Array<number>(months).fill(0);
  for (const flow of input.owed) owed[Math.min(monthIndex(first, flow.dueOn), months - 1)]! += flow.amountCents;
  for (const flow of input.inflows) {
    const i = monthIndex(first, flow.dueOn);
    if (i < months) inflow[i]! += flow.amountCents;
  }
  let cumulativeOwed = 0;
  let cumulativeAvailable = input.openingBalanceCents;
  return owed.map((owedCents, i) => {
    cumulativeOwed += owedCents;
    cumulativeAvailable += inflow[i]!;
    const balanceCents = cumulativeAvailable - cumulativeOwed;
    return {
      month: addMonths(first, i).slice(0, 7),
      owedCents,
      inflowCents: inflow[i]!,
      cumulativeOwedCents: cumulativeOwed,
      cumulativeAvailableCents: cumulativeAvailable,
      balanceCents,
      short: balanceCents < 0,
    };
  });
}

/** Adds several forecasts month by month (the whole program is the sum of its groups). */
export function combineForecasts(forecasts: ForecastMonth[][]): ForecastMonth[] {
  const length = Math.max(0, ...forecasts.map((f) => f.length));
  const combined: ForecastMonth[] = [];
  for (let i = 0; i < length; i++) {
    const rows = forecasts.map((f) => f[i]).filter((r): r is ForecastMonth => r !== undefined);
    const sum = (pick: (r: ForecastMonth) => number) => rows.reduce((total, r) => total + pick(r), 0);
    const balanceCents = sum((r) => r.cumulativeAvailableCents) - sum((r) => r.cumulativeOwedCents);
    combined.push({
      month: rows[0]!.month,
      owedCents: sum((r) => r.owedCents),
      inflowCents: sum((r) => r.inflowCents),
      cumulativeOwedCents: sum((r) => r.cumulativeOwedCents),
      cumulativeAvailableCents: sum((r) => r.cumulativeAvailableCents),
      balanceCents,
      // The program is short when any group is: one group's surplus does not pay another's family.
      short: rows.some((r) => r.short),
    });
  }
  return combined;
}

export type ForecastChart = {
  width: number;
  height: number;
  plotTop: number;
  plotBottom: number;
  bars: { x: number; y: number; width: number; height: number; short: boolean; month: string }[];
  availableLine: string;
  ticks: { y: number; valueCents: number }[];
  labels: { x: number; month: string }[];
};

/**
 * Geometry for the server-drawn SVG chart: a bar per month for cumulative obligations and a
 * line for cumulative money available; short months are marked. No client-side charting.
 */
export function chartGeometry(rows: ForecastMonth[], size = { width: 720, height: 260 }): ForecastChart {
  const left = 70;
  const right = 10;
  const plotTop = 10;
  const plotBottom = size.height - 30;
  const maxValue = Math.max(1, ...rows.map((r) => Math.max(r.cumulativeOwedCents, r.cumulativeAvailableCents)));
  const minValue = Math.min(0, ...rows.map((r) => r.cumulativeAvailableCents));
  const span = maxValue - minValue;
  const y = (value: number) => Math.round(plotBottom - ((value - minValue) / span) * (plotBottom - plotTop));
  const step = rows.length > 0 ? (size.width - left - right) / rows.length : 0;
  const barWidth = Math.max(1, Math.floor(step * 0.7));
  const zero = y(0);
  return {
    width: size.width,
    height: size.height,
    plotTop,
    plotBottom,
    bars: rows.map((r, i) => {
      const top = y(r.cumulativeOwedCents);
      return { x: Math.round(left + i * step), y: Math.min(top, zero), width: barWidth, height: Math.abs(zero - top), short: r.short, month: r.month };
    }),
    availableLine: rows.map((r, i) => `${Math.round(left + i * step + barWidth / 2)},${y(r.cumulativeAvailableCents)}`).join(' '),
    ticks: [0, 0.25, 0.5, 0.75, 1].map((f) => {
      const valueCents = Math.round(minValue + f * span);
      return { y: y(valueCents), valueCents };
    }),
    labels: rows
      .map((r, i) => ({ x: Math.round(left + i * step), month: r.month }))
      .filter((_, i) => i % 6 === 0),
  };
}
