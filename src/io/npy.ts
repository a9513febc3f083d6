// NumPy's .npy format (versions 1.0, 2.0 and 3.0): magic, version, header length, a header
// that is a Python dict literal, then the raw C-order data. The engine writes float32 and uint8
// arrays and reads uint8, little-endian float32 and (converted to float32) little-endian
// float64. A file is untrusted input: every field is checked against the bytes present before
// anything is allocated, and every error names the file and what is wrong.

import { DataError } from '../data/idx.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** A decoded array: bytes stay bytes; float64 files arrive converted to float32. */
export type NpyArray =
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'float32'; shape: number[]; data: Float32Array; /** the file held float64 */ converted?: 'float64' };

/** The dtypes the reader accepts, by their descr strings (one-byte types have no byte order). */
const DESCRS: Record<string, { dtype: 'uint8' | 'float32' | 'float64'; itemsize: number }> = {
  '|u1': { dtype: 'uint8', itemsize: 1 },
  '<u1': { dtype: 'uint8', itemsize: 1 },
  '>u1': { dtype: 'uint8', itemsize: 1 },
  '=u1': { dtype: 'uint8', itemsize: 1 },
  u1: { dtype: 'uint8', itemsize: 1 },
  '<f4': { dtype: 'float32', itemsize: 4 },
  '<f8': { dtype: 'float64', itemsize: 8 },
};

export function encodeNpy(data: Float32Array | Uint8Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape [${shape}] holds ${count} values, data has ${data.length}`);
  const descr = data instanceof Uint8Array ? '|u1' : '<f4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Magic (6) + version (2) + header length (2) + header + newline, padded to 64 bytes so the
  // data starts aligned, as NumPy does.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([...MAGIC, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Decodes a .npy file of uint8, float32 or float64 values; `name` appears in every error. */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  const fail = (what: string): never => {
    throw new DataError(`${name}: ${what}`);
  };
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail('not a .npy file (it does not start with the bytes \\x93NUMPY)');
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) fail(`.npy format version ${major}.${minor} is not one of 1.0, 2.0, 3.0`);
  // Version 1.0 has a 2-byte header length; 2.0 and 3.0 a 4-byte one (3.0: the header is UTF-8).
  const lengthBytes = major === 1 ? 2 : 4;
  const headerStart = 8 + lengthBytes;
  if (bytes.byteLength < headerStart) fail(`${bytes.byteLength} bytes is too short for a version ${major}.0 header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.byteLength) {
    fail(`the header length field says ${headerLength} bytes, but only ${bytes.byteLength - headerStart} follow (truncated or corrupt file)`);
  }
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const header = parseHeader(headerText, fail);

  const descr = header.descr;
  if (typeof descr !== 'string') fail(`header 'descr' is ${describe(descr)}, expected a dtype string such as '<f4'`);
  const type = DESCRS[descr as string];
  if (!type) {
    const bigEndian = /^>[fiu][2-8]$/.test(descr as string) ? ' (big-endian: save it as little-endian with arr.astype(arr.dtype.newbyteorder("<")))' : '';
    fail(
      `dtype '${descr}' is not supported${bigEndian}; expected uint8 ('|u1'), float32 ('<f4') or float64 ('<f8'), ` +
        'e.g. np.save(path, arr.astype(np.float32))',
    );
  }
  if (typeof header.fortran_order !== 'boolean') fail(`header 'fortran_order' is ${describe(header.fortran_order)}, expected True or False`);
  if (header.fortran_order) fail('the array is stored in Fortran (column-major) order; save it in C order: np.save(path, np.ascontiguousarray(arr))');
  const shape = header.shape;
  if (!Array.isArray(shape)) fail(`header 'shape' is ${describe(shape)}, expected a tuple of integers`);
  const dims = shape as unknown[];
  if (dims.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    fail(`header 'shape' (${dims.join(', ')}) must hold non-negative integers`);
  }
  const count = (dims as number[]).reduce((a, b) => a * b, 1);
  const { dtype, itemsize } = type!;
  const expected = count * itemsize;
  const present = bytes.byteLength - dataStart;
  if (present !== expected) {
    fail(
      `shape (${dims.join(', ')}) of ${dtype} needs ${expected} bytes of data, the file has ${present}` +
        (present < expected ? ' (truncated file)' : ' (trailing bytes: corrupt file or wrong header)'),
    );
  }
  // slice() copies into a fresh buffer, so the typed views below start aligned.
  const raw = bytes.slice(dataStart);
  const outShape = dims as number[];
  if (dtype === 'uint8') return { dtype, shape: outShape, data: raw };
  if (dtype === 'float32') return { dtype, shape: outShape, data: new Float32Array(raw.buffer) };
  return { dtype: 'float32', shape: outShape, data: Float32Array.from(new Float64Array(raw.buffer)), converted: 'float64' };
}

