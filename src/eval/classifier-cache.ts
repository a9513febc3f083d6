// The Node edge of the classifier: its weights cached on disk, trained on first use. The cache
// lives in node_modules/.cache/webgpu-gan/ (or $WEBGPU_GAN_CACHE), one safetensors file per
// classifier spec, named by a hash of the spec, so changing the architecture or the training
// retrains instead of loading stale weights. The file records the adapter it was trained on,
// its training time and its test accuracy.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mnist } from '../data/mnist.ts';
import type { GpuContext } from '../gpu/context.ts';
import { describeNetwork } from '../nn/network.ts';
import { CLASSIFIER_FORMAT, MNIST_CLASSIFIER, MnistClassifier, type ClassifierSpec } from './classifier.ts';

export function defaultClassifierCacheDir(): string {
  return process.env.WEBGPU_GAN_CACHE || fileURLToPath(new URL('../../node_modules/.cache/webgpu-gan/', import.meta.url));
}

export function classifierCachePath(spec: ClassifierSpec = MNIST_CLASSIFIER, dir = defaultClassifierCacheDir()): string {
  const hash = createHash('sha256').update(`${CLASSIFIER_FORMAT}\n${JSON.stringify(spec)}`).digest('hex').slice(0, 12);
  return join(dir, `mnist-classifier-${hash}.safetensors`);
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
  spec?: ClassifierSpec;
  cacheDir?: string;
  /** Train even when a cached file exists (and overwrite it). */
  retrain?: boolean;
  /** Progress lines (training notices and epochs); default: none. */
  log?: (line: string) => void;
}

/** The cached classifier for `spec`, or a freshly trained one (then cached). */
export async function loadOrTrainClassifier(ctx: GpuContext, mnist: Mnist, opts: LoadClassifierOptions = {}): Promise<LoadedClassifier> {
  const spec = opts.spec ?? MNIST_CLASSIFIER;
  const path = classifierCachePath(spec, opts.cacheDir ?? defaultClassifierCacheDir());
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
        return { classifier, path, trained: false, trainingSeconds: 0, testAccuracy: Number(metadata.testAccuracy) };
      } catch (e) {
        log(`the cached classifier ${path} is unreadable (${(e as Error).message}); training a new one`);
      }
    }
  }
  const layers = describeNetwork('classifier', spec.net);
  log(`${opts.retrain ? 'retraining' : `no cached classifier at ${path}: training`} the MNIST classifier (${layers}, ${spec.training.epochs} epochs of batch ${spec.training.batch}, Adam ${spec.training.lr})`);
  const began = performance.now();
  const classifier = await MnistClassifier.train(ctx, mnist.train, spec, {
    onEpoch: (r) => log(`  epoch ${r.epoch}/${spec.training.epochs}: mean cross-entropy ${r.loss.toFixed(4)}, ${r.seconds.toFixed(1)} s`),
  });
  const trainingSeconds = (performance.now() - began) / 1000;
  const testAccuracy = await classifier.accuracy(mnist.test);
  log(`trained in ${trainingSeconds.toFixed(1)} s; test accuracy ${(100 * testAccuracy).toFixed(2)}%; cached at ${path}`);
  const bytes = await classifier.toSafetensors({ testAccuracy: String(testAccuracy), trainingSeconds: trainingSeconds.toFixed(1) });
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return { classifier, path, trained: true, trainingSeconds, testAccuracy };
}
