// What the benchmarks train and multiply: every preset, plus the two GANs the speed targets are
// stated for, and the matrix products each of them runs per iteration.

import type { GanConfig } from '../src/gan/config.ts';
import { PRESET_NAMES, preset } from '../src/gan/presets.ts';
import type { MatmulShape } from '../src/kernels/matmul.ts';
import type { Activation } from '../src/kernels/common.ts';
import { planNetwork, type NetworkSpec } from '../src/nn/network.ts';

/** A multilayer perceptron as sizes and activations: what the MLP benchmark paths take. */
export interface DenseNet {
  input: number;
  layers: { units: number; activation: Activation }[];
  leak?: number;
}

/** A network of dense layers as a DenseNet; other layer kinds are refused. */
export function denseNet(name: string, spec: NetworkSpec): DenseNet {
  const plan = planNetwork(name, spec);
  const other = plan.running.find((l) => l.kind !== 'dense');
  if (other) throw new Error(`${name}: the MLP benchmark takes dense layers only, not ${other.kind}`);
  return { input: plan.input[0], layers: plan.running.map((l) => ({ units: l.plan.output[0], activation: l.plan.activation })), leak: spec.leak };
}

/**
 * The seed experiment's networks (G 100->784, D 784->100->1, sigmoid, MSE, SGD) trained the
 * common way: batch 100, one D update on 100 real + 100 fake rows, then one G update.
 */
export function seedSized(): GanConfig {
  const seed = preset('seed');
  return {
    ...seed,
    preset: 'seed-sized',
    description: "the seed experiment's networks, one D step + one G step per iteration, batch 100",
    schedule: { kind: 'alternating' },
    noise: { dim: 100, distribution: 'normal' },
    batch: 100,
    k: 1,
    logEvery: 50,
  };
}

/** A larger MLP GAN: G 128->1024->784, D 784->1024->1, leaky ReLU, BCE, Adam, batch 512. */
export function large(): GanConfig {
  const mnist = preset('mnist');
  return {
    ...mnist,
    preset: 'large',
    description: 'G 128->1024->784, D 784->1024->1, leaky ReLU, BCE, Adam 2e-4, batch 512',
    noise: { dim: 128, distribution: 'normal' },
    generator: { input: 128, layers: [{ units: 1024, activation: 'leaky_relu' }, { units: 784, activation: 'sigmoid' }], init: 'pytorch' },
    discriminator: { input: 784, layers: [{ units: 1024, activation: 'leaky_relu' }, { units: 1, activation: 'sigmoid' }], init: 'pytorch' },
    // Its own optimizer and targets, so the mnist preset's tuning does not change this benchmark.
    optimizerG: { kind: 'adam', lr: 2e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8 },
    optimizerD: { kind: 'adam', lr: 2e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8 },
    realLabel: undefined,
    batch: 512,
    logEvery: 50,
  };
}

export const BENCH_CONFIGS: Record<string, () => GanConfig> = { 'seed-sized': seedSized, large };

/** Every preset, then the two benchmark GANs. */
export function allConfigs(): GanConfig[] {
  return [...PRESET_NAMES.map((name) => preset(name)), ...Object.values(BENCH_CONFIGS).map((make) => make())];
}

/** `config` at another batch size (the seed experiment's rows per iteration stay 1,000). */
export function withBatch(config: GanConfig, batch: number): GanConfig {
  return { ...config, batch };
}

/**
 * Batch sizes a training row runs: the config's own and another that keeps its schedule valid
 * (the epoch schedule needs batches that divide its rows).
 */
export function batchSizes(config: GanConfig, quick: boolean): number[] {
  if (quick) return [config.batch];
  switch (config.preset) {
    case 'seed':
      return [100, 50];
    case 'seed-sized':
      return [100, 500];
    case 'large':
      return [512, 128];
    default:
      return [config.batch, config.batch * 4];
  }
}

/** What a run measures: its rows and how long it times each. */
export interface BenchSubset {
  name: SubsetName;
  /** Square products by size; sizes up to 1024 also run as A·Bᵀ and Aᵀ·B with `squareForms`. */
  squares: number[];
  squareForms: boolean;
  /** Configs whose per-iteration products are matmul rows. */
  productsOf: GanConfig[];
  /** Configs trained, each at batchSizes(config, quick). */
  training: GanConfig[];
  /** Configs whose iteration is profiled step by step. */
  profile: GanConfig[];
  /** Shorter timing (fewer rounds, shorter batches and blocks), and no seed experiment. */
  quick: boolean;
}