/** A float32 array from a .npy file of any accepted dtype (bytes become their values 0..255). */
export function decodeNpy(bytes: Uint8Array, name = '.npy data'): { data: Float32Array; shape: number[] } {
  const array = parseNpy(bytes, name);
  return { data: array.dtype === 'uint8' ? Float32Array.from(array.data) : array.data, shape: array.shape };
}

type Literal = string | number | boolean | null | Literal[] | { [key: string]: Literal };

/** The header must be a dict literal with exactly the keys descr, fortran_order and shape. */
function parseHeader(text: string, fail: (what: string) => never): Record<string, Literal> {
  let value: Literal;
  try {
    value = parsePythonLiteral(text);
  } catch (e) {
    return fail(`corrupt header (${(e as Error).message}): ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail(`the header is not a dict: ${JSON.stringify(text.trim().slice(0, 120))}`);
  }
  const keys = Object.keys(value).sort();
  const wanted = ['descr', 'fortran_order', 'shape'];
  if (keys.join() !== wanted.join()) {
    return fail(`the header has keys [${keys.join(', ')}], expected exactly [${wanted.join(', ')}]`);
  }
  return value;
}

function describe(v: unknown): string {
  return v === undefined ? 'missing' : JSON.stringify(v);
}

/**
 * A parser for the Python literals a .npy header uses: dicts, tuples, lists, quoted strings,
 * integers, True, False and None. Anything else is an error (NumPy itself evaluates the header
 * with ast.literal_eval; an expression never runs here).
 */
function parsePythonLiteral(text: string): Literal {
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const error = (what: string): never => {
    throw new Error(`${what} at character ${i + 1}`);
  };
  const expect = (ch: string) => {
    skipSpace();
    if (text[i] !== ch) error(`expected '${ch}'${i < text.length ? ` but found '${text[i]}'` : ' but the header ended'}`);
    i++;
  };
  // Items separated by commas up to `close`, a trailing comma allowed.
  const sequence = (close: string, item: () => void) => {
    for (;;) {
      skipSpace();
      if (text[i] === close) break;
      item();
      skipSpace();
      if (text[i] === ',') i++;
      else if (text[i] !== close) error(`expected ',' or '${close}'`);
    }
    i++;
  };
  const value = (): Literal => {
    skipSpace();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const dict: Record<string, Literal> = {};
      sequence('}', () => {
        const key = value();
        if (typeof key !== 'string') error('a dict key that is not a string');
        expect(':');
        if (Object.hasOwn(dict, key as string)) error(`the key '${key}' twice`);
        dict[key as string] = value();
      });
      return dict;
    }
    if (ch === '(' || ch === '[') {
      i++;
      const items: Literal[] = [];
      sequence(ch === '(' ? ')' : ']', () => items.push(value()));
      return items;
    }
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) error('an unterminated string');
      const s = text.slice(i + 1, end);
      if (s.includes('\\')) error('an escape sequence in a string');
      i = end + 1;
      return s;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*|^[+-]?\d+L?/.exec(text.slice(i))?.[0];
    if (!word) return error(i < text.length ? `unexpected '${ch}'` : 'the header ended early');
    i += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    // Python 2 wrote long integers with an L suffix in shapes.
    if (/^[+-]?\d+L?$/.test(word)) return Number(word.replace('L', ''));
    return error(`unexpected name '${word}'`);
  };
  const result = value();
  skipSpace();
  if (i !== text.length) error('text after the dict');
  return result;
}
