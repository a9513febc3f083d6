// The GPU evaluations: the Parzen estimate against a float64 computation on a subset (200
// samples x 50 test images, all 10 sigmas) and the whole protocol's sigma choice; the MNIST
// classifier's accuracy (the cached one if present, else a short training) and determinism.

import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EPS32 } from '../src/checks/check.ts';
import { loadMnist } from '../src/data/mnist-node.ts';
import type { Mnist } from '../src/data/mnist.ts';
import { MnistClassifier, type ClassifierSpec } from '../src/eval/classifier.ts';
import { classifierCachePath } from '../src/eval/classifier-cache.ts';
import { mnistPixels, parzenEvaluate, parzenLogDensities, parzenLogDensitiesF64, parzenLogNormalizer, PARZEN_SIGMAS } from '../src/eval/parzen.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { openTestContext } from './gpu.ts';

let ctx: GpuContext;
let mnist: Mnist;
beforeAll(async () => {
  ctx = await openTestContext();
  mnist = await loadMnist();
});
afterAll(async () => {
  await ctx?.destroy();
});

const DIM = 784;

/**
 * The worst-case (first-order) error of the GPU's log density of point i, from how it is
 * computed: |x - s|^2 = |x|^2 + |s|^2 - 2 x.s, each a sum of K = 784 products, errs by at most
 * (K + 3) u (|x|^2 + |s|^2 + 2 x.s) (pixels are >= 0, so sum |x_k s_k| = x.s; the +3 are
 * the kernel's own roundings forming the distance); log-sum-exp is 1-Lipschitz in its values,
 * which are the distances over 2 sigma^2; the reduction itself adds u (7 N + 5 ln N + |result|).
 */
function parzenBound(samples: Float32Array, points: Float32Array, sigma: number, want: number, i: number): number {
  const n = samples.length / DIM;
  const sq = (a: Float32Array, r: number) => a.subarray(r * DIM, (r + 1) * DIM).reduce((s, v) => s + v * v, 0);
  const xx = sq(points, i);
  let worst = 0;
  for (let j = 0; j < n; j++) {
    let dot = 0;
    for (let k = 0; k < DIM; k++) dot += points[i * DIM + k] * samples[j * DIM + k];
    worst = Math.max(worst, xx + sq(samples, j) + 2 * dot);
  }
  return ((DIM + 3) * EPS32 * worst) / (2 * sigma * sigma) + EPS32 * (7 * n + 5 * Math.log(n) + Math.abs(want)) + 2 ** -21;
}

describe('Parzen window log-likelihood', () => {
  test('GPU matches float64 on 200 samples x 50 test images, all 10 sigmas', async () => {
    // Stand-in "generated" samples: training images 0..199; they hold digits like the test images.
    const samples = mnistPixels(mnist.train, 0, 200);
    const points = mnistPixels(mnist.test, 0, 50);
    // Chunks of 16 points: 3 full chunks and a partial one, so the chunking is exercised.
    const gpu = await parzenLogDensities(ctx, samples, points, DIM, PARZEN_SIGMAS, { chunkRows: 16 });
    const ref = parzenLogDensitiesF64(samples, points, DIM, PARZEN_SIGMAS);
    PARZEN_SIGMAS.forEach((sigma, k) => {
      for (let i = 0; i < points.length / DIM; i++) {
        const err = Math.abs(gpu[k][i] - ref[k][i]);
        expect(err, `sigma ${sigma}, point ${i}: gpu ${gpu[k][i]}, f64 ${ref[k][i]}`).toBeLessThanOrEqual(parzenBound(samples, points, sigma, ref[k][i], i));
      }
    });
    // The log densities are a real signal here, not noise: they vary by tens of nats between sigmas.
    expect(Math.abs(ref[0][0] - ref[9][0])).toBeGreaterThan(10);
  });

  test('known answers: a sample at the point, and two samples at the same distance', async () => {
    const point = Float32Array.from({ length: DIM }, (_, k) => (k % 3) / 2);
    const far = point.map((v, k) => (k < 4 ? 1 - v : v));
    const sigma = 0.5;
    const [[same]] = await parzenLogDensities(ctx, point, point, DIM, [sigma]);
    // N(x; x, sigma^2 I) = (sigma sqrt(2 pi))^-d; the distance is exactly 0 on the GPU too.
    expect(same).toBeCloseTo(parzenLogNormalizer(1, DIM, sigma), 3);
    const [[two]] = await parzenLogDensities(ctx, Float32Array.from([...far, ...far]), point, DIM, [sigma]);
    const d2 = far.reduce((s, v, k) => s + (v - point[k]) ** 2, 0);
    expect(two).toBeCloseTo(-d2 / (2 * sigma * sigma) + parzenLogNormalizer(1, DIM, sigma), 3);
    expect(parzenLogDensitiesF64(Float32Array.from([...far, ...far]), point, DIM, [sigma])[0][0]).toBeCloseTo(two, 3);
  });

  test('the protocol picks the validation-best sigma and reports the test mean and standard error', async () => {
    const samples = mnistPixels(mnist.train, 0, 300);
    const validation = mnistPixels(mnist.train, 50_000, 40);
    const testPoints = mnistPixels(mnist.test, 0, 30);
    const r = await parzenEvaluate(ctx, samples, validation, testPoints, DIM);
    const refValidation = parzenLogDensitiesF64(samples, validation, DIM, PARZEN_SIGMAS).map((ll) => ll.reduce((a, b) => a + b, 0) / ll.length);
    const best = refValidation.indexOf(Math.max(...refValidation));
    expect(r.sigma).toBe(PARZEN_SIGMAS[best]);
    expect(r.validation.map((v) => v.sigma)).toEqual(PARZEN_SIGMAS);
    const [ll] = parzenLogDensitiesF64(samples, testPoints, DIM, [r.sigma]);
    const mean = ll.reduce((a, b) => a + b, 0) / ll.length;
    const std = Math.sqrt(ll.reduce((s, v) => s + (v - mean) ** 2, 0) / ll.length);
    expect(r.mean).toBeCloseTo(mean, 1);
    expect(r.stderr).toBeCloseTo(std / Math.sqrt(ll.length), 1);
    expect(r).toMatchObject({ testPoints: 30, validationPoints: 40, samples: 300 });
  });

  test('bad shapes are refused before any GPU work', async () => {
    await expect(parzenLogDensities(ctx, new Float32Array(10), new Float32Array(DIM), DIM, [0.1])).rejects.toThrow(/samples holds 10 values/);
    await expect(parzenLogDensities(ctx, new Float32Array(DIM), new Float32Array(DIM), DIM, [0])).rejects.toThrow(/sigmas must be positive/);
  });
});