export const SUBSET_NAMES = ['full', 'quick', 'browser-quick'] as const;
export type SubsetName = (typeof SUBSET_NAMES)[number];

/**
 * The rows of a run. `full`: every square size and form, every config's products, every config
 * at two batch sizes. `quick` (`npm run bench -- --quick`, about a minute on an idle lavapipe):
 * two square sizes, the seed-sized GAN's products, the seed-sized GAN at batch 100.
 * `browser-quick` (the page's quick run, for SwiftShader in a browser, which is several times
 * slower than lavapipe in Node): 256 and 512 squares and the seed-sized GAN at batch 100.
 */
export function benchSubset(name: SubsetName): BenchSubset {
  const seed = allConfigs().find((c) => c.preset === 'seed')!;
  switch (name) {
    case 'full':
      return { name, squares: [256, 512, 1024, 2048], squareForms: true, productsOf: allConfigs(), training: allConfigs(), profile: [seedSized(), large(), seed], quick: false };
    case 'quick':
      return { name, squares: [256, 1024], squareForms: false, productsOf: [seedSized()], training: [seedSized()], profile: [seedSized()], quick: true };
    case 'browser-quick':
      return { name, squares: [256, 512], squareForms: false, productsOf: [], training: [seedSized()], profile: [seedSized()], quick: true };
  }
}

/** A matrix product an iteration runs, and which layer and pass it is. */
export interface ShapeUse {
  shape: MatmulShape;
  /** e.g. `G.forward1 x100`, `D.dW2 x200`, `D.delta1 x100`. */
  role: string;
}

/**
 * The products of one MLP on `rows` rows, as mlp.ts records them: forward (A·B), the weight
 * gradients (Aᵀ·B), deltas through each layer (A·Bᵀ), and the input gradient when asked
 * (`inputColumns`: the input columns it covers).
 */
function mlpProducts(name: string, spec: DenseNet, rows: number, pass: { forward: boolean; paramGrads: boolean; backward: boolean; inputColumns?: number }): ShapeUse[] {
  const out: ShapeUse[] = [];
  const sizes = [spec.input, ...spec.layers.map((l) => l.units)];
  spec.layers.forEach((_, l) => {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    if (pass.forward) out.push({ shape: { m: rows, k: fanIn, n: fanOut }, role: `${name}.forward${l + 1} x${rows}` });
    if (!pass.backward) return;
    if (pass.paramGrads) out.push({ shape: { m: fanIn, k: rows, n: fanOut, transA: true }, role: `${name}.dW${l + 1} x${rows}` });
    if (l > 0) out.push({ shape: { m: rows, k: fanOut, n: fanIn, transB: true }, role: `${name}.delta${l} x${rows}` });
    else if (pass.inputColumns !== undefined) out.push({ shape: { m: rows, k: fanOut, n: pass.inputColumns, transB: true }, role: `${name}.dInput x${rows}` });
  });
  return out;
}

/** The matrix products of one training iteration of `config` (each distinct use once). */
export function matmulShapesOf(config: GanConfig): ShapeUse[] {
  const b = config.batch;
  const G = denseNet('generator', config.generator);
  const D = denseNet('discriminator', config.discriminator);
  const dataColumns = D.input - (config.conditional?.classes ?? 0);
  if (config.schedule.kind === 'epoch') {
    return [
      ...mlpProducts('G', G, config.schedule.epochRows, { forward: true, paramGrads: false, backward: false }),
      ...mlpProducts('G', G, b, { forward: true, paramGrads: true, backward: true }),
      ...mlpProducts('D', D, b, { forward: true, paramGrads: true, backward: true }),
      ...mlpProducts('D', D, b, { forward: false, paramGrads: false, backward: true, inputColumns: dataColumns }).filter((u) => u.role.includes('dInput')),
    ];
  }
  // D's batch: real and fake rows (and mismatched ones for a matching-aware D), `pack` rows per input.
  const pack = config.pack ?? 1;
  const dRows = ((config.conditional?.mismatch ? 3 : 2) * b) / pack;
  return [
    ...mlpProducts('G', G, b, { forward: true, paramGrads: true, backward: true }),
    ...mlpProducts('D', D, dRows, { forward: true, paramGrads: true, backward: true }),
    ...mlpProducts('D', D, b / pack, { forward: true, paramGrads: false, backward: true, inputColumns: dataColumns }),
  ];
}
