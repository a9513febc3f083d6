// The safetensors format (as written by Hugging Face's `safetensors`): an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte range, and the raw
// little-endian data. String metadata rides in the header's `__metadata__` entry.

export type SafeDType = 'F32' | 'U32' | 'U8';

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Uint32Array | Uint8Array;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

const BYTES: Record<SafeDType, number> = { F32: 4, U32: 4, U8: 1 };

export function encodeSafetensors(tensors: Map<string, SafeTensor>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new CheckpointError(`tensor '${name}': shape [${t.shape}] holds ${count} values, data has ${t.data.length}`);
    const bytes = count * BYTES[t.dtype];
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

export function decodeSafetensors(bytes: Uint8Array, name = 'checkpoint'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new CheckpointError(`${name}: ${bytes.length} bytes is too short for a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw new CheckpointError(`${name}: header length ${headerLength} exceeds the file (truncated or not safetensors)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new CheckpointError(`${name}: header is not JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, SafeTensor>();
  for (const [key, entry] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const { dtype, shape, data_offsets: range } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in BYTES)) throw new CheckpointError(`${name}: tensor '${key}' has unsupported dtype ${dtype}`);
    const d = dtype as SafeDType;
    const count = shape.reduce((a, b) => a * b, 1);
    if (range[1] - range[0] !== count * BYTES[d] || dataStart + range[1] > bytes.length) {
      throw new CheckpointError(`${name}: tensor '${key}' byte range [${range}] does not fit shape [${shape}] or the file`);
    }
    const raw = bytes.slice(dataStart + range[0], dataStart + range[1]);
    const data = d === 'F32' ? new Float32Array(raw.buffer) : d === 'U32' ? new Uint32Array(raw.buffer) : raw;
    tensors.set(key, { dtype: d, shape, data });
  }
  return { tensors, metadata };
}
