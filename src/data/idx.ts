// The IDX format of the original MNIST files: a big-endian header (magic 0x0000 TT DD with
// TT the element type and DD the number of dimensions, then DD u32 sizes) and the data.

export class DataError extends Error {
  override name = 'DataError';
}

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

const UBYTE = 0x08;

/** Parses an unsigned-byte IDX file; `name` appears in every error. */
export function parseIdx(bytes: Uint8Array, name: string, expectedDims?: number): IdxArray {
  if (bytes.byteLength < 4) throw new DataError(`${name}: ${bytes.byteLength} bytes is too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = (magic >> 8) & 0xff;
  const dims = magic & 0xff;
  if (magic >>> 16 !== 0 || dims === 0) {
    throw new DataError(`${name}: not an IDX file (magic 0x${magic.toString(16).padStart(8, '0')}); is it compressed (.gz)?`);
  }
  if (type !== UBYTE) throw new DataError(`${name}: IDX element type 0x${type.toString(16)} is not unsigned byte (0x08)`);
  if (expectedDims !== undefined && dims !== expectedDims) {
    throw new DataError(`${name}: expected ${expectedDims} dimensions, the header says ${dims}`);
  }
  const headerBytes = 4 + 4 * dims;
  if (bytes.byteLength < headerBytes) throw new DataError(`${name}: truncated header`);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== headerBytes + count) {
    throw new DataError(
      `${name}: header says ${shape.join('x')} = ${count} bytes of data, the file has ${bytes.byteLength - headerBytes}` +
        ' (truncated or corrupt download)',
    );
  }
  return { shape, data: bytes.subarray(headerBytes) };
}

/** An unsigned-byte IDX file holding `data` with `shape` (the inverse of parseIdx). */
export function encodeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.length || shape.some((n) => !Number.isInteger(n) || n < 0 || n > 0xffffffff)) {
    throw new DataError(`IDX: shape [${shape.join(', ')}] is not a list of u32 sizes`);
  }
  if (data.byteLength !== count) throw new DataError(`IDX: shape [${shape.join(', ')}] holds ${count} bytes, the data has ${data.byteLength}`);
  const headerBytes = 4 + 4 * shape.length;
  const out = new Uint8Array(headerBytes + count);
  const view = new DataView(out.buffer);
  view.setUint32(0, (UBYTE << 8) | shape.length, false);
  shape.forEach((n, i) => view.setUint32(4 + 4 * i, n, false));
  out.set(data, headerBytes);
  return out;
}
