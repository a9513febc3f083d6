// Named, documented configurations. Each preset's iteration count is what it needs to reach the
// result documented for it (docs/presets.md records the runs behind these choices).

import { ShapeError } from '../gpu/errors.ts';
import { planNetwork, shapeChain } from '../nn/network.ts';
import type { GanConfig } from './config.ts';

const adam = (lr: number) => ({ kind: 'adam' as const, lr, beta1: 0.5, beta2: 0.999, eps: 1e-8 });

/** How a description names the two nets' Adam rates: "Adam 2e-4", or "Adam 1.6e-3 (G) / 2e-4 (D)". */
function adamRates(lrG: number, lrD: number): string {
  const [g, d] = [lrG.toExponential(), lrD.toExponential()];
  return g === d ? `Adam ${g}` : `Adam ${g} (G) / ${d} (D)`;
}

export const PRESETS = {
  /**
   * The tutorial's MATLAB experiment, faithfully: DeepLearnToolbox nets with sigmoid units and
   * init, MSE through the sigmoid output, SGD lr 2 with momentum 0.5, L2 1e-4 on D's weights,
   * per-image min-max, a fixed bank of 60,000 noise rows, and per iteration one permutation,
   * one D epoch over 1,000 real + 1,000 fake rows and one G epoch over the 1,000 noise rows.
   */
  seed: (): GanConfig => ({
    preset: 'seed',
    description: 'the tutorial experiment: G 100->784, D 784->100->1, sigmoid, MSE, SGD lr 2, 1,500 iterations',
    data: { kind: 'mnist', minmax: true },
    noise: { dim: 100, distribution: 'normal', bank: 60_000, minmax: true },
    generator: { input: 100, layers: [{ units: 784, activation: 'sigmoid' }], init: 'dlt' },
    discriminator: { input: 784, layers: [{ units: 100, activation: 'sigmoid' }, { units: 1, activation: 'sigmoid' }], init: 'dlt' },
    loss: 'mse',
    gLoss: 'non-saturating',
    optimizerG: { kind: 'sgd', lr: 2, momentum: 0.5, l2: 0 },
    optimizerD: { kind: 'sgd', lr: 2, momentum: 0.5, l2: 1e-4 },
    batch: 100,
    k: 1,
    schedule: { kind: 'epoch', epochRows: 1000 },
    iterations: 1500,
    seed: 0,
    logEvery: 10,
  }),

  /**
   * A modern MLP GAN for MNIST: leaky ReLU, Adam with beta1 0.5 (G at 2e-3, D at 1e-3),
   * non-saturating BCE and one-sided label smoothing (D's real target 0.9). At Adam 2e-4 without
   * smoothing it collapsed onto one or two digits within 2,000 iterations; G at 2e-3 rather than
   * 1e-3 gave FD 19-21 against 27-44 over three seeds (docs/presets.md).
   */
  mnist: (): GanConfig => ({
    preset: 'mnist',
    description: 'MLP GAN: G 100->256->512->784, D 784->512->256->1, leaky ReLU, Adam G 2e-3 / D 1e-3, real label 0.9, batch 64',
    data: { kind: 'mnist', minmax: false },
    noise: { dim: 100, distribution: 'normal' },
    generator: {
      input: 100,
      layers: [
        { units: 256, activation: 'leaky_relu' },
        { units: 512, activation: 'leaky_relu' },
        { units: 784, activation: 'sigmoid' },
      ],
      init: 'pytorch',
    },
    discriminator: {
      input: 784,
      layers: [
        { units: 512, activation: 'leaky_relu' },
        { units: 256, activation: 'leaky_relu' },
        { units: 1, activation: 'sigmoid' },
      ],
      init: 'pytorch',
    },
    loss: 'bce',
    gLoss: 'non-saturating',
    optimizerG: adam(2e-3),
    optimizerD: adam(1e-3),
    realLabel: 0.9,
    batch: 64,
    k: 1,
    schedule: { kind: 'alternating' },
    iterations: 4000,
    seed: 0,
    logEvery: 50,
  }),

  /**
   * The conditional GAN (Mirza & Osindero 2014) on MNIST: the mnist preset's networks with the
   * one-hot digit appended to G's noise and to D's input, so a sample's digit can be chosen.
   * The hot entry is 4 rather than 1: beside 784 pixels a unit label is quiet, and after 1,000
   * iterations 16% of samples showed the requested digit, against 69% at 4. D is matching-aware
   * (real images with a wrong label are fakes too): without that, 5s and 9s stayed at 78-83%
   * after 4,000 iterations; with it every digit is above 90% from 2,000 (docs/presets.md).
   */
  cgan: (): GanConfig => {
    const base = PRESETS.mnist();
    return {
      ...base,
      preset: 'cgan',
      description: 'conditional MLP GAN: G (100+10)->256->512->784, D (784+10)->512->256->1, label x4, matching-aware D, leaky ReLU, Adam 1e-3, real label 0.9, batch 64',
      generator: { ...base.generator, input: 110 },
      discriminator: { ...base.discriminator, input: 794 },
      optimizerG: adam(1e-3),
      conditional: { classes: 10, labelScale: 4, mismatch: true },
    };
  },

  /**
   * The GAN paper's Figure 1: G maps uniform noise onto N(4, 0.5^2). D is wider than G and learns
   * 4x faster (two time-scale updates): with equal 32-unit nets and rates G's spread wandered
   * between 0.14 and 0.88 across seeds (docs/presets.md).
   */
  'toy-1d': (): GanConfig => ({
    preset: 'toy-1d',
    description: "the paper's Figure 1: uniform noise -> N(4, 0.5^2); G 1->32->32->1, D 1->128->128->1, Adam 5e-4 (G) / 2e-3 (D)",
    data: { kind: 'normal', mean: 4, std: 0.5 },
    noise: { dim: 1, distribution: 'uniform', lo: -1, hi: 1 },
    generator: { input: 1, layers: [{ units: 32, activation: 'leaky_relu' }, { units: 32, activation: 'leaky_relu' }, { units: 1, activation: 'identity' }], init: 'pytorch' },
    discriminator: { input: 1, layers: [{ units: 128, activation: 'leaky_relu' }, { units: 128, activation: 'leaky_relu' }, { units: 1, activation: 'sigmoid' }], init: 'pytorch' },
    loss: 'bce',
    gLoss: 'non-saturating',
    optimizerG: adam(5e-4),
    optimizerD: adam(2e-3),
    batch: 256,
    k: 1,
    schedule: { kind: 'alternating' },
    iterations: 2000,
    seed: 0,
    logEvery: 50,
  }),

  /**
   * 8 Gaussians on the unit circle (std 0.01), the PacGAN / VEEGAN ring. D learns 4x faster than
   * G (two time-scale updates): at equal rates of 1e-3 G found no mode in 3,000 iterations.
   */
  ring8: (): GanConfig =>
    mixturePreset('ring8', 'a ring of 8 Gaussians (std 0.01) on the unit circle', { lrG: 1e-4, lrD: 4e-4, iterations: 5000 }),

  /** A 5x5 grid of Gaussians at {-4..4}^2 (std 0.05), the PacGAN / VEEGAN grid. */
  grid25: (): GanConfig =>
    mixturePreset('grid25', 'a 5x5 grid of Gaussians (std 0.05) at {-4,-2,0,2,4}^2', { lrG: 1e-3, lrD: 1e-3, iterations: 16_000 }),

  /**
   * ring8 with the hinge loss (D's output a raw score) and spectral normalisation of D's weights
   * (Miyato et al. 2018): Adam 1e-4 with beta1 0, beta2 0.9 for both nets and five D steps per G
   * step, SN-GAN's settings. At ring8's own rates (G 1e-4 / D 4e-4, beta1 0.5, one D step) the
   * spectrally normalised D found no more than 2 of 8 modes in 8,000 iterations (docs/presets.md).
   * The high-quality share swings by 10 points from one 1,000 iterations to the next (68-88%
   * between 9,000 and 14,000); at 12,000 it is at least BCE's ring8.
   */
  'ring8-hinge': (): GanConfig => {
    const base = mixturePreset('ring8', 'a ring of 8 Gaussians (std 0.01) on the unit circle', { lrG: 1e-4, lrD: 1e-4, iterations: 12_000 });
    const sn = { kind: 'adam' as const, lr: 1e-4, beta1: 0, beta2: 0.9, eps: 1e-8 };
    return {
      ...base,
      preset: 'ring8-hinge',
      description: 'ring8 with the hinge loss and a spectrally normalised D (raw score out); G and D are MLPs with 128-unit ReLU layers, Adam 1e-4 (beta1 0, beta2 0.9), 5 D steps per G step',
      discriminator: { ...base.discriminator, layers: scoreOutput(base.discriminator.layers), spectralNorm: true },
      loss: 'hinge',
      optimizerG: sn,
      optimizerD: sn,
      k: 5,
    };
  },

  /**
   * toy-1d with the Wasserstein objective and weight clipping (Arjovsky et al. 2017): a critic
   * (raw score out) trained five steps per G step, RMSProp for both nets, D's weights clipped
   * to [-0.01, 0.01] after each step: the paper's settings but for the rate, 1e-4 for its 5e-5,
   * and 6,000 iterations. At 5e-5 the fit's Wasserstein-1 distance to the target levelled off at
   * 0.082 (BCE's toy-1d: 0.074); at 1e-4 it reaches 0.073 (docs/presets.md).
   */
  'toy-1d-wgan': (): GanConfig => {
    const base = PRESETS['toy-1d']();
    const rmsprop = { kind: 'rmsprop' as const, lr: 1e-4, alpha: 0.99, eps: 1e-8 };
    return {
      ...base,
      preset: 'toy-1d-wgan',
      description: "the paper's Figure 1 as a Wasserstein GAN: uniform noise -> N(4, 0.5^2); G 1->32->32->1, critic 1->128->128->1 (raw score), RMSProp 1e-4, weights clipped to 0.01, 5 critic steps per G step",
      discriminator: { ...base.discriminator, layers: scoreOutput(base.discriminator.layers) },
      loss: 'wasserstein',
      optimizerG: rmsprop,
      optimizerD: { ...rmsprop, clip: 0.01 },
      k: 5,
      iterations: 6000,
    };
  },

  /**
   * DCGAN (Radford et al. 2016) on MNIST, narrowed to train on two CPU cores: G projects the noise
   * to 7x7x64 and doubles the size twice with transposed convolutions, a 3x3 convolution between
   * them (batch norm and ReLU after each but the last, tanh out); D halves it twice with strided
   * convolutions (leaky ReLU, batch norm after the second) and ends in one logit. Pixels map to
   * [-1, 1]; N(0, 0.02) weights; Adam with beta1 0.5, 1.6e-3 for G and 2e-4 for D. D normalises
   * its real and fake rows apart, as two forward passes would.
   */
  dcgan: (): GanConfig => dcganPreset('dcgan', { kind: 'mnist', minmax: false, range: [-1, 1] }, 'MNIST'),

  /** The dcgan preset's networks, rates and schedule on Fashion-MNIST. */
  'dcgan-fashion': (): GanConfig => dcganPreset('dcgan-fashion', { kind: 'fashion', range: [-1, 1] }, 'Fashion-MNIST'),
} satisfies Record<string, () => GanConfig>;

