// The scheduler's contract: the G phase never touches D, and training reaches what the
// presets document (toy-1d's target moments, ring8's modes) with a floor a broken G fails.

import { beforeAll, describe, expect, test } from 'vitest';
import { loadMnist } from '../src/data/mnist-node.ts';
import type { Mnist } from '../src/data/mnist.ts';
import { modeCoverage, RING8 } from '../src/data/toy.ts';
import type { GanConfig } from '../src/gan/config.ts';
import { preset } from '../src/gan/presets.ts';
import { updatesPerIteration } from '../src/gan/schedules.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import { randomNormal } from '../src/kernels/random.ts';
import { download, downloadU32 } from '../src/tensor/tensor.ts';
import { useGpu } from './gpu.ts';

const gpu = useGpu();
let mnist: Mnist;
beforeAll(async () => {
  mnist = await loadMnist();
});

/** Every bit of a network's parameters, gradients' owner aside, and its optimizer state. */
async function stateBits(trainer: GanTrainer, net: 'G' | 'D'): Promise<Uint32Array[]> {
  const [mlp, opt] = net === 'G' ? [trainer.G, trainer.optG] : [trainer.D, trainer.optD];
  const tensors = [mlp.params.flat, ...opt.state.map((s) => s.flat), opt.step];
  return Promise.all(tensors.map(async (t) => new Uint32Array(await gpu.ctx.readBuffer(t.buffer, t.byteOffset, t.byteLength))));
}

describe('the G phase updates G only', () => {
  const configs: [string, () => GanConfig][] = [
    ['alternating schedule, Adam (toy-1d)', () => preset('toy-1d')],
    ['epoch schedule, SGD with momentum and L2 (seed)', () => preset('seed')],
  ];
  test.each(configs)('%s', async (_, make) => {
    const trainer = await GanTrainer.create(gpu.ctx, make(), { mnist });
    await trainer.run(2); // momentum and moments are non-zero from here
    gpu.ctx.run(trainer.phases.d);
    const [dBefore, gBefore] = [await stateBits(trainer, 'D'), await stateBits(trainer, 'G')];
    gpu.ctx.run(trainer.phases.g);
    const [dAfter, gAfter] = [await stateBits(trainer, 'D'), await stateBits(trainer, 'G')];
    dBefore.forEach((bits, i) => expect(dAfter[i], `D state tensor ${i} changed in the G phase`).toEqual(bits));
    expect(gAfter[0]).not.toEqual(gBefore[0]);
    trainer.destroy();
  });
});

describe('the tick counts what ran', () => {
  // Adam reads its t as the count at the last tick plus the update's place in the program, so
  // the tick must advance each count by the updates its phase made, and only those: a count
  // that runs ahead or behind changes every later bias correction.
  test('Adam step counts: k D updates and one G update per iteration, and per phase run alone', async () => {
    const config: GanConfig = { ...preset('toy-1d'), k: 3 };
    const trainer = await GanTrainer.create(gpu.ctx, config);
    const counts = async () => Promise.all([trainer.clock, trainer.optD.step, trainer.optG.step].map(async (t) => (await downloadU32(gpu.ctx, t))[0]));
    await trainer.run(4);
    expect(await counts()).toEqual([4, 12, 4]);
    gpu.ctx.run([...trainer.phases.d, ...trainer.tickOf({ clock: false, d: true, g: false })]);
    expect(await counts()).toEqual([4, 15, 4]);
    gpu.ctx.run([...trainer.phases.g, ...trainer.tickOf({ clock: true, d: false, g: true })]);
    expect(await counts()).toEqual([5, 15, 5]);
    trainer.destroy();
  });

  // lrDecay is given in a net's steps, and the CLI plans it from updatesPerIteration: that must
  // be the updates each schedule records.
  test.each([
    ['alternating, k = 3 (toy-1d)', () => ({ ...preset('toy-1d'), k: 3 })],
    ["alternating, G on the D update's fakes (toy-1d)", () => ({ ...preset('toy-1d'), reuseFakes: true })],
    ['epoch schedule, k = 2, Adam (seed)', () => ({ ...preset('seed'), k: 2, optimizerG: preset('toy-1d').optimizerG, optimizerD: preset('toy-1d').optimizerD })],
  ] as [string, () => GanConfig][])('updatesPerIteration counts the updates the program records: %s', async (_, make) => {
    const config = make();
    const trainer = await GanTrainer.create(gpu.ctx, config, { mnist });
    expect({ d: trainer.optD.stepsPerTick, g: trainer.optG.stepsPerTick }).toEqual(updatesPerIteration(config));
    trainer.destroy();
  });

  test('SGD and RMSProp count no steps: their counters stay at 0 as checkpoints have always had them', async () => {
    const trainer = await GanTrainer.create(gpu.ctx, preset('toy-1d-wgan'));
    await trainer.run(3);
    expect(trainer.program.filter((s) => s.label.startsWith('advanceCounters')).length).toBe(1);
    expect([(await downloadU32(gpu.ctx, trainer.optD.step))[0], (await downloadU32(gpu.ctx, trainer.optG.step))[0], (await downloadU32(gpu.ctx, trainer.clock))[0]]).toEqual([0, 0, 3]);
    trainer.destroy();
  });
});

