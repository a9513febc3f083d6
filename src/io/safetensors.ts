// The safetensors format (as written by Hugging Face's `safetensors`): an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte range, and the raw
// little-endian data. String metadata rides in the header's `__metadata__` entry.

export type SafeDType = 'F32' | 'U32' | 'U8';

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Uint32Array | Uint8Array;
}

/**
 * A 64-bit integer tensor, written but never read here: files for other frameworks carry them
 * (torch's BatchNorm `num_batches_tracked` is an int64 scalar, shape []).
 */
export interface SafeI64Tensor {
  dtype: 'I64';
  shape: number[];
  data: BigInt64Array;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const BYTES: Record<SafeDType, number> = { F32: 4, U32: 4, U8: 1 };
const WRITE_BYTES: Record<SafeDType | 'I64', number> = { ...BYTES, I64: 8 };

export function encodeSafetensors(tensors: ReadonlyMap<string, SafeTensor | SafeI64Tensor>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new CheckpointError(`tensor '${name}': shape [${t.shape}] holds ${count} values, data has ${t.data.length}`);
    const bytes = count * WRITE_BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((new TextEncoder().encode(json).length + 8) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** Headers above this are refused unread, as the reference implementation does. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

interface Entry {
  key: string;
  dtype: SafeDType;
  shape: number[];
  begin: number;
  end: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** One header entry, checked field by field; `bodyBytes` bounds every size so none overflows. */
function checkEntry(name: string, key: string, value: unknown, bodyBytes: number): Entry {
  const bad = (what: string) => new CheckpointError(`${name}: tensor '${key}' ${what}`);
  if (!isObject(value)) throw bad(`is ${value === null ? 'null' : typeof value === 'object' ? 'an array' : `a ${typeof value}`}, not an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !Object.hasOwn(BYTES, dtype)) throw bad(`has dtype ${JSON.stringify(dtype)}; this reader knows ${Object.keys(BYTES).join(', ')}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) throw bad(`has shape ${JSON.stringify(shape)}; a shape is a list of non-negative integers`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw bad(`has data_offsets ${JSON.stringify(offsets)}; they are [begin, end], two non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw bad(`has data_offsets [${begin}, ${end}] that run backwards`);
  if (end > bodyBytes) throw bad(`has data_offsets [${begin}, ${end}] beyond the ${bodyBytes} data bytes (truncated file?)`);
  // The element count, bounded by the body at every step so the product stays exact (a zero
  // anywhere makes an empty tensor, whatever the other sizes).
  let count = shape.includes(0) ? 0 : 1;
  for (const n of count ? (shape as number[]) : []) {
    count *= n;
    if (count * BYTES[dtype as SafeDType] > bodyBytes) throw bad(`has shape [${shape}], more ${dtype} values than the file holds`);
  }
  if (end - begin !== count * BYTES[dtype as SafeDType]) {
    throw bad(`has shape [${shape}] of ${dtype} (${count * BYTES[dtype as SafeDType]} bytes) but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  return { key, dtype: dtype as SafeDType, shape: shape as number[], begin, end };
}

/**
 * Decodes a safetensors file, trusting nothing in it: the header must be a JSON object of
 * well-formed entries whose byte ranges tile the data exactly (no gaps, no overlaps, nothing
 * left over). Every error is a CheckpointError naming `name` and, where one is at fault, the
 * tensor.
 */
export function decodeSafetensors(bytes: Uint8Array, name = 'checkpoint'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new CheckpointError(`${name}: ${bytes.length} bytes is too short for a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) throw new CheckpointError(`${name}: header length ${declared} exceeds the file (truncated or not safetensors)`);
  const headerLength = Number(declared);
  if (headerLength > MAX_HEADER_BYTES) throw new CheckpointError(`${name}: header length ${headerLength} is above the ${MAX_HEADER_BYTES}-byte limit of safetensors`);
  if (headerLength < 2 || bytes[8] !== 0x7b) throw new CheckpointError(`${name}: the header does not start with '{' (not a safetensors file)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new CheckpointError(`${name}: header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isObject(header)) throw new CheckpointError(`${name}: the header is not a JSON object`);
  const dataStart = 8 + headerLength;
  const bodyBytes = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [key, value] of Object.entries(header)) {
    if (key !== '__metadata__') {
      entries.push(checkEntry(name, key, value, bodyBytes));
      continue;
    }
    if (!isObject(value)) throw new CheckpointError(`${name}: __metadata__ is not an object of strings`);
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') throw new CheckpointError(`${name}: __metadata__ entry '${k}' is not a string`);
      metadata[k] = v;
    }
  }
  // Sorted by where they start, the ranges must follow each other without a gap or an overlap
  // and end where the file ends: every data byte belongs to exactly one tensor.
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of ordered) {
    if (e.begin < at) throw new CheckpointError(`${name}: tensor '${e.key}' data_offsets [${e.begin}, ${e.end}] overlap another tensor's bytes (before ${at})`);
    if (e.begin > at) throw new CheckpointError(`${name}: data bytes ${at}..${e.begin} belong to no tensor (tensor '${e.key}' starts at ${e.begin})`);
    at = e.end;
  }
  if (at !== bodyBytes) throw new CheckpointError(`${name}: the tensors cover ${at} data bytes but the file holds ${bodyBytes} (truncated, or bytes appended)`);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    // A copy, so typed views are aligned and outlive the file's buffer. Not bytes.slice: on a
    // Node Buffer (readFileSync's) slice is a view into a shared pool, not a copy.
    const raw = new Uint8Array(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    const data = e.dtype === 'F32' ? new Float32Array(raw.buffer) : e.dtype === 'U32' ? new Uint32Array(raw.buffer) : raw;
    tensors.set(e.key, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}