describe('MNIST classifier', () => {
  const cached = classifierCachePath();

  test.runIf(existsSync(cached))('the cached classifier reaches >= 97% test accuracy', async () => {
    const { classifier, metadata } = MnistClassifier.fromSafetensors(ctx, new Uint8Array(readFileSync(cached)), cached);
    try {
      const accuracy = await classifier.accuracy(mnist.test);
      expect(accuracy).toBeGreaterThanOrEqual(0.97);
      // The accuracy recorded at training time agrees (exactly, unless the kernels changed since).
      expect(Math.abs(Number(metadata.testAccuracy) - accuracy)).toBeLessThan(0.005);
    } finally {
      classifier.destroy();
    }
  });

  test.skipIf(existsSync(cached))('without a cache: a short training (784-64-10, one epoch) reaches >= 93%', async () => {
    // One epoch of a small net: ~95% on lavapipe. A linear classifier tops out near 92%, chance is 10%.
    const spec: ClassifierSpec = {
      net: { input: DIM, layers: [{ units: 64, activation: 'relu' }, { units: 10, activation: 'identity' }], init: 'he' },
      training: { epochs: 1, batch: 100, lr: 2e-3, seed: 0 },
    };
    const classifier = await MnistClassifier.train(ctx, mnist.train, spec);
    try {
      expect(await classifier.accuracy(mnist.test)).toBeGreaterThanOrEqual(0.93);
    } finally {
      classifier.destroy();
    }
  });

  test('training is deterministic, and the weights round-trip through safetensors', async () => {
    const spec: ClassifierSpec = {
      net: { input: DIM, layers: [{ units: 32, activation: 'relu' }, { units: 16, activation: 'relu' }, { units: 10, activation: 'identity' }], init: 'he' },
      training: { epochs: 2, batch: 50, lr: 1e-3, seed: 3, rows: 1000 },
    };
    const losses: number[][] = [[], []];
    const [a, b] = [
      await MnistClassifier.train(ctx, mnist.train, spec, { onEpoch: (r) => losses[0].push(r.loss) }),
      await MnistClassifier.train(ctx, mnist.train, spec, { onEpoch: (r) => losses[1].push(r.loss) }),
    ];
    try {
      expect(losses[0]).toEqual(losses[1]);
      expect(losses[0][1]).toBeLessThan(losses[0][0]);
      const [bytesA, bytesB] = [await a.toSafetensors(), await b.toSafetensors()];
      expect(bytesB).toEqual(bytesA);
      const { classifier: c } = MnistClassifier.fromSafetensors(ctx, bytesA);
      try {
        const images = mnistPixels(mnist.test, 0, 1500);
        const [pa, pc] = [await a.predict(images), await c.predict(images)];
        expect(pc.logits).toEqual(pa.logits);
        expect(pc.features).toEqual(pa.features);
        expect(pa.features.length).toBe(1500 * 16);
      } finally {
        c.destroy();
      }
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  test('a spec without a hidden layer or with another output width is refused', async () => {
    const bad = (layers: ClassifierSpec['net']['layers']): ClassifierSpec => ({ net: { input: DIM, layers, init: 'he' }, training: { epochs: 1, batch: 10, lr: 1e-3, seed: 0 } });
    await expect(MnistClassifier.train(ctx, mnist.train, bad([{ units: 10, activation: 'identity' }]))).rejects.toThrow(/needs a hidden layer/);
    await expect(MnistClassifier.train(ctx, mnist.train, bad([{ units: 8, activation: 'relu' }, { units: 9, activation: 'identity' }]))).rejects.toThrow(/must end in 10 logits/);
  });
});
