// The sampler runs G over its noise SAMPLE_BATCH rows at a time: a sample does not depend on
// how many were asked for (the noise is keyed by row, and G's rows are independent at
// sampling time), and a sample's shape is the data's. With batch statistics (--bn-stats
// batch) G's batch norm layers normalise each training batch of rows on its own, and the
// samples are those of the float64 twin in training mode, batch by batch.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hostRandom } from '../src/checks/check.ts';
import { readCheckpoint } from '../src/gan/checkpoint.ts';
import { preset } from '../src/gan/presets.ts';
import { SAMPLE_BATCH, Sampler } from '../src/gan/sampler.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { ShapeError } from '../src/gpu/errors.ts';
import { randomCheckpoint, syntheticCheckpoint, twinForward } from './checkpoint-fixture.ts';
import { openTestContext } from './gpu.ts';

let ctx: GpuContext;
let sampler: Sampler;
beforeAll(async () => {
  ctx = await openTestContext();
  sampler = new Sampler(ctx, readCheckpoint(syntheticCheckpoint(), 'toy.safetensors'));
});
afterAll(async () => {
  sampler?.destroy();
  await ctx?.destroy();
});

describe('Sampler', () => {
  test('samples in chunks of SAMPLE_BATCH rows are the samples of a smaller request, row for row', async () => {
    const n = 2 * SAMPLE_BATCH + 88;
    const many = await sampler.sample(n, 3);
    expect(many).toHaveLength(n);
    expect(many.every(Number.isFinite)).toBe(true);
    // Whole chunks run exactly as a request of that size does.
    expect(many.subarray(0, 2 * SAMPLE_BATCH)).toEqual(await sampler.sample(2 * SAMPLE_BATCH, 3));
    // The last, partial chunk: the same noise rows, G run on fewer rows at once.
    const more = await sampler.sample(4 * SAMPLE_BATCH, 3);
    for (let i = 2 * SAMPLE_BATCH; i < n; i++) expect(Math.abs(many[i] - more[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(more[i])));
    // Another seed, other samples; the same seed, the same bits.
    expect(await sampler.sample(n, 4)).not.toEqual(many);
    expect(await sampler.sample(n, 3)).toEqual(many);
  });

  test('a sample\'s shape is the data\'s', () => {
    expect(sampler.sampleShape).toEqual([1]);
  });
});

describe('Sampler with batch statistics', () => {
  // dcgan's G at batch 8: a chunk of 8 noise rows is 3,200 bytes, so every other chunk starts
  // off the 256-byte boundary a storage view needs and is copied to a buffer of its own.
  const config = { ...preset('dcgan'), batch: 8 };
  const ckpt = randomCheckpoint(config, 5);
  // Keep tanh out of saturation, where any two answers agree.
  for (const v of [ckpt.tensors.get('generator.5.weight')!.data]) v.forEach((x, i) => (v[i] = 0.02 * x));
  // Float32 sums of up to 512 terms and batch statistics over 8 rows: 1e-5 (measured within
  // 1e-8), where the two modes' samples differ by up to 0.045 here.
  const tol = (want: number) => 1e-5 * (1 + Math.abs(want));
  const worstExcess = (got: Float32Array, want: Float64Array) => Math.max(...Array.from(got, (g, i) => Math.abs(g - want[i]) / tol(want[i])));

  test('each training batch of rows is normalised on its own, as the float64 twin in training mode', async () => {
    const rows = 3 * config.batch;
    const next = hostRandom(9);
    const z = Float32Array.from({ length: rows * 100 }, () => 2 * next() - 1);
    const batch = new Sampler(ctx, ckpt, { normalisation: 'batch' });
    const running = new Sampler(ctx, ckpt);
    try {
      const [b, r] = [await batch.generate(z), await running.generate(z)];
      const perBatch = new Float64Array(b.length);
      const dim = b.length / rows;
      for (let start = 0; start < rows; start += config.batch) {
        const x = Float64Array.from(z.subarray(start * 100, (start + config.batch) * 100));
        perBatch.set(twinForward(ckpt, 'generator', x, config.batch, true), start * dim);
      }
      expect(worstExcess(b, perBatch)).toBeLessThanOrEqual(1);
      expect(worstExcess(r, twinForward(ckpt, 'generator', Float64Array.from(z), rows))).toBeLessThanOrEqual(1);
      // The two modes differ here, so neither comparison above could pass for the other.
      expect(worstExcess(b, twinForward(ckpt, 'generator', Float64Array.from(z), rows))).toBeGreaterThan(100);
      // Rows that are not whole training batches have no batch statistics of their own.
      await expect(batch.generate(z.subarray(0, 12 * 100))).rejects.toThrow(ShapeError);
      await expect(batch.generate(z.subarray(0, 12 * 100))).rejects.toThrow(/not a multiple of 8/);
    } finally {
      batch.destroy();
      running.destroy();
    }
  }, 60_000);

  test('sample(n) draws whole training batches and keeps the first n rows', async () => {
    const sampler = new Sampler(ctx, ckpt, { normalisation: 'batch' });
    try {
      const some = await sampler.sample(13, 2);
      const whole = await sampler.sample(16, 2);
      expect(some).toHaveLength(13 * 784);
      expect(some.every(Number.isFinite)).toBe(true);
      expect(some).toEqual(whole.subarray(0, 13 * 784));
    } finally {
      sampler.destroy();
    }
  }, 60_000);
});