/** DCGAN-style networks for images of [height, width, channels] with height and width divisible by 4. */
export function dcganNetworks(image: readonly number[], widths: { wide: number; narrow: number } = { wide: 64, narrow: 32 }, noise = 100, pack = 1): Pick<GanConfig, 'generator' | 'discriminator'> {
  const [h, w, c] = image;
  if (h % 4 || w % 4) throw new ShapeError(`dcgan: images of ${h}x${w} do not halve twice; give --image-size a multiple of 4`);
  const { wide, narrow } = widths;
  const [h4, w4] = [h / 4, w / 4];
  const up = (filters: number) => ({ kind: 'conv-transpose2d' as const, filters, kernel: 4, stride: 2, padding: 1 });
  const down = (filters: number) => ({ kind: 'conv2d' as const, filters, kernel: 4, stride: 2, padding: 1 });
  const same = (filters: number) => ({ kind: 'conv2d' as const, filters, kernel: 3, stride: 1, padding: 1 });
  return {
    generator: {
      input: noise,
      init: 'dcgan',
      layers: [
        { units: h4 * w4 * wide, bias: false },
        { kind: 'batchnorm', activation: 'relu' },
        { kind: 'reshape', shape: [h4, w4, wide] },
        { ...up(narrow), bias: false },
        { kind: 'batchnorm', activation: 'relu' },
        // One more layer at half size before the last doubling: the cheapest depth that paid
        // (MNIST FD 22.9 -> 16.8 at 4,000 iterations for about a third more time; docs/presets.md).
        { ...same(narrow), bias: false },
        { kind: 'batchnorm', activation: 'relu' },
        { ...up(c), activation: 'tanh' },
      ],
    },
    discriminator: {
      // Packed (PacGAN), D reads its pack's images stacked along height.
      input: [h * pack, w, c],
      init: 'dcgan',
      layers: [
        { ...down(narrow), activation: 'leaky_relu' },
        { ...down(wide), bias: false },
        { kind: 'batchnorm', activation: 'leaky_relu' },
        { kind: 'reshape', shape: [h4 * pack * w4 * wide] },
        { units: 1, activation: 'sigmoid' },
      ],
    },
  };
}

