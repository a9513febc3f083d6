// The sampler runs G over its noise SAMPLE_BATCH rows at a time: a sample does not depend on
// how many were asked for (the noise is keyed by row, and G's rows are independent at
// sampling time), and a sample's shape is the data's.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readCheckpoint } from '../src/gan/checkpoint.ts';
import { SAMPLE_BATCH, Sampler } from '../src/gan/sampler.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { syntheticCheckpoint } from './checkpoint-fixture.ts';
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