describe("G's fakes reach D's batch", () => {
  // Straight from G's last layer where the fake rows can be bound on their own (256-byte
  // offsets), through a copy elsewhere; the whole-iteration float64 checks cover both paths.
  test.each([
    [256, 0],
    [16, 1],
  ])('toy-1d at batch %i: %i copies per iteration', async (batch, copies) => {
    const trainer = await GanTrainer.create(gpu.ctx, { ...preset('toy-1d'), batch });
    expect(trainer.program.filter((s) => s.kind === 'copy').length).toBe(copies);
    await trainer.run(1);
    gpu.ctx.run(trainer.phases.d);
    // The fake half holds G's outputs on D1.z: G's own output on the same noise, bit for bit.
    const fakes = (await download(gpu.ctx, trainer.draws.get('D1.x')!)).slice(batch);
    const again = await trainer.generate(await download(gpu.ctx, trainer.draws.get('D1.z')!));
    expect(fakes).toEqual(again);
    trainer.destroy();
  });
});

describe("the noise rides with the real rows' gather", () => {
  // One dispatch draws the real rows, D's noise and G's; the streams must stay those the
  // separate draws had (real rows, then D's noise, then G's), or every run moves.
  test("mnist: one draw dispatch, D's and G's noise on the next two streams, randomNormal's numbers", async () => {
    const config = { ...preset('mnist'), batch: 16 };
    const trainer = await GanTrainer.create(gpu.ctx, config, { mnist });
    const draws = trainer.program.filter((s) => /random|gather/.test(s.label));
    expect(draws.map((s) => s.label)).toHaveLength(1);
    const [real, dz, gz] = /permutation stream (\d+), noise streams (\d+), (\d+)/.exec(draws[0].label)!.slice(1).map(Number);
    expect([dz, gz]).toEqual([real + 1, real + 2]);
    await trainer.run(1); // the draws of clock 0
    for (const [name, stream] of [['D1.z', dz], ['G.z', gz]] as const) {
      const z = trainer.draws.get(name)!;
      const want = gpu.tensor([...z.shape], `${name} again`);
      gpu.ctx.run([randomNormal(gpu.ctx, want, { seed: config.seed, stream })]);
      expect(await download(gpu.ctx, z), name).toEqual(await download(gpu.ctx, want));
    }
    trainer.destroy();
  });
});

describe('training reaches the documented results', () => {
  test('toy-1d: G maps uniform noise onto N(4, 0.5^2)', async () => {
    const config = preset('toy-1d');
    const trainer = await GanTrainer.create(gpu.ctx, config);
    await trainer.run(config.iterations);
    const x = await trainer.generate(trainer.fixedNoise(5000));
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
    console.log(`toy-1d after ${config.iterations} iterations: mean ${mean.toFixed(3)}, std ${std.toFixed(3)}`);
    // The fit oscillates around the target: over seeds 0..2, every 1,000 iterations up to 4,000,
    // the preset measured means 3.94..4.04 and stds 0.42..0.54 (docs/presets.md). An untrained
    // G gives mean ~0, and a collapsed one a std far below 0.4.
    expect(Math.abs(mean - 4)).toBeLessThan(0.1);
    expect(Math.abs(std - 0.5)).toBeLessThan(0.1);
    trainer.destroy();
  });

  test('ring8: modes covered and high-quality share above a floor a frozen G misses', async () => {
    const config = preset('ring8');
    const trained = await GanTrainer.create(gpu.ctx, config);
    await trained.run(config.iterations);
    const good = modeCoverage(await trained.generate(trained.fixedNoise(2500)), RING8);
    trained.destroy();
    // A G that never learns: same schedule, a learning rate too small to move it.
    const frozen = await GanTrainer.create(gpu.ctx, { ...config, iterations: 200, optimizerG: { ...config.optimizerG, lr: 1e-12 } });
    await frozen.run(200);
    const bad = modeCoverage(await frozen.generate(frozen.fixedNoise(2500)), RING8);
    frozen.destroy();
    console.log(`ring8: trained ${good.modesCovered}/8 modes, ${(100 * good.highQualityShare).toFixed(1)}% high quality; frozen G ${bad.modesCovered}/8, ${(100 * bad.highQualityShare).toFixed(1)}%`);
    expect(good.modesCovered).toBeGreaterThanOrEqual(RING8_FLOOR.modes);
    expect(good.highQualityShare).toBeGreaterThanOrEqual(RING8_FLOOR.highQuality);
    expect(bad.modesCovered < RING8_FLOOR.modes || bad.highQualityShare < RING8_FLOOR.highQuality).toBe(true);
  }, 600_000);
});

/**
 * Below what the preset reaches (8/8 modes, 86% high quality at its 5,000 iterations on lavapipe)
 * with room for the ring's oscillation: between 4,000 and 12,000 iterations the share of
 * high-quality samples swung between 39% and 95% with 7 or 8 modes (docs/presets.md).
 */
const RING8_FLOOR = { modes: 6, highQuality: 0.3 };

test('the clock counts iterations', async () => {
  const trainer = await GanTrainer.create(gpu.ctx, preset('toy-1d'));
  await trainer.run(7, { logEvery: 3 });
  expect((await downloadU32(gpu.ctx, trainer.clock))[0]).toBe(7);
  expect(trainer.iteration).toBe(7);
  trainer.destroy();
});
