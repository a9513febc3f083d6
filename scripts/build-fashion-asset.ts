// Writes the page's Fashion-MNIST asset (src/browser/fashion-asset.ts describes it): the
// engine's compact form of the `fashion-mnist` package (src/data/fashion.ts), gzip'd. It starts
// from the Node cache of that form (converting the package first if there is none), and is
// rebuilt whenever that cache file is newer, so a changed package or converter reaches it. The
// vite config calls this before every dev server and build, apart from the MNIST asset; run it
// by hand with `node --import ./scripts/register.mjs scripts/build-fashion-asset.ts [OUT]`.

import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { packFashion } from '../src/data/fashion.ts';
import { fashionCachePath, loadFashionWithCache, type FashionLoadOptions } from '../src/data/fashion-node.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the asset is written: git-ignored, imported by the page with `?url` so vite hashes it. */
export const FASHION_ASSET_PATH = join(ROOT, '.cache', 'fashion-asset', 'fashion-idx.gz');

/** Builds the asset unless it is newer than the converted data it comes from; returns its path. */
export async function buildFashionAsset(out = FASHION_ASSET_PATH, opts: FashionLoadOptions = {}): Promise<string> {
  const source = await stat(await fashionCachePath(opts.packageDir, opts.cacheDir, opts.layout)).catch(() => null);
  const existing = await stat(out).catch(() => null);
  if (source && existing && existing.mtimeMs >= source.mtimeMs && existing.size > 0) return out;
  const { fashion } = await loadFashionWithCache(opts);
  // Level 6 gives nearly level 9's size in a third of the time.
  const gz = gzipSync(packFashion(fashion), { level: 6 });
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  await writeFile(tmp, gz);
  await rename(tmp, out);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const path = await buildFashionAsset(process.argv[2] ? resolve(process.argv[2]) : undefined, { log: (line) => console.log(line) });
  const { size } = await stat(path);
  console.log(`${path}: ${(size / 1e6).toFixed(1)} MB (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
