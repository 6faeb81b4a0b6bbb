import { chartGeometry, combineForecasts, forecast } from '../../server/schedules/forecast';

test('a constructed case: the month the money runs out is flagged, and only from then on', () => {
  // $3,000 in the fund today; $1,000 owed each month for six months; a $500 pledge instalment in month 2.
  const owed = ['2027-01-15', '2027-02-15', '2027-03-15', '2027-04-15', '2027-05-15', '2027-06-15'].map((dueOn) => ({ dueOn, amountCents: 100_000 }));
  const rows = forecast({ from: '2027-01-10', months: 8, openingBalanceCents: 300_000, owed, inflows: [{ dueOn: '2027-02-01', amountCents: 50_000 }] });
  expect(rows.map((r) => r.month)).toEqual(['2027-01', '2027-02', '2027-03', '2027-04', '2027-05', '2027-06', '2027-07', '2027-08']);
  expect(rows.map((r) => r.balanceCents)).toEqual([200_000, 150_000, 50_000, -50_000, -150_000, -250_000, -250_000, -250_000]);
  expect(rows.map((r) => r.short)).toEqual([false, false, false, true, true, true, true, true]);
  expect(rows[3]).toMatchObject({ month: '2027-04', owedCents: 100_000, cumulativeOwedCents: 400_000, cumulativeAvailableCents: 350_000 });
});

test('overdue instalments and late pledges count in the first month; an obligation beyond the horizon extends it, never drops out (issue 15)', () => {
  const rows = forecast({
    from: '2027-05-20',
    months: 3,
    openingBalanceCents: 0,
    owed: [{ dueOn: '2027-03-01', amountCents: 10_000 }, { dueOn: '2027-09-01', amountCents: 99_999 }],
    inflows: [{ dueOn: '2027-04-30', amountCents: 10_000 }],
  });
  expect(rows.map((r) => [r.month, r.owedCents, r.inflowCents, r.short])).toEqual([
    ['2027-05', 10_000, 10_000, false],
    ['2027-06', 0, 0, false],
    ['2027-07', 0, 0, false],
    ['2027-08', 0, 0, false],
    ['2027-09', 99_999, 0, true],
  ]);
  // Past the longest horizon, an obligation still counts, in the last month shown.
  const far = forecast({ from: '2027-01-01', openingBalanceCents: 0, owed: [{ dueOn: '2040-01-01', amountCents: 5 }], inflows: [] });
  expect(far).toHaveLength(120);
  expect(far[119]).toMatchObject({ owedCents: 5, short: true });
});

test('the program forecast adds its groups, and is short whenever any group is', () => {
  const rich = forecast({ from: '2027-01-01', months: 2, openingBalanceCents: 1_000_000, owed: [], inflows: [] });
  const poor = forecast({ from: '2027-01-01', months: 2, openingBalanceCents: 0, owed: [{ dueOn: '2027-02-01', amountCents: 5_000 }], inflows: [] });
  const program = combineForecasts([rich, poor]);
  expect(program.map((r) => r.balanceCents)).toEqual([1_000_000, 995_000]);
  expect(program.map((r) => r.short)).toEqual([false, true]);
});

test('the chart marks short months and stays inside its frame', () => {
  const rows = forecast({ from: '2027-01-01', months: 12, openingBalanceCents: 100_000, owed: Array.from({ length: 12 }, (_, i) => ({ dueOn: `2027-${String(i + 1).padStart(2, '0')}-01`, amountCents: 20_000 })), inflows: [] });
  const chart = chartGeometry(rows);
  expect(chart.bars).toHaveLength(12);
  expect(chart.bars.filter((b) => b.short).map((b) => b.month)).toEqual(['2027-06', '2027-07', '2027-08', '2027-09', '2027-10', '2027-11', '2027-12']);
  for (const bar of chart.bars) {
    expect(bar.y).toBeGreaterThanOrEqual(chart.plotTop);
    expect(bar.y + bar.height).toBeLessThanOrEqual(chart.plotBottom);
  }
  expect(chart.availableLine.split(' ')).toHaveLength(12);
});
