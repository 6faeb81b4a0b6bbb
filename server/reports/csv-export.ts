import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';

/**
 * Exact decimal dollars for spreadsheets ("-1234.05"), by integer arithmetic on cents: no float
 * ever touches the amount, so a column's sum equals the ledger's to the cent.
 */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export type CsvColumn<T> = { header: string; value: (row: T) => string | number | null };

/** One CSV document (RFC 4180, CRLF) with a header row; cells that look like formulas are neutralised. */
export function toCsv<T>(columns: CsvColumn<T>[], rows: T[]): string {
  const records = rows.map((row) => columns.map((c) => neutraliseFormula(c.value(row))));
  return stringify(records, { header: true, columns: columns.map((c) => c.header), record_delimiter: 'windows' });
}

/**
 * A CSV document written to `out` as its rows arrive in pages (RFC 4180, CRLF, header first):
 * memory holds one page. Waits for the client when the socket's buffer is full.
 */
export async function writeCsv<T>(out: Writable, columns: CsvColumn<T>[], pages: AsyncIterable<T[]>): Promise<void> {
  let header = true;
  for await (const rows of pages) {
    const records = rows.map((row) => columns.map((c) => neutraliseFormula(c.value(row))));
    const text = stringify(records, { header, columns: columns.map((c) => c.header), record_delimiter: 'windows' });
    header = false;
    if (!out.write(text)) await once(out, 'drain');
  }
  if (header) out.write(stringify([], { header: true, columns: columns.map((c) => c.header), record_delimiter: 'windows' }));
}

/** Spreadsheets run cells starting with = + - @ as formulas; text from the database must not be. */
function neutraliseFormula(value: string | number | null): string | number {
  if (value === null) return '';
  if (typeof value === 'number') return value;
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
