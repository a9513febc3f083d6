// Writes the page's MNIST classifier asset (src/browser/classifier-asset.ts reads it): the
// weights `npm run eval` scores MNIST samples with, and the mean and covariance of its features
// on the 10,000 MNIST test images (the reference of the Fréchet distance), in one gzip'd
// safetensors file. It starts from the Node cache of the classifier (training it first, about
// two minutes on two CPU cores, when there is none) and is rebuilt whenever that cache file is
// newer. The vite config runs this in a child process before every dev server and build (it
// needs Dawn and the engine's WGSL); run it by hand with
// `node --import ./scripts/register.mjs scripts/build-classifier-asset.ts [OUT]`.

import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { loadMnist } from '../src/data/mnist-node.ts';
import { classifierCachePath, loadOrTrainClassifier } from '../src/eval/classifier-cache.ts';
import { realFeatureStats } from '../src/eval/classifier-score.ts';
import { openNodeContext } from '../src/gpu/node.ts';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the asset is written: git-ignored, imported by the page with `?url` so vite hashes it. */
export const CLASSIFIER_ASSET_PATH = join(ROOT, '.cache', 'classifier-asset', 'mnist-classifier.safetensors.gz');

/** The asset's tensors beside the classifier's: the real test features' mean [dim] and covariance [dim, dim]. */
export const REAL_MEAN = 'real.mean';
export const REAL_COV = 'real.cov';

/** Builds the asset unless it is newer than the cached classifier; returns its path. */
export async function buildClassifierAsset(out = CLASSIFIER_ASSET_PATH, log: (line: string) => void = () => undefined): Promise<string> {
  const cachePath = classifierCachePath();
  const source = await stat(cachePath).catch(() => null);
  const existing = await stat(out).catch(() => null);
  if (source && existing && existing.mtimeMs >= source.mtimeMs && existing.size > 0) return out;
  const ctx = await openNodeContext();
  try {
    const mnist = await loadMnist();
    const { classifier, path } = await loadOrTrainClassifier(ctx, mnist, { log });
    try {
      const real = await realFeatureStats(classifier, mnist.test);
      const { tensors, metadata } = decodeSafetensors(new Uint8Array(await readFile(path)), path);
      tensors.set(REAL_MEAN, { dtype: 'F32', shape: [real.dim], data: Float32Array.from(real.mean) });
      tensors.set(REAL_COV, { dtype: 'F32', shape: [real.dim, real.dim], data: Float32Array.from(real.cov) });
      const bytes = encodeSafetensors(tensors, { ...metadata, realStats: `features of the MNIST test split (${real.count} images)`, realCount: String(real.count) });
      await mkdir(dirname(out), { recursive: true });
      const tmp = `${out}.${process.pid}.tmp`;
      await writeFile(tmp, gzipSync(bytes, { level: 6 }));
      await rename(tmp, out);
    } finally {
      classifier.destroy();
    }
  } finally {
    await ctx.destroy();
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const path = await buildClassifierAsset(process.argv[2] ? resolve(process.argv[2]) : undefined, (line) => console.log(line));
  const { size } = await stat(path);
  console.log(`${path}: ${(size / 1e6).toFixed(2)} MB (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
