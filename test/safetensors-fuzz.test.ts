// Hostile checkpoint files. Seeded mutations of a valid checkpoint (bit flips in the length
// field, the header and the data, truncations, header lengths, bad offsets, dtypes, shapes and
// entries) must each either load, with every tensor finite and equal to what an independent
// reader decodes from the same bytes, or be refused with a CheckpointError naming the file:
// never another error (a raw TypeError, a RangeError), never a hang.

import { describe, expect, test } from 'vitest';
import { readCheckpoint } from '../src/gan/checkpoint.ts';
import { CheckpointError, decodeSafetensors } from '../src/io/safetensors.ts';
import { randomSource, syntheticCheckpoint } from './checkpoint-fixture.ts';

// --- An independent reader, written from the format's description -------------------------
//
// A safetensors file is: 8 bytes, N, an unsigned little-endian 64-bit integer; N bytes of UTF-8
// JSON that begin with '{' and may be padded at the end with spaces; then the byte buffer. The
// JSON maps tensor names to {"dtype", "shape", "data_offsets": [BEGIN, END]}, the offsets
// relative to the start of the byte buffer, END one past the last byte, END - BEGIN the
// tensor's size. An optional "__metadata__" entry maps strings to strings. The byte buffer must
// be entirely indexed and hold no holes; tensors do not share bytes. Empty tensors (a 0 in the
// shape) and scalars (shape []) are allowed. Data is little-endian, in C order.
//
// This reader does its arithmetic in BigInt and checks coverage byte by byte, so it shares no
// logic with the decoder under test.

const DTYPE_BYTES: Record<string, bigint> = {
  BOOL: 1n, U8: 1n, I8: 1n, F8_E4M3: 1n, F8_E5M2: 1n,
  U16: 2n, I16: 2n, F16: 2n, BF16: 2n,
  U32: 4n, I32: 4n, F32: 4n,
  U64: 8n, I64: 8n, F64: 8n,
};

interface OracleTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

type OracleResult = { ok: true; tensors: Map<string, OracleTensor>; metadata: Record<string, string> } | { ok: false; reason: string };

function isNonNegativeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}

function independentRead(file: Uint8Array): OracleResult {
  const no = (reason: string): OracleResult => ({ ok: false, reason });
  if (file.length < 8) return no('shorter than the length field');
  let n = 0n;
  for (let i = 7; i >= 0; i--) n = (n << 8n) | BigInt(file[i]);
  if (n > BigInt(file.length - 8)) return no('header runs past the end');
  const headerEnd = 8 + Number(n);
  if (headerEnd === 8 || file[8] !== '{'.charCodeAt(0)) return no("header does not begin with '{'");
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, headerEnd));
  } catch {
    return no('header is not UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch {
    return no('header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return no('header is not a dictionary');
  const buffer = file.subarray(headerEnd);
  const owner = new Int32Array(buffer.length).fill(-1);
  const tensors = new Map<string, OracleTensor>();
  const metadata: Record<string, string> = {};
  let index = 0;
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) return no('metadata is not a dictionary');
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') return no(`metadata ${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (info === null || typeof info !== 'object' || Array.isArray(info)) return no(`${name} is not a dictionary`);
    const { dtype, shape, data_offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) return no(`${name}: unknown dtype`);
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) return no(`${name}: bad shape`);
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every(isNonNegativeInteger)) return no(`${name}: bad offsets`);
    const [begin, end] = data_offsets.map(BigInt);
    if (begin > end || end > BigInt(buffer.length)) return no(`${name}: offsets outside the buffer`);
    const size = shape.reduce((acc: bigint, d: number) => acc * BigInt(d), 1n) * DTYPE_BYTES[dtype];
    if (end - begin !== size) return no(`${name}: size does not match dtype and shape`);
    for (let i = Number(begin); i < Number(end); i++) {
      if (owner[i] !== -1) return no(`${name}: shares bytes with another tensor`);
      owner[i] = index;
    }
    tensors.set(name, { dtype, shape: shape as number[], bytes: buffer.slice(Number(begin), Number(end)) });
    index++;
  }
  if (owner.some((o) => o === -1)) return no('the buffer has bytes no tensor indexes');
  return { ok: true, tensors, metadata };
}

// --- Mutations ------------------------------------------------------------------------------

interface Parts {
  header: Record<string, unknown>;
  body: Uint8Array;
}

function split(file: Uint8Array): Parts {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))), body: file.slice(8 + n) };
}

