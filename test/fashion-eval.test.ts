// Fashion-MNIST evaluation: its classifier (the cached one if present, else a short training),
// the classifiers' cache names (MNIST's unchanged), a generator scored as Fashion-MNIST
// through evaluateGenerator's data set parameter, and the CLI's --data flag.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadFashion } from '../src/data/fashion-node.ts';
import type { Mnist } from '../src/data/mnist.ts';
import { CLASSIFIER_SPECS, FASHION_CLASSIFIER, MNIST_CLASSIFIER, MnistClassifier, type ClassifierSpec } from '../src/eval/classifier.ts';
import { classifierCachePath } from '../src/eval/classifier-cache.ts';
import { realFeatureStats } from '../src/eval/classifier-score.ts';
import { evaluateGenerator } from '../src/eval/evaluate.ts';
import { featureStats, frechetDistance } from '../src/eval/frechet.ts';
import { CHECKPOINT_FORMAT, type CheckpointContents } from '../src/gan/checkpoint.ts';
import { preset } from '../src/gan/presets.ts';
import { Sampler } from '../src/gan/sampler.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { encodeSafetensors, type SafeTensor } from '../src/io/safetensors.ts';
import { openTestContext } from './gpu.ts';

const ROOT = join(import.meta.dirname, '..');

let ctx: GpuContext;
let fashion: Mnist;
beforeAll(async () => {
  ctx = await openTestContext();
  fashion = await loadFashion();
});
afterAll(async () => {
  await ctx?.destroy();
});

/** A small classifier for the tests that need one but not its accuracy: seconds to train. */
const SMALL: ClassifierSpec = {
  net: { input: 784, layers: [{ units: 32, activation: 'relu' }, { units: 16, activation: 'relu' }, { units: 10, activation: 'identity' }], init: 'he' },
  training: { epochs: 1, batch: 50, lr: 2e-3, seed: 1, rows: 3000 },
};

describe('classifier cache names', () => {
  test("MNIST's name and hash are what they were; Fashion's differ and follow its spec", () => {
    // The hash every MNIST classifier cached before Fashion-MNIST existed was filed under.
    expect(basename(classifierCachePath())).toBe('mnist-classifier-38fe01094767.safetensors');
    expect(classifierCachePath(MNIST_CLASSIFIER, '/c', 'mnist')).toBe('/c/mnist-classifier-38fe01094767.safetensors');
    expect(CLASSIFIER_SPECS).toEqual({ mnist: MNIST_CLASSIFIER, fashion: FASHION_CLASSIFIER });
    const fashionPath = classifierCachePath(undefined, '/c', 'fashion');
    expect(fashionPath).toMatch(/^\/c\/fashion-classifier-[0-9a-f]{12}\.safetensors$/);
    expect(classifierCachePath(FASHION_CLASSIFIER, '/c', 'fashion')).toBe(fashionPath);
    // The same spec on the other data set is another file.
    expect(classifierCachePath(MNIST_CLASSIFIER, '/c', 'fashion')).not.toMatch(/38fe01094767/);
  });
});

describe('Fashion-MNIST classifier', () => {
  const cached = classifierCachePath(undefined, undefined, 'fashion');

  test.runIf(existsSync(cached))('the cached classifier reaches >= 88% test accuracy', async () => {
    const { classifier, metadata } = MnistClassifier.fromSafetensors(ctx, new Uint8Array(readFileSync(cached)), cached);
    try {
      expect(classifier.spec).toEqual(FASHION_CLASSIFIER);
      expect(metadata.dataset).toBe('fashion');
      const accuracy = await classifier.accuracy(fashion.test);
      expect(accuracy).toBeGreaterThanOrEqual(0.88);
      // The accuracy recorded at training time agrees (exactly, unless the kernels changed since).
      expect(Math.abs(Number(metadata.testAccuracy) - accuracy)).toBeLessThan(0.005);
    } finally {
      classifier.destroy();
    }
  });

  test.skipIf(existsSync(cached))('without a cache: a short training (784-64-10, one epoch) reaches >= 82%', async () => {
    // `npm run train-classifier -- --data fashion` trains and caches the full one (7 to 12
    // minutes on 2 cores). One epoch of this small net: 84.7% on lavapipe, in 8 s; chance is 10%.
    const spec: ClassifierSpec = {
      net: { input: 784, layers: [{ units: 64, activation: 'relu' }, { units: 10, activation: 'identity' }], init: 'he' },
      training: { epochs: 1, batch: 100, lr: 2e-3, seed: 0 },
    };
    const classifier = await MnistClassifier.train(ctx, fashion.train, spec);
    try {
      expect(await classifier.accuracy(fashion.test)).toBeGreaterThanOrEqual(0.82);
    } finally {
      classifier.destroy();
    }
  });
});

