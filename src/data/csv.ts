// Points from a CSV file: comma-separated decimal numbers, one sample per line, every line the
// same number of fields. Accepted around that: a header (a first line none of whose fields is a
// number), lines starting with '#' (comments, anywhere), blank lines at the end, a UTF-8 byte
// order mark, CRLF line ends, spaces around fields, and double quotes around a field. Refused,
// with the 1-based line and column: empty fields, NaN and infinities, anything else that is not
// a decimal number, values beyond float32's range, ragged rows and blank lines between rows.

import { DataError } from './idx.ts';

export interface CsvPoints {
  /** Row-major [count, dims] values. */
  values: Float32Array;
  count: number;
  dims: number;
  /** The header's column names, when the file has a header. */
  columns?: string[];
}

// Plain decimal notation only: JavaScript's Number() would also take '', 'Infinity', '0x1f'
// and '0b11'; a strict pattern says exactly what is allowed.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const FLOAT32_MAX = 3.4028234663852886e38;

const NOT_A_NUMBER = /^[+-]?(nan|inf(inity)?)$/i;

/** A header field: not a number, nor NaN/infinity, nor numbers joined by another separator. */
function isColumnName(field: string): boolean {
  return field !== '' && !DECIMAL.test(field) && !NOT_A_NUMBER.test(field) && /[^0-9+\-.;\t ]/.test(field);
}

function fields(line: string): string[] {
  return line.split(',').map((f) => {
    const t = f.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
  });
}

/** Parses CSV text; `name` (the file) appears in every error. */
export function parseCsvPoints(text: string, name: string): CsvPoints {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  // Trailing blank lines are allowed: the data ends at the last line with content.
  let end = lines.length;
  while (end > 0 && lines[end - 1].trim() === '') end--;

  let dims = 0;
  let columns: string[] | undefined;
  let firstDataLine = 0;
  const values: number[] = [];
  for (let l = 0; l < end; l++) {
    const line = lines[l];
    const where = `${name}, line ${l + 1}`;
    if (line.trim() === '') throw new DataError(`${where}: blank line between rows (only blank lines at the end are allowed)`);
    if (line.trimStart().startsWith('#')) continue;
    const row = fields(line);
    if (dims === 0 && columns === undefined && row.every(isColumnName)) {
      columns = row;
      continue;
    }
    if (dims === 0) {
      dims = row.length;
      firstDataLine = l + 1;
      if (columns && columns.length !== dims) {
        throw new DataError(`${where}: ${dims} fields, but the header (line ${firstHeaderLine(lines)}) names ${columns.length} columns`);
      }
    } else if (row.length !== dims) {
      throw new DataError(`${where}: ${row.length} fields, expected ${dims} as on line ${firstDataLine} (ragged row)`);
    }
    for (let c = 0; c < row.length; c++) {
      const f = row[c];
      const at = `${where}, column ${c + 1}`;
      if (f === '') throw new DataError(`${at}: empty field`);
      if (!DECIMAL.test(f)) {
        const hint = NOT_A_NUMBER.test(f)
          ? ' (NaN and infinities are not data; drop or fill those rows)'
          : /[;\t]/.test(f)
            ? ' (the separator must be a comma)'
            : '';
        throw new DataError(`${at}: '${f.length > 40 ? `${f.slice(0, 40)}...` : f}' is not a number${hint}`);
      }
      const v = Number(f);
      if (Math.abs(v) > FLOAT32_MAX) throw new DataError(`${at}: ${f} is beyond float32's range (±3.4e38)`);
      values.push(v);
    }
  }
  if (dims === 0) throw new DataError(`${name}: no rows of numbers${columns ? ` after the header (${columns.join(',')})` : ''}`);
  return { values: Float32Array.from(values), count: values.length / dims, dims, ...(columns ? { columns } : {}) };
}

function firstHeaderLine(lines: string[]): number {
  return lines.findIndex((l) => l.trim() !== '' && !l.trimStart().startsWith('#')) + 1;
}
