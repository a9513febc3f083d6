// Whole training iterations against the float64 reference (src/reference/gan.ts): the same
// initial weights and the same random draws, read back from the GPU run each iteration.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadMnist } from '../src/data/mnist-node.ts';
import type { Mnist } from '../src/data/mnist.ts';
import type { GanConfig } from '../src/gan/config.ts';
import { dcganNetworks, preset } from '../src/gan/presets.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import type { Network } from '../src/nn/network.ts';
import type { Optimizer } from '../src/nn/optimizer.ts';
import type { RefNet } from '../src/reference/network.ts';
import { refAlternatingIteration, refEpochIteration, refOptimizer, type RefGan } from '../src/reference/gan.ts';
import { download, downloadU32 } from '../src/tensor/tensor.ts';
import { refNetOf, worstRatio as ratioOf } from './ref-net.ts';
import { openTestContext } from './gpu.ts';

const worstRatio = (net: Network, ref: RefNet, abs: number, rel: number) => ratioOf(ctx, net, ref, abs, rel);

let ctx: GpuContext;
let mnist: Mnist;
beforeAll(async () => {
  ctx = await openTestContext();
  mnist = await loadMnist();
});
afterAll(async () => {
  await ctx?.destroy();
});

async function draw(trainer: GanTrainer, name: string): Promise<Float64Array> {
  const t = trainer.draws.get(name);
  if (!t) throw new Error(`no draw '${name}'`);
  return Float64Array.from(t.dtype === 'u32' ? await downloadU32(ctx, t) : await download(ctx, t));
}

async function runAgainstReference(config: GanConfig, iterations: number) {
  const trainer = await GanTrainer.create(ctx, config, { mnist });
  const [G, D] = [await refNetOf(ctx, trainer.G), await refNetOf(ctx, trainer.D)];
  const ref: RefGan = { G, D, optG: refOptimizer(config.optimizerG, G), optD: refOptimizer(config.optimizerD, D), loss: trainer.loss.reference };
  for (let it = 0; it < iterations; it++) {
    await trainer.run(1);
    if (config.schedule.kind === 'epoch') {
      const dShuffle = [];
      for (let e = 1; e <= config.k; e++) dShuffle.push(await draw(trainer, `D${e}.shuffle`));
      refEpochIteration(ref, config, { real: await draw(trainer, 'real'), noise: await draw(trainer, 'noise'), dShuffle, gShuffle: await draw(trainer, 'G.shuffle') });
    } else {
      const realRows = [];
      const zD = [];
      for (let j = 1; j <= config.k; j++) {
        const x = await draw(trainer, `D${j}.x`);
        realRows.push(x.subarray(0, x.length / 2));
        zD.push(await draw(trainer, `D${j}.z`));
      }
      refAlternatingIteration(ref, config, { realRows, zD, zG: config.reuseFakes ? undefined : await draw(trainer, 'G.z') });
    }
  }
  return { trainer, ref };
}