/**
 * G's rate is the one change from the paper's training settings (2e-4 for both nets): eight
 * times D's, at the same cost, took MNIST's FD at 4,000 iterations from 31.1 to 22.9 (G at 4e-4:
 * 26.3; twice 1.6e-3 lost ground) and Fashion-MNIST's from 70.1 to 44.5, before G's 3x3 conv
 * (docs/presets.md).
 */
function dcganPreset(name: string, data: GanConfig['data'], what: string): GanConfig {
  const [lrG, lrD] = [1.6e-3, 2e-4];
  const nets = dcganNetworks([28, 28, 1]);
  const [G, D] = [shapeChain(planNetwork('generator', nets.generator)), shapeChain(planNetwork('discriminator', nets.discriminator))];
  return {
    preset: name,
    description: `DCGAN on ${what}: G ${G} (transposed convs and a 3x3 conv between, batch norm, ReLU, tanh), D ${D} (strided convs, leaky ReLU, batch norm), ${adamRates(lrG, lrD)} beta1 0.5, batch 64`,
    data,
    noise: { dim: 100, distribution: 'normal' },
    ...nets,
    loss: 'bce',
    gLoss: 'non-saturating',
    optimizerG: adam(lrG),
    optimizerD: adam(lrD),
    batch: 64,
    k: 1,
    schedule: { kind: 'alternating' },
    iterations: 4000,
    seed: 0,
    logEvery: 25,
  };
}

