// The Node edge of the classifier: its weights cached on disk, trained on first use. The cache
// lives in node_modules/.cache/webgpu-gan/ (or $WEBGPU_GAN_CACHE), one safetensors file per
// data set and classifier spec, named by a hash of the spec (for Fashion-MNIST, of the spec and
// the converter that made its split), so changing the architecture, the training or the data
// retrains instead of loading stale weights. The file records the data set, the adapter it was
// trained on, its training time and its test accuracy.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGE_DATASET_TITLES, type ImageDataset } from '../data/datasets.ts';
import { engineCacheDir, writeCacheFile } from '../data/disk-cache.ts';
import { FASHION_CONVERTER_VERSION } from '../data/fashion.ts';
import type { Mnist } from '../data/mnist.ts';
import type { GpuContext } from '../gpu/context.ts';
import { describeNetwork } from '../nn/network.ts';
import { CLASSIFIER_FORMAT, CLASSIFIER_SPECS, MnistClassifier, type ClassifierSpec } from './classifier.ts';

export function defaultClassifierCacheDir(): string {
  return engineCacheDir();
}

/** The cache file of `dataset`'s classifier trained as `spec` (default: the data set's spec). */
export function classifierCachePath(spec?: ClassifierSpec, dir = defaultClassifierCacheDir(), dataset: ImageDataset = 'mnist'): string {
  const key = `${CLASSIFIER_FORMAT}\n${JSON.stringify(spec ?? CLASSIFIER_SPECS[dataset])}`;
  // MNIST's key is what it has always been, so existing caches stay valid.
  const hashed = dataset === 'mnist' ? key : `${key}\n${dataset}\n${FASHION_CONVERTER_VERSION}`;
  return join(dir, `${dataset}-classifier-${createHash('sha256').update(hashed).digest('hex').slice(0, 12)}.safetensors`);
}

export interface LoadedClassifier {
  classifier: MnistClassifier;
  path: string;
  /** True when it was trained by this call (no usable cache, or retrain asked). */
  trained: boolean;
  /** Seconds this call spent training (0 when loaded). */
  trainingSeconds: number;
  /** Test accuracy, measured right after training (stored in the cache file). */
  testAccuracy: number;
}

export interface LoadClassifierOptions {
  /** The data set the classifier is for (default 'mnist'); the images passed must be its. */
  dataset?: ImageDataset;
  /** Default: the data set's spec (CLASSIFIER_SPECS). */
  spec?: ClassifierSpec;
  cacheDir?: string;
  /** Train even when a cached file exists (and overwrite it). */
  retrain?: boolean;
  /** Progress lines (training notices and epochs); default: none. */
  log?: (line: string) => void;
}

/** The cached classifier of `images` (the data set `opts.dataset`), or a freshly trained one (then cached). */
export async function loadOrTrainClassifier(ctx: GpuContext, images: Mnist, opts: LoadClassifierOptions = {}): Promise<LoadedClassifier> {
  const dataset = opts.dataset ?? 'mnist';
  const title = IMAGE_DATASET_TITLES[dataset];
  const spec = opts.spec ?? CLASSIFIER_SPECS[dataset];
  const path = classifierCachePath(spec, opts.cacheDir ?? defaultClassifierCacheDir(), dataset);
  const log = opts.log ?? (() => undefined);
  if (!opts.retrain) {
    let bytes: Uint8Array | null = null;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (bytes) {
      try {
        const { classifier, metadata } = MnistClassifier.fromSafetensors(ctx, bytes, path);
        // Files written before the field existed are MNIST's.
        if ((metadata.dataset ?? 'mnist') === dataset) {
          return { classifier, path, trained: false, trainingSeconds: 0, testAccuracy: Number(metadata.testAccuracy) };
        }
        classifier.destroy();
        log(`the cached classifier ${path} is for '${metadata.dataset}', not '${dataset}'; training a new one`);
      } catch (e) {
        log(`the cached classifier ${path} is unreadable (${(e as Error).message}); training a new one`);
      }
    }
  }
  const layers = describeNetwork('classifier', spec.net);
  log(`${opts.retrain ? 'retraining' : `no cached classifier at ${path}: training`} the ${title} classifier (${layers}, ${spec.training.epochs} epochs of batch ${spec.training.batch}, Adam ${spec.training.lr})`);
  const began = performance.now();
  const classifier = await MnistClassifier.train(ctx, images.train, spec, {
    onEpoch: (r) => log(`  epoch ${r.epoch}/${spec.training.epochs}: mean cross-entropy ${r.loss.toFixed(4)}, ${r.seconds.toFixed(1)} s`),
  });
  const trainingSeconds = (performance.now() - began) / 1000;
  const testAccuracy = await classifier.accuracy(images.test);
  log(`trained in ${trainingSeconds.toFixed(1)} s; test accuracy ${(100 * testAccuracy).toFixed(2)}%; cached at ${path}`);
  const bytes = await classifier.toSafetensors({ dataset, testAccuracy: String(testAccuracy), trainingSeconds: trainingSeconds.toFixed(1) });
  await writeCacheFile(path, bytes);
  return { classifier, path, trained: true, trainingSeconds, testAccuracy };
}
