import { addDays } from '../../server/calendar/dates';
import { charityCalendar, dateIn, isTimeZone, startOfDate } from '../../server/calendar/charity-calendar';
import { fixedClock } from '../support/clock';

/**
 * Checked against a table written by hand from the tz database's rules for America/Toronto
 * (EST = UTC−5, EDT = UTC−4; 2026: EDT from Sunday 8 March 02:00 EST = 07:00 UTC until Sunday
 * 1 November 02:00 EDT = 06:00 UTC; 2027: from 14 March 07:00 UTC), not against Intl itself.
 */
const TORONTO = 'America/Toronto';
const OFFSET_HOURS: [utcInstant: string, offsetHours: number][] = [
  ['2026-01-15T12:00:00Z', -5],
  ['2026-03-08T06:59:59Z', -5],
  ['2026-03-08T07:00:00Z', -4],
  ['2026-07-01T03:59:00Z', -4],
  ['2026-11-01T05:59:59Z', -4],
  ['2026-11-01T06:00:00Z', -5],
  ['2026-12-31T12:00:00Z', -5],
  ['2027-03-14T07:00:00Z', -4],
];

/** The local date by the table's offset: plain arithmetic on the UTC instant. */
function expectedDate(utc: string, offsetHours: number): string {
  return new Date(new Date(utc).getTime() + offsetHours * 3600_000).toISOString().slice(0, 10);
}

test.each(OFFSET_HOURS)('the Toronto date of %s (UTC%i) is the table\'s', (utc, offset) => {
  expect(dateIn(new Date(utc), TORONTO)).toBe(expectedDate(utc, offset));
});

test.each([
  // [charity date, first instant in UTC]
  ['2026-03-08', '2026-03-08T05:00:00.000Z'], // EST midnight; the clocks change at 02:00 that day
  ['2026-03-09', '2026-03-09T04:00:00.000Z'], // EDT
  ['2026-11-01', '2026-11-01T04:00:00.000Z'], // still EDT at midnight
  ['2026-11-02', '2026-11-02T05:00:00.000Z'], // EST
  ['2027-01-01', '2027-01-01T05:00:00.000Z'],
])('the Toronto day %s starts at %s', (date, start) => {
  expect(startOfDate(date, TORONTO).toISOString()).toBe(start);
});

test('a zone whose clocks skip midnight starts the day at the first minute that exists', () => {
  // America/Santiago moved from UTC−4 to UTC−3 at 24:00 on 2026-09-05 (first Saturday of September), so 6 September starts at 01:00 local = 04:00 UTC.
  expect(startOfDate('2026-09-06', 'America/Santiago').toISOString()).toBe('2026-09-06T04:00:00.000Z');
  expect(dateIn(new Date('2026-09-06T03:59:59.999Z'), 'America/Santiago')).toBe('2026-09-05');
});

test('today is the charity\'s day: 07:00 UTC is still the night before in Toronto, and 23:30 on 31 December is that year', () => {
  const clock = fixedClock('2026-06-10T03:30:00Z');
  const calendar = charityCalendar(TORONTO, clock);
  expect(calendar.today()).toBe('2026-06-09');
  clock.set('2026-06-10T07:00:00Z');
  expect(calendar.today()).toBe('2026-06-10');
  clock.set('2027-01-01T04:30:00Z'); // 23:30 EST on 31 December
  expect(calendar.today()).toBe('2026-12-31');
  expect(charityCalendar('UTC', clock).today()).toBe('2027-01-01');
});

test('calendar arithmetic and zone names', () => {
  expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  expect(addDays('2028-03-01', -1)).toBe('2028-02-29');
  expect(isTimeZone('America/Toronto')).toBe(true);
  expect(isTimeZone('America/Vancouver')).toBe(true);
  expect(isTimeZone('Mars/Olympus')).toBe(false);
});