function mixturePreset(name: 'ring8' | 'grid25', what: string, run: { lrG: number; lrD: number; iterations: number }): GanConfig {
  const hidden = (n: number) => Array.from({ length: n }, () => ({ units: 128, activation: 'relu' as const }));
  const rates = adamRates(run.lrG, run.lrD);
  return {
    preset: name,
    description: `${what}; G and D are MLPs with 128-unit ReLU layers, ${rates}`,
    data: { kind: 'mixture', name },
    noise: { dim: 2, distribution: 'normal' },
    generator: { input: 2, layers: [...hidden(3), { units: 2, activation: 'identity' }], init: 'pytorch' },
    discriminator: { input: 2, layers: [...hidden(2), { units: 1, activation: 'sigmoid' }], init: 'pytorch' },
    loss: 'bce',
    gLoss: 'non-saturating',
    optimizerG: adam(run.lrG),
    optimizerD: adam(run.lrD),
    batch: 256,
    k: 1,
    schedule: { kind: 'alternating' },
    iterations: run.iterations,
    seed: 0,
    logEvery: 100,
  };
}

/** The same layers with the last one's activation removed: D's output becomes a raw score. */
function scoreOutput(layers: GanConfig['discriminator']['layers']): GanConfig['discriminator']['layers'] {
  return layers.map((l, i) => (i === layers.length - 1 ? { ...l, activation: 'identity' as const } : l));
}

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
export const DEFAULT_PRESET: PresetName = 'mnist';

export function preset(name: string): GanConfig {
  const make = (PRESETS as Record<string, () => GanConfig>)[name];
  if (!make) throw new ShapeError(`unknown preset '${name}' (expected one of ${PRESET_NAMES.join(', ')})`);
  return make();
}
