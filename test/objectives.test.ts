// The objectives' presets against the BCE presets on the same sets: ring8-hinge (hinge loss, a
// spectrally normalised D) beside ring8, toy-1d-wgan (Wasserstein with clipping) beside toy-1d.
// Their full trainings are long runs (test/long-runs.ts): judged when cached or when
// WEBGPU_GAN_LONG_TESTS=1. A short guard of each runs on every `npm test`: a few hundred
// iterations must move G where a working objective moves it and a frozen G does not go.

import { describe, expect, test } from 'vitest';
import { modeCoverage, RING8 } from '../src/data/toy.ts';
import { readCheckpoint, saveCheckpoint, type CheckpointContents } from '../src/gan/checkpoint.ts';
import type { GanConfig } from '../src/gan/config.ts';
import { preset } from '../src/gan/presets.ts';
import { Sampler } from '../src/gan/sampler.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import { useGpu } from './gpu.ts';
import { longRun, longRunAvailable } from './long-runs.ts';

const gpu = useGpu();

async function trained(config: GanConfig, iterations: number): Promise<CheckpointContents> {
  const trainer = await GanTrainer.create(gpu.ctx, { ...config, iterations: Math.max(iterations, 1) });
  await trainer.run(iterations);
  const ckpt = readCheckpoint(await saveCheckpoint(trainer));
  trainer.destroy();
  return ckpt;
}

async function samples(ckpt: CheckpointContents, n: number): Promise<Float32Array> {
  const sampler = new Sampler(gpu.ctx, ckpt);
  const x = await sampler.sample(n, 3);
  sampler.destroy();
  return x;
}

function moments(x: Float32Array): { mean: number; std: number } {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  return { mean, std: Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length) };
}

async function fullRun(name: string) {
  const run = (await longRun(gpu.ctx, name, preset(name), {}))!;
  console.log(`${name}: ${run.how}`);
  return run.ckpt;
}

describe('ring8-hinge: hinge loss and spectral normalisation on the ring of 8', () => {
  test('short guard: 1,250 iterations find at least 6 of the 8 modes', async () => {
    // Measured with these samples: 7/8 modes (16.1% high quality) at 1,250 iterations; the
    // untrained G sits on none.
    const before = modeCoverage(await samples(await trained(preset('ring8-hinge'), 0), 2500), RING8);
    const after = modeCoverage(await samples(await trained(preset('ring8-hinge'), 1250), 2500), RING8);
    console.log(`ring8-hinge: ${before.modesCovered}/8 modes untrained, ${after.modesCovered}/8 (${(100 * after.highQualityShare).toFixed(1)}% high quality) after 1,250 iterations`);
    expect(before.modesCovered).toBeLessThan(6);
    expect(after.modesCovered).toBeGreaterThanOrEqual(6);
  }, 900_000);

  const both = longRunAvailable('ring8-hinge', preset('ring8-hinge')) && longRunAvailable('ring8', preset('ring8'));
  test.skipIf(!both)('trained to its iterations: the modes of the BCE preset, and a high-quality share near it', async () => {
    const hinge = modeCoverage(await samples(await fullRun('ring8-hinge'), 2500), RING8);
    const bce = modeCoverage(await samples(await fullRun('ring8'), 2500), RING8);
    console.log(`ring8-hinge ${hinge.modesCovered}/8, ${(100 * hinge.highQualityShare).toFixed(1)}% high quality; ring8 (BCE) ${bce.modesCovered}/8, ${(100 * bce.highQualityShare).toFixed(1)}%`);
    expect(hinge.modesCovered).toBeGreaterThanOrEqual(bce.modesCovered);
    // Both shares swing by tens of points between checkpoints (docs/presets.md: BCE's 39-95%
    // from 5,000 to 12,000 iterations); at their presets' ends the hinge run measured 83% to
    // BCE's 86%. Within 10 points of BCE's share is the floor; a collapsed or frozen G gives 0%.
    expect(hinge.highQualityShare).toBeGreaterThanOrEqual(bce.highQualityShare - 0.1);
  }, 3_600_000);
});

describe('toy-1d-wgan: the Wasserstein objective with weight clipping on N(4, 0.5^2)', () => {
  test('short guard: 500 iterations move the mean of G(z) past 1 (from about 0)', async () => {
    // Measured: mean 1.37 at 500 iterations, 2.76 at 1,000, 3.98 at 1,500; untrained about 0.
    // The clipped critic moves G at a near-constant speed, so a broken critic gradient stalls it.
    const before = moments(await samples(await trained(preset('toy-1d-wgan'), 0), 5000));
    const after = moments(await samples(await trained(preset('toy-1d-wgan'), 500), 5000));
    console.log(`toy-1d-wgan: mean ${before.mean.toFixed(3)} untrained, ${after.mean.toFixed(3)} (std ${after.std.toFixed(3)}) after 500 iterations`);
    expect(Math.abs(before.mean)).toBeLessThan(0.5);
    expect(after.mean).toBeGreaterThan(1);
  }, 900_000);

  test.skipIf(!longRunAvailable('toy-1d-wgan', preset('toy-1d-wgan')))('trained to its iterations: within the BCE preset test\'s bounds of the target moments', async () => {
    const { mean, std } = moments(await samples(await fullRun('toy-1d-wgan'), 5000));
    console.log(`toy-1d-wgan after ${preset('toy-1d-wgan').iterations} iterations: mean ${mean.toFixed(3)}, std ${std.toFixed(3)} (toy-1d with BCE: 3.966 / 0.479)`);
    expect(Math.abs(mean - 4)).toBeLessThan(0.1);
    expect(Math.abs(std - 0.5)).toBeLessThan(0.1);
  }, 3_600_000);
});
