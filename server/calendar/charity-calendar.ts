/**
 * The charity's calendar: which day it is, and which day an instant falls on, in the charity's
 * own time zone (CHARITY_TIME_ZONE, America/Toronto by default). "Today", default dates on
 * forms, due dates, overdue, and the tax year of a gift are all charity dates. Time comes from a
 * Clock so tests can stand at 23:30 in Toronto on 31 December without touching the machine's clock.
 */
export type Clock = { now(): Date };

export const systemClock: Clock = { now: () => new Date() };

export const DEFAULT_CHARITY_TIME_ZONE = 'America/Toronto';

const dayFormats = new Map<string, Intl.DateTimeFormat>();

function dayFormat(timeZone: string): Intl.DateTimeFormat {
  let format = dayFormats.get(timeZone);
  if (!format) {
    // en-CA formats a date as YYYY-MM-DD.
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  return format;
}

/** An IANA time zone name this runtime knows ('America/Toronto'). */
export function isTimeZone(name: string): boolean {
  try {
    dayFormat(name);
    return true;
  } catch {
    return false;
  }
}

/** The calendar date 'YYYY-MM-DD' of an instant in a time zone. */
export function dateIn(instant: Date, timeZone: string): string {
  return dayFormat(timeZone).format(instant);
}

/**
 * The first instant of a calendar date in a time zone (midnight, or the first minute that exists
 * when a clock change skips midnight). Found by bisection on dateIn, so it is right whatever the
 * zone's offsets and transitions are.
 */
export function startOfDate(date: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  // Every zone's offset is within ±14 h: the day starts between these two instants.
  let before = Date.UTC(y, m - 1, d) - 15 * 3600_000;
  let atOrAfter = Date.UTC(y, m - 1, d) + 15 * 3600_000;
  while (atOrAfter - before > 1) {
    const middle = Math.floor((before + atOrAfter) / 2);
    if (dateIn(new Date(middle), timeZone) < date) before = middle;
    else atOrAfter = middle;
  }
  return new Date(atOrAfter);
}

export type CharityCalendar = {
  timeZone: string;
  clock: Clock;
  now(): Date;
  /** Today's date where the charity is. */
  today(): string;
  /** The charity's date of an instant. */
  dateOf(instant: Date): string;
  /** The first instant of a charity date: what a date typed without a time means as an instant. */
  startOf(date: string): Date;
};

export function charityCalendar(timeZone: string = DEFAULT_CHARITY_TIME_ZONE, clock: Clock = systemClock): CharityCalendar {
  return {
    timeZone,
    clock,
    now: () => clock.now(),
    today: () => dateIn(clock.now(), timeZone),
    dateOf: (instant) => dateIn(instant, timeZone),
    startOf: (date) => startOfDate(date, timeZone),
  };
}
