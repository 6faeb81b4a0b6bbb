import fc from 'fast-check';
import { addMonths, daysInMonth, parseIsoDate } from '../../server/calendar/dates';
import { BASE_MONTHS, MAX_MONTHS, monthlyLines, planSchedule, rescaleShares, splitEvenly, supportAfterEarnings } from '../../server/schedules/schedule-plan';

const isoDate = fc
  .record({ year: fc.integer({ min: 2020, max: 2040 }), month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 31 }) })
  .map(({ year, month, day }) => `${year}-${String(month).padStart(2, '0')}-${String(Math.min(day, daysInMonth(year, month))).padStart(2, '0')}`);
const payees = fc.integer({ min: 1, max: 6 }).map((n) => Array.from({ length: n }, (_, i) => ({ key: `p${i}`, label: `Adult ${i + 1}` })));

describe('due dates by calendar month', () => {
  test.each([
    ['2027-01-31', 1, '2027-02-28'],
    ['2028-01-31', 1, '2028-02-29'],
    ['2027-01-31', 2, '2027-03-31'],
    ['2027-03-31', 1, '2027-04-30'],
    ['2027-11-15', 2, '2028-01-15'],
    ['2027-12-31', 12, '2028-12-31'],
  ])('%s plus %i month(s) is %s', (from, months, expected) => {
    expect(addMonths(from, months)).toBe(expected);
  });

  test('every monthly instalment falls in consecutive calendar months, never past month-end, on the arrival day when the month has it', () => {
    fc.assert(
      fc.property(isoDate, payees, (arrivalOn, people) => {
        const lines = planSchedule({ arrivalOn, annualIncomeSupportCents: 2_120_000, startupCents: 750_000, payees: people });
        const arrival = parseIsoDate(arrivalOn);
        for (const line of lines.filter((l) => l.kind === 'monthly')) {
          const due = parseIsoDate(line.dueOn);
          const monthsApart = (due.year - arrival.year) * 12 + (due.month - arrival.month);
          expect(monthsApart).toBe(line.monthIndex - 1);
          expect(due.day).toBe(Math.min(arrival.day, daysInMonth(due.year, due.month)));
        }
      }),
    );
  });
});

describe('amounts', () => {
  test('splitting always adds up exactly and differs by at most a cent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_000 }), fc.integer({ min: 1, max: 40 }), (total, parts) => {
        const shares = splitEvenly(total, parts);
        expect(shares.reduce((a, b) => a + b, 0)).toBe(total);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
      }),
    );
  });

  test('a 12-month schedule totals the cost table exactly: income support plus start-up, whatever the payees', () => {
    fc.assert(
      fc.property(isoDate, payees, fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 5_000_000 }), (arrivalOn, people, annual, startup) => {
        const lines = planSchedule({ arrivalOn, annualIncomeSupportCents: annual, startupCents: startup, payees: people });
        const monthly = lines.filter((l) => l.kind === 'monthly');
        expect(monthly.reduce((s, l) => s + l.amountCents, 0)).toBe(annual);
        expect(lines.filter((l) => l.kind === 'startup').reduce((s, l) => s + l.amountCents, 0)).toBe(startup);
        expect(monthly).toHaveLength(BASE_MONTHS * people.length);
        expect(new Set(monthly.map((l) => l.payeeKey)).size).toBe(people.length);
      }),
    );
  });

  test('the cost table for a family of four (2018 edition): $21,200 over 12 months and $7,500 start-up in month 1', () => {
    const lines = planSchedule({ arrivalOn: '2027-03-15', annualIncomeSupportCents: 2_120_000, startupCents: 750_000, payees: [{ key: 'a', label: 'A' }, { key: 'b', label: 'B' }] });
    expect(lines[0]).toEqual({ payeeKey: 'a', kind: 'startup', monthIndex: 0, dueOn: '2027-03-15', amountCents: 750_000 });
    // $21,200 / 12 = $1,766.66…: four months of $1,766.67 and eight of $1,766.66, each split between two adults.
    const march = lines.filter((l) => l.monthIndex === 1);
    expect(march.map((l) => l.amountCents)).toEqual([88_334, 88_333]);
    expect(lines.at(-1)).toMatchObject({ monthIndex: 12, dueOn: '2028-02-15' });
  });

  test('extensions run to 36 months in total and not beyond', () => {
    const input = { arrivalOn: '2027-01-31', annualIncomeSupportCents: 1_320_000, startupCents: 330_000, payees: [{ key: 'a', label: 'A' }] };
    expect(planSchedule({ ...input, months: MAX_MONTHS }).filter((l) => l.kind === 'monthly')).toHaveLength(36);
    expect(() => planSchedule({ ...input, months: MAX_MONTHS + 1 })).toThrow(/1 to 36 months/);
    const extension = monthlyLines(input, 13, 24);
    expect(extension).toHaveLength(12);
    expect(extension[0]).toMatchObject({ monthIndex: 13, dueOn: '2028-01-31' });
    expect(extension.at(-1)).toMatchObject({ monthIndex: 24, dueOn: '2028-12-31' });
    expect(extension.reduce((s, l) => s + l.amountCents, 0)).toBe(1_320_000);
  });
});

describe('the earned-income rule', () => {
  const support = 200_000; // $2,000 a month
  test.each([
    ['0%', 0, 200_000],
    ['25%', 50_000, 200_000],
    ['50%', 100_000, 200_000],
    ['just over 50%', 100_001, 199_999],
    ['100%', 200_000, 100_000],
    ['150%', 300_000, 0],
    ['above 150%', 450_000, 0],
  ])('income at %s of support leaves the right support', (_label, income, expected) => {
    expect(supportAfterEarnings(support, income)).toBe(expected);
  });

  test('support never rises with income, never goes negative, and falls at most a cent per cent above half', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 2_000_000 }), (s, income) => {
        const now = supportAfterEarnings(s, income);
        const more = supportAfterEarnings(s, income + 1);
        expect(now).toBeGreaterThanOrEqual(0);
        expect(now).toBeLessThanOrEqual(s);
        expect(now - more).toBeGreaterThanOrEqual(0);
        expect(now - more).toBeLessThanOrEqual(1);
        if (2 * income <= s) expect(now).toBe(s);
      }),
    );
  });

  test('rescaled payee shares keep their proportions and add up exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 500_000 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 3_000_000 }), (shares, total) => {
        const result = rescaleShares(shares, total);
        expect(result.reduce((a, b) => a + b, 0)).toBe(total);
        expect(result.every((r) => r >= 0)).toBe(true);
      }),
    );
    expect(rescaleShares([100_000, 50_000], 90_000)).toEqual([60_000, 30_000]);
  });
});