/** A file from a header (any JSON value, or raw text) and a body, with a correct length field. */
function join(header: unknown, body: Uint8Array, raw = false): Uint8Array {
  const text = new TextEncoder().encode(raw ? (header as string) : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(body, 8 + text.length);
  return out;
}

type Rng = ReturnType<typeof randomSource>;
const tensorNames = (p: Parts) => Object.keys(p.header).filter((k) => k !== '__metadata__');
const entry = (p: Parts, name: string) => p.header[name] as { dtype: unknown; shape: unknown; data_offsets: unknown };

const STRANGE_NUMBERS = [-1, -4, -(2 ** 31), -(2 ** 53), 0.5, 1e300, 2 ** 53, 2 ** 64, NaN, null, '8', [], {}, true];

const MUTATIONS: Record<string, (valid: Uint8Array, rnd: Rng) => Uint8Array> = {
  'bit flip in the length field': (v, rnd) => flip(v, rnd.int(8), rnd),
  'bit flip in the header': (v, rnd) => flip(v, 8 + rnd.int(headerLength(v)), rnd),
  'bit flip in the data': (v, rnd) => flip(v, 8 + headerLength(v) + rnd.int(v.length - 8 - headerLength(v)), rnd),
  'several bit flips, header and data': (v, rnd) => {
    let out = v;
    const h = 8 + headerLength(v);
    for (let i = 0, n = 2 + rnd.int(6); i < n; i++) out = flip(out, rnd.next() < 0.3 ? rnd.int(h) : h + rnd.int(v.length - h), rnd);
    return out;
  },
  truncation: (v, rnd) => v.slice(0, rnd.pick([0, 1, 7, 8, 9, 8 + headerLength(v) - 1, 8 + headerLength(v), rnd.int(v.length), v.length - 1, v.length - 4])),
  'bytes appended': (v, rnd) => Uint8Array.from([...v, ...Array.from({ length: 1 + rnd.int(16) }, () => rnd.int(256))]),
  'header length': (v, rnd) => {
    const out = v.slice();
    const h = headerLength(v);
    const lengths = [0n, 1n, 2n, BigInt(h - 1), BigInt(h + 1), BigInt(h + 8), BigInt(v.length - 8), BigInt(v.length), 2n ** 63n, 2n ** 64n - 1n, BigInt(rnd.int(v.length))];
    new DataView(out.buffer).setBigUint64(0, rnd.pick(lengths), true);
    return out;
  },
  'data_offsets': (v, rnd) => {
    const p = split(v);
    const names = tensorNames(p);
    const e = entry(p, rnd.pick(names));
    const [b, end] = e.data_offsets as number[];
    const other = entry(p, rnd.pick(names)).data_offsets as number[];
    e.data_offsets = rnd.pick([
      [-b - 4, end], [b, -end], [-4, -1], [end, b], [b + 4, end + 4], [b - 4, end - 4], [b, end + 4], other,
      [b, end - 4], [b + 0.5, end + 0.5], [b], [b, end, end], null, 'x', [String(b), end],
      [rnd.pick(STRANGE_NUMBERS), end], [b, rnd.pick(STRANGE_NUMBERS)],
    ]);
    return join(p.header, p.body);
  },
  'overlapping tensors': (v, rnd) => {
    const p = split(v);
    const names = tensorNames(p);
    const [a, b] = [rnd.pick(names), rnd.pick(names)];
    entry(p, a).data_offsets = entry(p, b).data_offsets;
    if (rnd.next() < 0.5) entry(p, a).shape = entry(p, b).shape;
    return join(p.header, p.body);
  },
  dtype: (v, rnd) => {
    const p = split(v);
    entry(p, rnd.pick(tensorNames(p))).dtype = rnd.pick(['F16', 'BF16', 'F64', 'I32', 'I64', 'U8', 'U32', 'F32', 'BOOL', 'f32', 'F32 ', '', 'toString', '__proto__', null, 4, ['F32']]);
    return join(p.header, p.body);
  },
  shape: (v, rnd) => {
    const p = split(v);
    const e = entry(p, rnd.pick(tensorNames(p)));
    const shape = e.shape as number[];
    e.shape = rnd.pick([null, 'x', 5, {}, [], [-1], [shape[0], -shape[1]], [...shape, 1], [...shape, 0], shape.slice(1), [shape[0] * 2, shape[1] / 2], [0.5], [2 ** 60, 2 ** 60], [rnd.pick(STRANGE_NUMBERS)]]);
    return join(p.header, p.body);
  },
  'entry not an object': (v, rnd) => {
    const p = split(v);
    p.header[rnd.pick(tensorNames(p))] = rnd.pick([null, [], 'tensor', 0, true, {}, { dtype: 'F32' }]);
    return join(p.header, p.body);
  },
  'header not an object': (v, rnd) => join(rnd.pick(['null', '[]', '"x"', '42', 'true', '{', '{}', '{"a":', ' {}', '\u00ff{}', '{"a":1}']), split(v).body, true),
  metadata: (v, rnd) => {
    const p = split(v);
    const meta = p.header.__metadata__ as Record<string, unknown>;
    const config = JSON.parse(meta.config as string);
    const change = rnd.int(8);
    if (change === 0) p.header.__metadata__ = rnd.pick([null, [], 'x', 1]);
    else if (change === 1) meta[rnd.pick(Object.keys(meta))] = rnd.pick([null, 1, {}, ['x']]);
    else if (change === 2) meta.iteration = rnd.pick(['-1', '1e3', '', 'abc', '1.5', ' 12', '99999999999999999999']);
    else if (change === 3) meta.format = rnd.pick(['webgpu-gan/2', '', 'pt']);
    else if (change === 4) meta.config = rnd.pick(['null', '[]', '{}', '1', 'not json', '{"preset":"toy-1d"}']);
    else if (change === 5) delete meta[rnd.pick(['config', 'iteration', 'format'])];
    else {
      // A config missing a section, or with a section of the wrong type.
      const key = rnd.pick(Object.keys(config));
      if (change === 6) delete config[key];
      else config[key] = rnd.pick([null, 'x', -1, [], {}]);
      meta.config = JSON.stringify(config);
    }
    return join(p.header, p.body);
  },
  'non-finite values': (v, rnd) => {
    const p = split(v);
    const floats = tensorNames(p).filter((n) => entry(p, n).dtype === 'F32');
    const [begin, end] = entry(p, rnd.pick(floats)).data_offsets as number[];
    const at = begin + 4 * rnd.int((end - begin) / 4);
    new DataView(p.body.buffer).setFloat32(at, rnd.pick([NaN, Infinity, -Infinity]), true);
    return join(p.header, p.body);
  },
};

function headerLength(file: Uint8Array): number {
  return Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
}

function flip(file: Uint8Array, at: number, rnd: Rng): Uint8Array {
  const out = file.slice();
  out[at] ^= 1 << rnd.int(8);
  return out;
}

// --- The test ---------------------------------------------------------------------------------

const CASES_PER_KIND = 30;
/** A mutant is judged in microseconds to milliseconds; a second means a loop gone wrong. */
const MAX_MS = 1000;

describe('hostile checkpoint files', () => {
  const valid = syntheticCheckpoint();

  test('the independent reader and the decoder agree on the valid file', () => {
    const oracle = independentRead(valid);
    expect(oracle.ok).toBe(true);
    const ckpt = readCheckpoint(valid, 'valid.safetensors');
    expect(ckpt.iteration).toBe(1234);
    if (oracle.ok) expect([...ckpt.tensors.keys()]).toEqual([...oracle.tensors.keys()]);
  });

  test(`${Object.keys(MUTATIONS).length} kinds x ${CASES_PER_KIND} seeded mutations: loaded and equal to the independent reading, or refused with a CheckpointError naming the file`, () => {
    const failures: string[] = [];
    const tally: Record<string, { loaded: number; refused: number }> = {};
    let slowest = 0;
    Object.entries(MUTATIONS).forEach(([kind, mutate], k) => {
      tally[kind] = { loaded: 0, refused: 0 };
      for (let i = 0; i < CASES_PER_KIND; i++) {
        const rnd = randomSource(1 + 1000 * k + i);
        const bytes = mutate(valid, rnd);
        const name = `mutant-${k}-${i}.safetensors`;
        const fail = (why: string) => failures.push(`${kind} #${i}: ${why}`);
        const began = performance.now();
        let error: unknown = null;
        let ckpt: ReturnType<typeof readCheckpoint> | null = null;
        try {
          ckpt = readCheckpoint(bytes, name);
        } catch (e) {
          error = e;
        }
        slowest = Math.max(slowest, performance.now() - began);
        if (performance.now() - began > MAX_MS) fail(`took ${(performance.now() - began).toFixed(0)} ms`);
        const oracle = independentRead(bytes);
        if (error) {
          tally[kind].refused++;
          if (!(error instanceof CheckpointError)) fail(`refused with ${(error as Error).name}: ${(error as Error).message}`);
          else if (!error.message.includes(name)) fail(`the error does not name the file: ${error.message}`);
          continue;
        }
        tally[kind].loaded++;
        if (!oracle.ok) {
          fail(`loaded, but the format forbids it (${oracle.reason})`);
          continue;
        }
        const got = ckpt!.tensors;
        if ([...got.keys()].join() !== [...oracle.tensors.keys()].join()) fail('tensor names differ from the independent reading');
        for (const [tensor, t] of got) {
          const want = oracle.tensors.get(tensor);
          const bytesOf = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
          if (!want || want.dtype !== t.dtype || want.shape.join() !== t.shape.join()) fail(`${tensor}: dtype or shape differs from the independent reading`);
          else if (!bytesOf.every((b, j) => b === want.bytes[j]) || bytesOf.length !== want.bytes.length) fail(`${tensor}: data differs from the independent reading`);
          if (t.dtype === 'F32' && !(t.data as Float32Array).every(Number.isFinite)) fail(`${tensor}: loaded with a non-finite value`);
        }
      }
    });
    const rows = Object.entries(tally).map(([kind, t]) => `  ${kind.padEnd(36)} loaded ${String(t.loaded).padStart(3)}  refused ${String(t.refused).padStart(3)}`);
    console.log(`mutants of a ${valid.length}-byte checkpoint (slowest judged in ${slowest.toFixed(1)} ms):\n${rows.join('\n')}`);
    expect(failures).toEqual([]);
    // Each kind must have made files the reader refuses, or it tested nothing; flips in the data
    // mostly give other finite numbers, which load.
    for (const [kind, t] of Object.entries(tally)) if (kind !== 'bit flip in the data') expect(t.refused, kind).toBeGreaterThan(0);
    expect(tally['bit flip in the data'].loaded).toBeGreaterThan(0);
  });

  test.each([
    ['a null header', () => join(null, new Uint8Array(0)), /the header does not start with '\{'|not a JSON object/],
    ['an array header', () => join([], new Uint8Array(0)), /does not start with '\{'/],
    ['a null entry', () => join({ w: null }, new Uint8Array(0)), /tensor 'w' is null/],
    ['a shape that is not a list', () => join({ w: { dtype: 'F32', shape: 4, data_offsets: [0, 16] } }, new Uint8Array(16)), /tensor 'w' has shape 4/],
    ['a negative begin', () => join({ w: { dtype: 'F32', shape: [4], data_offsets: [-16, 0] } }, new Uint8Array(16)), /tensor 'w' has data_offsets \[-16,0\]/],
    ['a negative end', () => join({ w: { dtype: 'U8', shape: [0], data_offsets: [0, -8] } }, new Uint8Array(0)), /tensor 'w' has data_offsets \[0,-8\]/],
    ['an unknown dtype', () => join({ w: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 'w' has dtype "F16"/],
    ['a size that does not match', () => join({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16)), /tensor 'w' has shape \[3\] of F32 \(12 bytes\)/],
    [
      'overlapping tensors',
      () => join({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, new Uint8Array(16)),
      /overlap/,
    ],
    ['a gap', () => join({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, new Uint8Array(16)), /data bytes 0\.\.8 belong to no tensor/],
    ['bytes left over', () => join({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(16)), /cover 8 data bytes but the file holds 16/],
  ])('%s is refused with the file and the tensor named', (_, make, message) => {
    expect(() => decodeSafetensors(make(), 'hostile.safetensors')).toThrow(CheckpointError);
    expect(() => decodeSafetensors(make(), 'hostile.safetensors')).toThrow(message);
    expect(() => decodeSafetensors(make(), 'hostile.safetensors')).toThrow(/^hostile\.safetensors: /);
  });

  test('empty tensors and scalars are valid', () => {
    const file = join({ e: { dtype: 'F32', shape: [3, 0], data_offsets: [0, 0] }, s: { dtype: 'U32', shape: [], data_offsets: [0, 4] } }, Uint8Array.of(7, 0, 0, 0));
    const { tensors } = decodeSafetensors(file, 'small.safetensors');
    expect(tensors.get('e')!.data.length).toBe(0);
    expect([...tensors.get('s')!.data]).toEqual([7]);
    expect(independentRead(file).ok).toBe(true);
  });
});
