// What the benchmarks train and multiply: every preset, plus the two GANs the speed targets are
// stated for, the matrix products each of them runs per iteration, and the convolution layers of
// the ones that convolve.

import type { GanConfig } from '../src/gan/config.ts';
import { PRESET_NAMES, preset } from '../src/gan/presets.ts';
import type { Conv2dGeometry } from '../src/kernels/conv.ts';
import type { MatmulShape } from '../src/kernels/matmul.ts';
import { elements, type Conv2dSpec, type ConvTranspose2dSpec } from '../src/nn/layer.ts';
import { planNetwork, type NetworkSpec } from '../src/nn/network.ts';

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

/**
 * Every preset, then the two benchmark GANs. Presets on Fashion-MNIST are left out: they are
 * other presets' networks on other images (dcgan-fashion is dcgan's), the same work per
 * iteration, and the benchmark loads MNIST only.
 */
export function allConfigs(): GanConfig[] {
  const presets = PRESET_NAMES.map((name) => preset(name)).filter((c) => c.data.kind !== 'fashion');
  return [...presets, ...Object.values(BENCH_CONFIGS).map((make) => make())];
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
    case 'dcgan':
      // Not 4x: the tfjs peer's iteration already takes seconds at 64 on a CPU adapter.
      return [64, 128];
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
  /** Configs whose convolution layers are conv rows (at the config's batch size). */
  convLayersOf: GanConfig[];
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
 * The rows of a run. `full`: every square size and form, every config's products, the dcgan
 * preset's convolution layers, every config at two batch sizes, and with --profile the steps of
 * the seed-sized, large, seed and dcgan iterations. `quick` (`npm run bench --
 * --quick`, a few minutes on an idle lavapipe): two square sizes, the seed-sized GAN's products,
 * dcgan's convolution layers, the seed-sized GAN at batch 100. `browser-quick` (the page's quick
 * run, for SwiftShader in a browser, which is several times slower than lavapipe in Node): 256
 * and 512 squares and the seed-sized GAN at batch 100.
 */
export function benchSubset(name: SubsetName): BenchSubset {
  const seed = allConfigs().find((c) => c.preset === 'seed')!;
  const dcgan = preset('dcgan');
  switch (name) {
    case 'full':
      return { name, squares: [256, 512, 1024, 2048], squareForms: true, productsOf: allConfigs(), convLayersOf: [dcgan], training: allConfigs(), profile: [seedSized(), large(), seed, dcgan], quick: false };
    case 'quick':
      return { name, squares: [256, 1024], squareForms: false, productsOf: [seedSized()], convLayersOf: [dcgan], training: [seedSized()], profile: [seedSized()], quick: true };
    case 'browser-quick':
      return { name, squares: [256, 512], squareForms: false, productsOf: [], convLayersOf: [], training: [seedSized()], profile: [seedSized()], quick: true };
  }
}

/** A matrix product an iteration runs, and which layer and pass it is. */
export interface ShapeUse {
  shape: MatmulShape;
  /** e.g. `G.forward1 x100`, `D.dW2 x200`, `D.delta1 x100`. */
  role: string;
}

/** A dense layer of a network: where it runs (0-based among the running layers) and its sizes. */
interface DenseLayer {
  position: number;
  fanIn: number;
  fanOut: number;
}

/** The dense layers of a network (its other kinds' work is not a matrix product: conv rows, kernels). */
function denseLayers(name: string, spec: NetworkSpec): DenseLayer[] {
  return planNetwork(name, spec).running.flatMap((l, position) => (l.kind === 'dense' ? [{ position, fanIn: elements(l.input), fanOut: elements(l.plan.output) }] : []));
}

/**
 * The products of one network's dense layers on `rows` rows, as the dense layer records them:
 * forward (A·B), the weight gradients (Aᵀ·B), the deltas into the layer below (A·Bᵀ), and the
 * input gradient of a first layer when asked (`inputColumns`: the input columns it covers).
 * Roles number the running layers from 1 (an MLP's dense layers).
 */