describe('whole iterations match the float64 reference', () => {
  // f32 rounding (~6e-8 relative per operation) enters every product and sum, and five
  // iterations of 30 SGD steps at lr 2 carry it forward: measured 5e-7 at most on lavapipe;
  // the bound leaves 20x for other adapters' summation orders. A wrong index, scale or
  // update order moves weights by O(lr * grad) = O(1e-3..1) after one step.
  test('seed preset, 5 iterations', async () => {
    const config = preset('seed');
    const { trainer, ref } = await runAgainstReference(config, 5);
    const g = await worstRatio(trainer.G, ref.G, 1e-5, 1e-4);
    const d = await worstRatio(trainer.D, ref.D, 1e-5, 1e-4);
    console.log(`seed: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    trainer.destroy();
  });

  // Adam normalises each step to ~lr = 1e-3 whatever the gradient's size, so the parameters
  // differ from the reference by rounding of the moment ratios, which Adam scales up where a
  // gradient is tiny: measured 9.2e-7 at most; the bound is 2e-6, 0.2% of a step. One step with
  // a wrong sign or scale is 1e-3 off. Both nets at 1e-3 (the mnist preset's G runs at 2e-3,
  // which doubles the rounding too).
  test('small MNIST-style net: BCE, Adam, leaky ReLU, k = 2, 5 iterations', async () => {
    const config: GanConfig = {
      ...preset('mnist'),
      generator: { input: 16, layers: [{ units: 64, activation: 'leaky_relu' }, { units: 784, activation: 'sigmoid' }], init: 'pytorch' },
      discriminator: { input: 784, layers: [{ units: 64, activation: 'leaky_relu' }, { units: 1, activation: 'sigmoid' }], init: 'pytorch' },
      noise: { dim: 16, distribution: 'normal' },
      optimizerG: preset('mnist').optimizerD,
      batch: 32,
      k: 2,
    };
    const { trainer, ref } = await runAgainstReference(config, 5);
    const g = await worstRatio(trainer.G, ref.G, 2e-6, 1e-4);
    const d = await worstRatio(trainer.D, ref.D, 2e-6, 1e-4);
    console.log(`mnist-style: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    trainer.destroy();
  });

  // The weights' average trails the weights by less than a step, so it carries their rounding
  // and the bounds are the same: a decay applied the wrong way round (0.1 for 0.9) or an
  // average started from zero is off by a whole weight. G's update runs in its weight
  // gradients' epilogues and D's in its fused head on lavapipe: the average follows both.
  test('weight averages of G (0.9) and D (0.5), small MNIST-style net, 4 iterations', async () => {
    const base = preset('mnist');
    const config: GanConfig = {
      ...base,
      generator: { input: 16, layers: [{ units: 64, activation: 'leaky_relu' }, { units: 784, activation: 'sigmoid' }], init: 'pytorch' },
      discriminator: { input: 784, layers: [{ units: 64, activation: 'leaky_relu' }, { units: 1, activation: 'sigmoid' }], init: 'pytorch' },
      noise: { dim: 16, distribution: 'normal' },
      optimizerG: { ...base.optimizerD, average: 0.9 },
      optimizerD: { ...base.optimizerD, average: 0.5 },
      batch: 32,
    };
    const { trainer, ref } = await runAgainstReference(config, 4);
    const averageRatio = async (opt: Optimizer, want: Map<string, Float64Array>) => {
      const net = { plan: opt.network.plan, leak: opt.network.leak, params: want, buffers: new Map() };
      return ratioOf(ctx, { params: opt.average! } as unknown as Network, net, 2e-6, 1e-4);
    };
    const g = await averageRatio(trainer.optG, ref.optG.average!);
    const d = await averageRatio(trainer.optD, ref.optD.average!);
    const moved = await worstRatio(trainer.G, { ...ref.G, params: ref.optG.average! }, 2e-6, 1e-4);
    console.log(`averages: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}; G's weights from its average ${moved.maxAbs.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    // The average is not the weights themselves: it trails them by far more than the bounds.
    expect(moved.ratio).toBeGreaterThan(100);
    expect([...trainer.stateTensors().keys()].filter((k) => k.endsWith('.average'))).toEqual(['generator.0.weight.average', 'generator.1.weight.average', 'generator.0.bias.average', 'generator.1.bias.average', 'discriminator.0.weight.average', 'discriminator.1.weight.average', 'discriminator.0.bias.average', 'discriminator.1.bias.average']);
    trainer.destroy();
  });

  // Each net's learning rate decays by its own step count: D takes k = 2 steps an iteration, so
  // over 5 iterations its steps 1..10 read shares 1, 1, 1, 5/6 .. 1/6, 0 (from step 3 to 0 at 9)
  // while G's steps 1..5 read 1, 2/3, 1/3, 0, 0 (from 1 to 0 at 4). The bounds are the small
  // net's: a share read from the iteration rather than the net's own steps, or applied a step
  // early, moves a weight by a whole fraction of a step (3e-4 of 1e-3). The config plans 4
  // iterations, which its decays fit (a config whose decay ends before its run is refused), and
  // the trainer runs a fifth past them to check the steps at rate 0.
  test('learning rates decaying linearly (D by its steps, k = 2; G to 0 before the end), 5 iterations', async () => {
    const base = preset('mnist');
    const adam = base.optimizerD as Extract<GanConfig['optimizerD'], { kind: 'adam' }>;
    const config: GanConfig = {
      ...base,
      generator: { input: 16, layers: [{ units: 64, activation: 'leaky_relu' }, { units: 784, activation: 'sigmoid' }], init: 'pytorch' },
      discriminator: { input: 784, layers: [{ units: 64, activation: 'leaky_relu' }, { units: 1, activation: 'sigmoid' }], init: 'pytorch' },
      noise: { dim: 16, distribution: 'normal' },
      optimizerG: { ...adam, lrDecay: { start: 1, end: 4 } },
      optimizerD: { ...adam, lrDecay: { start: 3, end: 9 } },
      batch: 32,
      k: 2,
      iterations: 4,
    };
    const { trainer, ref } = await runAgainstReference(config, 5);
    const g = await worstRatio(trainer.G, ref.G, 2e-6, 1e-4);
    const d = await worstRatio(trainer.D, ref.D, 2e-6, 1e-4);
    console.log(`decaying rates: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    trainer.destroy();
  });

  // PacGAN packing reads D's batch as [rows / pack, dim * pack]: the reference does the same
  // by counting rows, so a wrong reshape, row count, target or loss scale shows as a step-size
  // error (1e-3 with Adam) against the same bounds as above.
  test.each([
    ['small MNIST-style net, pack 2', 2],
    ['toy-1d, pack 4, label smoothing', 4],
  ] as const)('PacGAN: %s, 4 iterations', async (name, pack) => {
    const mnistStyle = name.startsWith('small');
    const base = mnistStyle ? preset('mnist') : preset('toy-1d');
    const dim = mnistStyle ? 784 : 1;
    const config: GanConfig = mnistStyle
      ? {
          ...base,
          generator: { input: 16, layers: [{ units: 64, activation: 'leaky_relu' }, { units: 784, activation: 'sigmoid' }], init: 'pytorch' },
          discriminator: { input: dim * pack, layers: [{ units: 64, activation: 'leaky_relu' }, { units: 1, activation: 'sigmoid' }], init: 'pytorch' },
          noise: { dim: 16, distribution: 'normal' },
          optimizerG: base.optimizerD,
          batch: 32,
          pack,
        }
      : { ...base, discriminator: { ...base.discriminator, input: dim * pack }, batch: 16, realLabel: 0.8, pack };
    const { trainer, ref } = await runAgainstReference(config, 4);
    expect(trainer.D.params.byKey.get('0.weight')!.shape[0]).toBe(dim * pack);
    const g = await worstRatio(trainer.G, ref.G, 2e-6, 1e-4);
    const d = await worstRatio(trainer.D, ref.D, 2e-6, 1e-4);
    console.log(`${name}: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    trainer.destroy();
  });

  // One-sided label smoothing changes D's targets for real rows only, in both schedules. The
  // bounds are the Adam test's: a target of 1 where 0.8 was meant moves D's gradient on every
  // real row by 0.2 / b, and its first Adam step by up to D's lr = 2e-3, 1000x the bound.
  test.each([
    ['alternating', { kind: 'alternating' }],
    ['epoch', { kind: 'epoch', epochRows: 64 }],
  ] as const)('label smoothing (realLabel 0.8), %s schedule, 4 iterations', async (_, schedule) => {
    const config: GanConfig = { ...preset('toy-1d'), batch: 16, schedule, realLabel: 0.8 };
    const { trainer, ref } = await runAgainstReference(config, 4);
    const g = await worstRatio(trainer.G, ref.G, 2e-6, 1e-4);
    const d = await worstRatio(trainer.D, ref.D, 2e-6, 1e-4);
    console.log(`realLabel 0.8, ${schedule.kind}: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    trainer.destroy();
  });

  // Raw-score objectives: the hinge loss with Adam, and the Wasserstein critic with RMSProp,
  // weight clipping and five critic updates per G update (Arjovsky et al.'s schedule). The
  // bounds are the Adam tests'; RMSProp's steps are also ~lr = 5e-5..2e-4 whatever the gradient,
  // and a clipped weight is off by a whole step if the clip is skipped.
  test.each([
    ['hinge, Adam', (): GanConfig => ({ ...toyScore(), loss: 'hinge' })],
    ['hinge, spectral norm on D', (): GanConfig => ({ ...toyScore(), loss: 'hinge', discriminator: { ...toyScore().discriminator, spectralNorm: true } })],
    [
      'BCE, spectral norm on G and D, epoch schedule',
      (): GanConfig => {
        const base = preset('toy-1d');
        return { ...base, batch: 16, schedule: { kind: 'epoch', epochRows: 32 }, generator: { ...base.generator, spectralNorm: true }, discriminator: { ...base.discriminator, spectralNorm: true } };
      },
    ],
    [
      'wasserstein, RMSProp, clip 0.01, k = 5',
      (): GanConfig => {
        const rms = { kind: 'rmsprop' as const, alpha: 0.99, eps: 1e-8 };
        return { ...toyScore(), loss: 'wasserstein', k: 5, optimizerD: { ...rms, lr: 2e-4, clip: 0.01 }, optimizerG: { ...rms, lr: 5e-5 } };
      },
    ],
  ])('%s, 3 iterations', async (name, make) => {
    const { trainer, ref } = await runAgainstReference(make(), 3);
    const g = await worstRatio(trainer.G, ref.G, 2e-6, 1e-4);
    const d = await worstRatio(trainer.D, ref.D, 2e-6, 1e-4);
    console.log(`${name}: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    trainer.destroy();
  });
});

/** toy-1d with a raw-score D (no sigmoid) and a small batch. */
function toyScore(): GanConfig {
  const base = preset('toy-1d');
  const layers = base.discriminator.layers.map((l, i, all) => (i === all.length - 1 ? { ...l, activation: 'identity' as const } : l));
  return { ...base, batch: 16, discriminator: { ...base.discriminator, layers } };
}

// A DCGAN-shaped pair small enough for the float64 twin: dense to 7x7x4, batch norm, two
// transposed convolutions to 28x28x1 (tanh); D with two strided convolutions, batch norm and a
// dense logit. Batch norm divides by the batch's spread, which lifts f32 rounding relative to
// small spreads: measured 1.4e-7 and 1.8e-7 on lavapipe; the bound is the Adam tests' 2e-6 abs, and a
// wrong block split, saved statistic or conv index moves a weight by a whole Adam step (2e-4).
describe('a tiny DCGAN matches the float64 reference', () => {
  test.each([
    ['alternating', { kind: 'alternating' }],
    ['epoch', { kind: 'epoch', epochRows: 16 }],
  ] as const)('%s schedule, 3 iterations', async (_, schedule) => {
    const base = preset('dcgan');
    const small = dcganNetworks([28, 28, 1], { wide: 4, narrow: 2 }, 16);
    const config: GanConfig = { ...base, ...small, noise: { dim: 16, distribution: 'normal' }, batch: 8, schedule };
    const { trainer, ref } = await runAgainstReference(config, 3);
    const g = await worstRatio(trainer.G, ref.G, 2e-6, 1e-4);
    const d = await worstRatio(trainer.D, ref.D, 2e-6, 1e-4);
    console.log(`tiny DCGAN, ${schedule.kind}: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    trainer.destroy();
  });

  // Packed, D's convs read each pair of images stacked along height and its batch norm
  // normalises over half the rows: the reference reads the same memory the same way.
  test('PacGAN pack 2 (D reads each pair stacked along height), 3 iterations', async () => {
    const base = preset('dcgan');
    const small = dcganNetworks([28, 28, 1], { wide: 4, narrow: 2 }, 16, 2);
    expect(small.discriminator.input).toEqual([56, 28, 1]);
    const config: GanConfig = { ...base, ...small, pack: 2, noise: { dim: 16, distribution: 'normal' }, batch: 8 };
    const { trainer, ref } = await runAgainstReference(config, 3);
    const g = await worstRatio(trainer.G, ref.G, 2e-6, 1e-4);
    const d = await worstRatio(trainer.D, ref.D, 2e-6, 1e-4);
    console.log(`tiny DCGAN, pack 2: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    trainer.destroy();
  });

  // Minibatch stddev in D after its batch norm: groups of 4 within the real and the fake rows of
  // the D step, and within the 8 fake rows of the G step. The bounds are the tiny DCGAN's: a
  // group that straddled real and fake rows, or a missing deviation term in the backward pass,
  // moves D's first step by a whole Adam step (2e-4).
  test('minibatch stddev in D (groups of 4), 3 iterations', async () => {
    const base = preset('dcgan');
    const small = dcganNetworks([28, 28, 1], { wide: 4, narrow: 2 }, 16);
    const layers = [...small.discriminator.layers];
    layers.splice(3, 1, { kind: 'minibatch-stddev', group: 4 }, { kind: 'reshape', shape: [7 * 7 * 5] });
    const config: GanConfig = { ...base, ...small, discriminator: { ...small.discriminator, layers }, noise: { dim: 16, distribution: 'normal' }, batch: 8 };
    const { trainer, ref } = await runAgainstReference(config, 3);
    const g = await worstRatio(trainer.G, ref.G, 2e-6, 1e-4);
    const d = await worstRatio(trainer.D, ref.D, 2e-6, 1e-4);
    console.log(`tiny DCGAN, minibatch stddev: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    trainer.destroy();
  });

  // G's step on the last D update's fakes (reuseFakes): G's batch norm statistics then move
  // once per iteration, not twice, so its running buffers are compared too (G's forward run
  // again would move them by a second momentum step, ~0.1 of the batch statistics). The tiny
  // DCGAN writes its fakes straight into D's batch (rows aligned); toy-1d with k = 2 copies them
  // (16-byte rows) and draws its noise apart from the rows. G's bound is 1e-5: its dense layer
  // feeds batch norm, whose mean subtraction leaves some weight gradients as differences of
  // near-equal sums, and one (|g| = 2.7e-8, about Adam's eps) turns its f32 cancellation into
  // 4.9e-6 of a step ratio on lavapipe, all others within 3.3e-8. G trained on fresh noise
  // instead of the D update's moves every weight by a whole step (1.6e-3).
  test.each([
    ['tiny DCGAN', (): GanConfig => ({ ...preset('dcgan'), ...dcganNetworks([28, 28, 1], { wide: 4, narrow: 2 }, 16), noise: { dim: 16, distribution: 'normal' }, batch: 8, reuseFakes: true })],
    ['toy-1d, k = 2', (): GanConfig => ({ ...preset('toy-1d'), batch: 16, k: 2, reuseFakes: true })],
  ])('G reuses the last D update\'s fakes: %s, 3 iterations', async (name, make) => {
    const config = make();
    const { trainer, ref } = await runAgainstReference(config, 3);
    expect(trainer.draws.get('G.z')).toBeUndefined();
    const g = await worstRatio(trainer.G, ref.G, 1e-5, 1e-4);
    const d = await worstRatio(trainer.D, ref.D, 2e-6, 1e-4);
    let buffers = 0;
    for (const [key, t] of trainer.G.buffers) {
      const [gpu, want] = [await download(ctx, t), ref.G.buffers.get(key)!];
      for (let i = 0; i < want.length; i++) buffers = Math.max(buffers, Math.abs(gpu[i] - want[i]) / (2e-6 + 1e-4 * Math.abs(want[i])));
    }
    console.log(`reuseFakes, ${name}: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}, G buffers ratio ${buffers.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    expect(buffers).toBeLessThanOrEqual(1);
    trainer.destroy();
  });

  test('hinge loss, spectrally normalised D with batch norm (the conv and dense weights normalised, not gamma), 3 iterations', async () => {
    const base = preset('dcgan');
    const small = dcganNetworks([28, 28, 1], { wide: 4, narrow: 2 }, 16);
    const layers = small.discriminator.layers.map((l, i, all) => (i === all.length - 1 ? { ...l, activation: 'identity' as const } : l));
    const config: GanConfig = { ...base, ...small, discriminator: { ...small.discriminator, layers, spectralNorm: true }, loss: 'hinge', noise: { dim: 16, distribution: 'normal' }, batch: 8 };
    const { trainer, ref } = await runAgainstReference(config, 3);
    expect([...trainer.D.buffers.keys()].filter((k) => k.endsWith('weight_sigma'))).toEqual(['0.weight_sigma', '1.weight_sigma', '4.weight_sigma']);
    const g = await worstRatio(trainer.G, ref.G, 2e-6, 1e-4);
    const d = await worstRatio(trainer.D, ref.D, 2e-6, 1e-4);
    console.log(`tiny DCGAN, hinge + SN: max |gpu - ref| G ${g.maxAbs.toExponential(2)}, D ${d.maxAbs.toExponential(2)}`);
    expect(g.ratio).toBeLessThanOrEqual(1);
    expect(d.ratio).toBeLessThanOrEqual(1);
    trainer.destroy();
  });
});
