// Checkpoints written before networks became sequences of layers (test/fixtures/, made by
// make-legacy-checkpoints.ts at commit 9304a82) load into today's trainer, and five more
// iterations land where the old code landed: the same tensor names, layouts and update order.

import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadMnist } from '../src/data/mnist-node.ts';
import type { Mnist } from '../src/data/mnist.ts';
import { readCheckpoint, saveCheckpoint, trainerFromCheckpoint } from '../src/gan/checkpoint.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { LEGACY_FIXTURES } from './fixtures/legacy-configs.ts';
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

const fixture = async (file: string) => readCheckpoint(new Uint8Array(await readFile(new URL(`./fixtures/${file}`, import.meta.url))), file);

describe('checkpoints written before the layer seam', () => {
  test.each(Object.entries(LEGACY_FIXTURES))('%s resumes where the old code went', async (name, { after }) => {
    const before = await fixture(`legacy-${name}.safetensors`);
    const expected = await fixture(`legacy-${name}.after.safetensors`);
    const trainer = await trainerFromCheckpoint(ctx, before, { mnist });
    // D's one-unit output layer now runs in one kernel with the loss step (kernels/head.ts),
    // which sums in another order than the kernels that wrote the fixtures.
    const sameKernels = !trainer.program.some((s) => s.kind === 'dispatch' && s.pipeline.label.startsWith('head.wgsl'));
    await trainer.run(after);
    const got = readCheckpoint(await saveCheckpoint(trainer));
    trainer.destroy();
    expect(got.iteration).toBe(expected.iteration);
    expect([...got.tensors.keys()].sort()).toEqual([...expected.tensors.keys()].sort());
    // On the adapter that wrote the fixtures (lavapipe) the same kernels give the same bits. On
    // another adapter, or with kernels that sum in another order, a few iterations of Adam and
    // SGD keep weights within 1e-4 of each other, while a tensor read into the wrong place is
    // off by O(1).
    const sameAdapter = sameKernels && expected.metadata.adapter === ctx.adapterLine;
    for (const [key, want] of expected.tensors) {
      const have = got.tensors.get(key)!;
      expect(have.shape, key).toEqual(want.shape);
      if (sameAdapter) {
        expect(Buffer.from(have.data.buffer, have.data.byteOffset, have.data.byteLength).equals(Buffer.from(want.data.buffer, want.data.byteOffset, want.data.byteLength)), `${key} is bit-identical`).toBe(true);
      } else {
        for (let i = 0; i < want.data.length; i++) expect(Math.abs(have.data[i] - want.data[i]), `${key}[${i}]`).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(want.data[i]));
      }
    }
  });
});
