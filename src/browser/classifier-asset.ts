// The MNIST classifier for the page's quality chart: a static asset made at build time
// (scripts/build-classifier-asset.ts) from the weights `npm run eval` uses, with the mean and
// covariance of its features on the MNIST test images, so the page computes neither. It is
// fetched when a preset first measures quality (2.2 MB), with progress, and kept in a Cache
// API cache of its own, as the data assets are.

import { MnistClassifier } from '../eval/classifier.ts';
import type { GaussianStats } from '../eval/frechet.ts';
import type { GpuContext } from '../gpu/context.ts';
import { CheckpointError, decodeSafetensors } from '../io/safetensors.ts';
import { fetchDataAsset, type ProgressCallback } from './mnist-asset.ts';

const CACHE_NAME = 'webgpu-gan-classifier';
/** The asset's tensors beside the classifier's (scripts/build-classifier-asset.ts writes them). */
const REAL_MEAN = 'real.mean';
const REAL_COV = 'real.cov';

export interface PageClassifier {
  classifier: MnistClassifier;
  /** Feature statistics of the real test images. */
  real: GaussianStats;
  /** The classifier's test accuracy, as measured when it was trained. */
  testAccuracy: number;
}

/** The classifier and the real features' statistics from the asset's (gunzipped) bytes. */
export function parseClassifierAsset(ctx: GpuContext, bytes: Uint8Array, what = 'MNIST classifier asset'): PageClassifier {
  const { tensors, metadata } = decodeSafetensors(bytes, what);
  const mean = tensors.get(REAL_MEAN);
  const cov = tensors.get(REAL_COV);
  const dim = mean?.shape[0] ?? 0;
  if (!mean || !cov || mean.shape.length !== 1 || cov.shape.join() !== `${dim},${dim}` || mean.dtype !== 'F32' || cov.dtype !== 'F32') {
    throw new CheckpointError(`${what}: '${REAL_MEAN}' [d] and '${REAL_COV}' [d, d] f32 are missing; rebuild the page`);
  }
  const { classifier } = MnistClassifier.fromSafetensors(ctx, bytes, what);
  if (classifier.featureSize !== dim) {
    classifier.destroy();
    throw new CheckpointError(`${what}: the real statistics have ${dim} features, the classifier ${classifier.featureSize}`);
  }
  const real: GaussianStats = { dim, count: Number(metadata.realCount) || 0, mean: Float64Array.from(mean.data), cov: Float64Array.from(cov.data) };
  return { classifier, real, testAccuracy: Number(metadata.testAccuracy) };
}

/** Fetches (or reads from the cache) and parses the asset at `url`. */
export async function loadClassifierAsset(ctx: GpuContext, url: string, onProgress?: ProgressCallback): Promise<PageClassifier> {
  const what = 'MNIST classifier asset';
  return parseClassifierAsset(ctx, await fetchDataAsset(url, CACHE_NAME, what, onProgress), what);
}