/** A checkpoint's contents for an untrained MNIST-preset generator with fixed random weights. */
function untrainedGenerator(): CheckpointContents {
  const config = preset('mnist');
  const sizes = [config.generator.input as number, ...config.generator.layers.map((l) => (l as { units: number }).units)];
  const tensors = new Map<string, SafeTensor>();
  let state = 12345;
  const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const scale = Math.sqrt(3 / sizes[l]);
    tensors.set(`generator.${l}.weight`, { dtype: 'F32', shape: [sizes[l], sizes[l + 1]], data: Float32Array.from({ length: sizes[l] * sizes[l + 1] }, () => uniform() * scale) });
    tensors.set(`generator.${l}.bias`, { dtype: 'F32', shape: [sizes[l + 1]], data: new Float32Array(sizes[l + 1]) });
  }
  return { config, iteration: 0, tensors, metadata: {} };
}

describe('evaluateGenerator on Fashion-MNIST', () => {
  test("the data set parameter selects Fashion-MNIST's test split and classifier; the report says so", async () => {
    const classifier = await MnistClassifier.train(ctx, fashion.train, SMALL);
    const sampler = new Sampler(ctx, untrainedGenerator());
    try {
      const opts = { dataset: 'fashion' as const, images: fashion, classifier, classifierAccuracy: 0.5, samples: 400 };
      const report = await evaluateGenerator(ctx, sampler, opts);
      expect(report.dataset).toBe('fashion');
      expect(report.parzen).toMatchObject({ samples: 400, validationPoints: 1000, testPoints: 10_000 });
      expect(Number.isFinite(report.parzen?.mean)).toBe(true);
      const score = report.classifier!;
      expect(score).toMatchObject({ samples: 400, featureSize: 16, testAccuracy: 0.5 });
      expect(score.histogram.reduce((a, b) => a + b, 0)).toBe(400);
      // The Fréchet distance is against Fashion-MNIST's test features, recomputed here.
      const samples = await sampler.sample(400, 0);
      const { features } = await classifier.predict(samples);
      expect(score.frechetDistance).toBe(frechetDistance(featureStats(features, 16), await realFeatureStats(classifier, fashion.test)));
      // Same samples, same classifier: the evaluation repeats bit for bit.
      const again = await evaluateGenerator(ctx, sampler, { ...opts, skipParzen: true });
      expect(again.classifier?.frechetDistance).toBe(score.frechetDistance);
      expect(again.classifier?.histogram).toEqual(score.histogram);
      await expect(evaluateGenerator(ctx, sampler, { dataset: 'fashion', samples: 10 })).rejects.toThrow(/evaluating 'mnist' \(Fashion-MNIST\) needs the Fashion-MNIST data/);
    } finally {
      sampler.destroy();
      classifier.destroy();
    }
  });
});

function evalCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', './scripts/register.mjs', 'src/cli/eval.ts', ...args], { cwd: ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run eval --data', () => {
  test('an unknown data set, or one the checkpoint does not hold, is a usage error (exit 2) before any GPU work', async () => {
    const unknown = await evalCli(['--train-classifier', '--data', 'cifar']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: --data must be one of mnist, fashion, got 'cifar'\n\nusage: npm run eval/);
    // A ring8 checkpoint's header is enough: the mismatch is found before its tensors are read.
    const path = join(mkdtempSync(join(tmpdir(), 'fashion-eval-')), 'ring8.safetensors');
    writeFileSync(path, encodeSafetensors(new Map(), { format: CHECKPOINT_FORMAT, config: JSON.stringify(preset('ring8')), iteration: '0' }));
    const mismatch = await evalCli(['--checkpoint', path, '--data', 'fashion']);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/^error: --data fashion does not match the checkpoint's data \('mixture'\)/);
    expect(mismatch.stdout).not.toMatch(/adapter:/);
  });
});