function denseProducts(name: string, layers: DenseLayer[], rows: number, pass: { forward: boolean; paramGrads: boolean; backward: boolean; inputColumns?: number }): ShapeUse[] {
  const out: ShapeUse[] = [];
  for (const { position: l, fanIn, fanOut } of layers) {
    if (pass.forward) out.push({ shape: { m: rows, k: fanIn, n: fanOut }, role: `${name}.forward${l + 1} x${rows}` });
    if (!pass.backward) continue;
    if (pass.paramGrads) out.push({ shape: { m: fanIn, k: rows, n: fanOut, transA: true }, role: `${name}.dW${l + 1} x${rows}` });
    if (l > 0) out.push({ shape: { m: rows, k: fanOut, n: fanIn, transB: true }, role: `${name}.delta${l} x${rows}` });
    else if (pass.inputColumns !== undefined) out.push({ shape: { m: rows, k: fanOut, n: pass.inputColumns, transB: true }, role: `${name}.dInput x${rows}` });
  }
  return out;
}

/** The matrix products of one training iteration of `config` (each distinct use once). */
export function matmulShapesOf(config: GanConfig): ShapeUse[] {
  const b = config.batch;
  const G = denseLayers('generator', config.generator);
  const D = denseLayers('discriminator', config.discriminator);
  const dataColumns = elements(planNetwork('discriminator', config.discriminator).input) - (config.conditional?.classes ?? 0);
  if (config.schedule.kind === 'epoch') {
    return [
      ...denseProducts('G', G, config.schedule.epochRows, { forward: true, paramGrads: false, backward: false }),
      ...denseProducts('G', G, b, { forward: true, paramGrads: true, backward: true }),
      ...denseProducts('D', D, b, { forward: true, paramGrads: true, backward: true }),
      ...denseProducts('D', D, b, { forward: false, paramGrads: false, backward: true, inputColumns: dataColumns }).filter((u) => u.role.includes('dInput')),
    ];
  }
  // D's batch: real and fake rows (and mismatched ones for a matching-aware D), `pack` rows per input.
  const pack = config.pack ?? 1;
  const dRows = ((config.conditional?.mismatch ? 3 : 2) * b) / pack;
  return [
    ...denseProducts('G', G, b, { forward: true, paramGrads: true, backward: true }),
    ...denseProducts('D', D, dRows, { forward: true, paramGrads: true, backward: true }),
    ...denseProducts('D', D, b / pack, { forward: true, paramGrads: false, backward: true, inputColumns: dataColumns }),
  ];
}

/** A convolution layer of a config: `D1` is D's first, `G2` G's second; its geometry at a batch size. */
export interface ConvLayer {
  name: string;
  config: string;
  geometry: Conv2dGeometry;
}

/** Whether either network of `config` has a convolution layer. */
export function convolves(config: GanConfig): boolean {
  return convLayersOf(config).length > 0;
}

/**
 * The convolution layers of `config`'s networks at `batch` rows (default the config's batch),
 * D's first: the shapes the conv rows time.
 */
export function convLayersOf(config: GanConfig, batch = config.batch): ConvLayer[] {
  const out: ConvLayer[] = [];
  for (const [net, spec] of [['D', config.discriminator], ['G', config.generator]] as const) {
    let count = 0;
    for (const l of planNetwork(net, spec).running) {
      if (l.kind !== 'conv2d' && l.kind !== 'conv-transpose2d') continue;
      const s = l.spec as Conv2dSpec | ConvTranspose2dSpec;
      const [inH, inW, inC] = l.input;
      out.push({
        name: `${net}${++count}`,
        config: config.preset,
        geometry: {
          batch,
          inH,
          inW,
          inC,
          outC: s.filters,
          kernel: s.kernel,
          stride: s.stride ?? 1,
          padding: s.padding ?? 0,
          transposed: s.kind === 'conv-transpose2d',
          outputPadding: s.kind === 'conv-transpose2d' ? (s.outputPadding ?? 0) : 0,
        },
      });
    }
  }
  return out;
}
