// The four MNIST-layout IDX files (MNIST_FILES order) back to back in one byte array: the form
// of the page's data assets and of the Fashion-MNIST cache. IDX headers state their own sizes,
// so the concatenation needs no framing of its own. Platform-free.

import { DataError } from './idx.ts';
import { MNIST_FILES, type MnistFiles } from './mnist.ts';

const FILE_KEYS = Object.keys(MNIST_FILES) as (keyof typeof MNIST_FILES)[];

/** Bytes of one IDX file starting at `offset` of `bytes`, read from its header. */
function idxLength(bytes: Uint8Array, offset: number, name: string, what: string): number {
  if (bytes.byteLength < offset + 4) throw new DataError(`${what}: ${name} is missing (the bytes end at ${bytes.byteLength})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, bytes.byteLength - offset);
  const dims = view.getUint8(3);
  if (view.getUint16(0) !== 0 || view.getUint8(2) !== 0x08 || dims === 0) {
    throw new DataError(`${what}: ${name} at byte ${offset} does not start with an unsigned-byte IDX header`);
  }
  if (view.byteLength < 4 + 4 * dims) throw new DataError(`${what}: ${name}'s header is truncated`);
  let count = 1;
  for (let i = 0; i < dims; i++) count *= view.getUint32(4 + 4 * i);
  return 4 + 4 * dims + count;
}

export function packMnistBundle(files: MnistFiles): Uint8Array {
  const parts = FILE_KEYS.map((key) => files[key]);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** The four files of a bundle (views into `bytes`); `what` names the bundle in errors. */
export function unpackMnistBundle(bytes: Uint8Array, what: string): MnistFiles {
  const files: Partial<MnistFiles> = {};
  let offset = 0;
  for (const key of FILE_KEYS) {
    const length = idxLength(bytes, offset, MNIST_FILES[key], what);
    if (offset + length > bytes.byteLength) throw new DataError(`${what}: ${MNIST_FILES[key]} is truncated (a partial download or write?)`);
    files[key] = bytes.subarray(offset, offset + length);
    offset += length;
  }
  if (offset !== bytes.byteLength) throw new DataError(`${what}: ${bytes.byteLength - offset} bytes follow the four IDX files`);
  return files as MnistFiles;
}
