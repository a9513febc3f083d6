// The engine's GAN written as a TensorFlow.js user would write it, for the side-by-side rows of
// `npm run bench`: the same layers (tfjs-network.ts: dense, convolutions, batch norm, reshapes,
// activations), losses, optimizers, batch sizes and schedule as a GanConfig (k D updates on
// [real; fake] rows, normalised apart by D's batch norm, then one G update through a frozen D, or
// the seed experiment's epochs), on whatever tfjs backend is active when it is built.
//
// What differs is only what tfjs offers no GPU path for: noise and row indices are drawn on the
// host (tf.random* and tf.util generate on the CPU and upload), and real rows are gathered from
// a resident set of up to 10,000 dataset rows (MNIST rows pre-scaled, or toy samples drawn once)
// instead of the whole dataset; neither changes the work per iteration.

import * as tf from '@tensorflow/tfjs';
import type { MnistSplit } from '../src/data/mnist.ts';
import { MIXTURES } from '../src/data/toy.ts';
import type { GanConfig } from '../src/gan/config.ts';
import type { OptimizerSpec } from '../src/nn/optimizer.ts';
import { TfjsNetwork } from './tfjs-network.ts';

/** Rows kept resident for gathering real batches (and noise-bank rows). */
const RESIDENT_ROWS = 10_000;

function optimizer(spec: OptimizerSpec): tf.Optimizer {
  if (spec.clip) throw new Error('the tfjs peer has no weight clipping');
  switch (spec.kind) {
    case 'sgd':
      return tf.train.momentum(spec.lr, spec.momentum);
    case 'adam':
      return tf.train.adam(spec.lr, spec.beta1, spec.beta2, spec.eps);
    case 'rmsprop':
      return tf.train.rmsprop(spec.lr, spec.alpha, 0, spec.eps);
  }
}

/** Per-row min-max to [0, 1] in place (MATLAB mapminmax; a constant row is left as it is). */
function minmaxRows(data: Float32Array, cols: number): void {
  for (let r = 0; r < data.length / cols; r++) {
    const row = data.subarray(r * cols, (r + 1) * cols);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of row) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (hi > lo) for (let i = 0; i < row.length; i++) row[i] = (row[i] - lo) / (hi - lo);
  }
}

function gaussian(): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}

/** k distinct row indices below `count`, drawn on the host. */
function sampleRows(count: number, k: number): tf.Tensor1D {
  return tf.tensor1d(Int32Array.from(tf.util.createShuffledIndices(count).subarray(0, k)), 'int32');
}

/**
 * Why the tfjs peer cannot train `config` as the engine does (spectral normalisation, weight
 * clipping), or null: the bench times the engine alone on such configs rather than a different GAN.
 */
export function tfjsPeerGap(config: GanConfig): string | null {
  const spectral = ([['G', config.generator], ['D', config.discriminator]] as const).filter(([, spec]) => spec.spectralNorm).map(([name]) => name);
  if (spectral.length) return `the tfjs peer has no spectral normalisation (${spectral.join(', ')})`;
  if (config.optimizerG.clip || config.optimizerD.clip) return 'the tfjs peer has no weight clipping';
  return null;
}

/** One GAN from a config, on the tfjs backend active at construction. */
export class TfjsGan {
  readonly config: GanConfig;
  readonly G: TfjsNetwork;
  readonly D: TfjsNetwork;
  private readonly optG: tf.Optimizer;
  private readonly optD: tf.Optimizer;
  /** Resident real rows [n, dim] and their labels, for datasets and mixtures; null for the 1-D normal. */
  private readonly real: tf.Tensor2D | null;
  private readonly realLabels: tf.Tensor1D | null;
  private readonly noiseBank: tf.Tensor2D | null;
  /** Running metric sums [2] (D loss, G loss), as the engine sums its metrics per window. */
  private sums: tf.Tensor1D;

  constructor(config: GanConfig, mnist?: MnistSplit) {
    const gap = tfjsPeerGap(config);
    if (gap) throw new Error(`preset '${config.preset}': ${gap}`);
    this.config = config;
    this.G = new TfjsNetwork(config.generator, 'G');
    this.D = new TfjsNetwork(config.discriminator, 'D');
    this.optG = optimizer(config.optimizerG);
    this.optD = optimizer(config.optimizerD);
    const data = config.data;
    this.real = null;
    this.realLabels = null;
    if (data.kind === 'mnist') {
      if (!mnist) throw new Error(`preset '${config.preset}' trains on MNIST: pass the training split`);
      const n = Math.min(RESIDENT_ROWS, mnist.count);
      // Bytes to the data's range ([0, 1] unless it says otherwise), or min-max scaled per row.
      const [lo, hi] = data.minmax ? [0, 1] : (data.range ?? [0, 1]);
      const rows = Float32Array.from(mnist.images.subarray(0, n * 784), (v) => lo + ((hi - lo) * v) / 255);
      if (data.minmax) minmaxRows(rows, 784);
      this.real = tf.tensor2d(rows, [n, 784]);
      this.realLabels = tf.tensor1d(Int32Array.from(mnist.labels.subarray(0, n)), 'int32');
    } else if (data.kind === 'mixture') {
      const { centers, std } = MIXTURES[data.name];
      const rows = new Float32Array(2 * RESIDENT_ROWS);
      for (let i = 0; i < RESIDENT_ROWS; i++) {
        const [cx, cy] = centers[Math.floor(Math.random() * centers.length)];
        rows[2 * i] = cx + std * gaussian();
        rows[2 * i + 1] = cy + std * gaussian();
      }
      this.real = tf.tensor2d(rows, [RESIDENT_ROWS, 2]);
    }
    const noise = config.noise;
    this.noiseBank = null;
    if (noise.bank) {
      const n = Math.min(RESIDENT_ROWS, noise.bank);
      const bank = Float32Array.from({ length: n * noise.dim }, gaussian);
      if (noise.minmax) minmaxRows(bank, noise.dim);
      this.noiseBank = tf.tensor2d(bank, [n, noise.dim]);
    }
    this.sums = tf.zeros([2]);
  }

  /**
   * Records one training iteration (tfjs submits as it goes) and adds its losses to the sums.
   * Nothing is read back.
   */
  iterate(): void {
    const losses = tf.tidy(() => (this.config.schedule.kind === 'epoch' ? this.epochIteration(this.config.schedule.epochRows) : this.alternatingIteration()));
    const next = tf.tidy(() => this.sums.add(losses) as tf.Tensor1D);
    losses.dispose();
    this.sums.dispose();
    this.sums = next;
  }

  /** Reads the metric sums back (what a logging window does) and resets them. */
  async readMetrics(): Promise<Float32Array> {
    const values = (await this.sums.data()) as Float32Array;
    this.sums.dispose();
    this.sums = tf.zeros([2]);
    return values;
  }

  dispose(): void {
    this.G.dispose();
    this.D.dispose();
    this.optG.dispose();
    this.optD.dispose();
    for (const t of [this.real, this.realLabels, this.noiseBank, this.sums]) t?.dispose();
  }

  // --- one iteration ----------------------------------------------------------------------

  private get classes(): number {
    return this.config.conditional?.classes ?? 0;
  }

  private noise(n: number): tf.Tensor2D {
    const s = this.config.noise;
    if (this.noiseBank) return tf.gather(this.noiseBank, sampleRows(this.noiseBank.shape[0], n)) as tf.Tensor2D;
    return s.distribution === 'normal' ? tf.randomNormal([n, s.dim]) : tf.randomUniform([n, s.dim], s.lo ?? -1, s.hi ?? 1);
  }

  /** Real rows [n, dim] and, for the conditional GAN, their labels. */
  private realBatch(n: number): { x: tf.Tensor2D; labels: tf.Tensor1D | null } {
    const data = this.config.data;
    if (data.kind === 'normal') return { x: tf.randomNormal([n, 1], data.mean, data.std), labels: null };
    const rows = sampleRows(this.real!.shape[0], n);
    return { x: tf.gather(this.real!, rows) as tf.Tensor2D, labels: this.classes ? (tf.gather(this.realLabels!, rows) as tf.Tensor1D) : null };
  }

  private withLabels(x: tf.Tensor2D, labels: tf.Tensor1D | null): tf.Tensor2D {
    return labels ? tf.concat2d([x, tf.oneHot(labels, this.classes).toFloat().mul(this.config.conditional?.labelScale ?? 1) as tf.Tensor2D], 1) : x;
  }

  private fakeLabels(n: number): tf.Tensor1D | null {
    return this.classes ? tf.tensor1d(Int32Array.from({ length: n }, () => Math.floor(Math.random() * this.classes)), 'int32') : null;
  }

  private get logits(): boolean {
    return this.config.loss === 'bce';
  }

  /** D's loss on output `out` (logits for BCE, probabilities for MSE) against targets [n, 1]. */
  private dLoss(out: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
    const loss = this.logits ? tf.losses.sigmoidCrossEntropy(targets, out) : out.sub(targets).square().mean().mul(0.5);
    const spec = this.config.optimizerD;
    if (spec.kind !== 'sgd' || spec.l2 === 0) return loss as tf.Scalar;
    // L2 on D's weights (not its biases), as the engine's SGD applies it.
    return this.D.decayed.reduce((sum, w) => sum.add(w.square().sum().mul(spec.l2 / 2)), loss) as tf.Scalar;
  }

  /** G's loss on D's output for generated rows. */
  private gLoss(out: tf.Tensor2D): tf.Scalar {
    const n = out.shape[0];
    if (!this.logits) return out.sub(1).square().mean().mul(0.5) as tf.Scalar;
    if (this.config.gLoss === 'minimax') return tf.losses.sigmoidCrossEntropy(tf.zeros([n, 1]), out).neg() as tf.Scalar;
    return tf.losses.sigmoidCrossEntropy(tf.ones([n, 1]), out) as tf.Scalar;
  }

  /** One D update on rows x (`blocks` kinds of rows, normalised apart) with targets y; returns its loss. */
  private dUpdate(x: tf.Tensor2D, y: tf.Tensor2D, blocks = 1): tf.Scalar {
    return this.optD.minimize(() => this.dLoss(this.D.forward(x, { logits: this.logits, blocks }), y), true, this.D.variables)!;
  }

  /** D's input for rows x: with PacGAN packing, `pack` rows side by side (a reshape, as in the engine). */
  private packed(x: tf.Tensor2D): tf.Tensor2D {
    const p = this.config.pack ?? 1;
    return p === 1 ? x : x.reshape([x.shape[0] / p, x.shape[1] * p]);
  }

  /** One G update from G inputs z (with the labels the fake rows carry into D); D is frozen. */
  private gUpdate(z: tf.Tensor2D, labels: tf.Tensor1D | null): tf.Scalar {
    return this.optG.minimize(() => this.gLoss(this.D.forward(this.packed(this.withLabels(this.G.forward(z), labels)), { logits: this.logits })), true, this.G.variables)!;
  }

  /** The matching-aware D's wrong labels: each real label moved to one of the other classes. */
  private otherLabels(labels: tf.Tensor1D): tf.Tensor1D {
    const c = this.classes;
    const shifts = tf.tensor1d(Int32Array.from({ length: labels.shape[0] }, () => 1 + Math.floor(Math.random() * (c - 1))), 'int32');
    return labels.add(shifts).mod(c).toInt() as tf.Tensor1D;
  }

  private alternatingIteration(): tf.Tensor1D {
    const b = this.config.batch;
    // A matching-aware D also sees the real rows with wrong labels, told fake (as the engine does).
    const mismatch = this.classes > 0 && this.config.conditional?.mismatch === true;
    const n = b / (this.config.pack ?? 1);
    const targets = tf.concat2d([tf.fill([n, 1], this.config.realLabel ?? 1), tf.zeros([mismatch ? 2 * n : n, 1])], 0);
    let dLoss: tf.Scalar = tf.scalar(0);
    for (let j = 0; j < this.config.k; j++) {
      const real = this.realBatch(b);
      const labels = this.fakeLabels(b);
      const fake = this.G.forward(this.withLabels(this.noise(b), labels));
      const parts = [this.withLabels(real.x, real.labels), this.withLabels(fake, labels)];
      if (mismatch) parts.push(this.withLabels(real.x, this.otherLabels(real.labels!)));
      dLoss = this.dUpdate(this.packed(tf.concat2d(parts, 0)), targets, parts.length);
    }
    const labels = this.fakeLabels(b);
    const gLoss = this.gUpdate(this.withLabels(this.noise(b), labels), labels);
    return tf.stack([dLoss, gLoss]) as tf.Tensor1D;
  }

  /** The seed experiment: D epochs over `rows` real + `rows` fake rows, then a G epoch over the noise rows. */
  private epochIteration(rows: number): tf.Tensor1D {
    const b = this.config.batch;
    const real = this.realBatch(rows).x;
    const z = this.noise(rows);
    const pool = tf.concat2d([real, this.G.forward(z)], 0);
    const poolTargets = tf.concat2d([tf.fill([rows, 1], this.config.realLabel ?? 1), tf.zeros([rows, 1])], 0);
    let dLoss: tf.Scalar = tf.scalar(0);
    for (let epoch = 0; epoch < this.config.k; epoch++) {
      const shuffle = sampleRows(2 * rows, 2 * rows);
      for (let j = 0; j < (2 * rows) / b; j++) {
        const at = shuffle.slice(j * b, b);
        dLoss = this.dUpdate(tf.gather(pool, at) as tf.Tensor2D, tf.gather(poolTargets, at) as tf.Tensor2D);
      }
    }
    const shuffle = sampleRows(rows, rows);
    let gLoss: tf.Scalar = tf.scalar(0);
    for (let j = 0; j < rows / b; j++) gLoss = this.gUpdate(tf.gather(z, shuffle.slice(j * b, b)) as tf.Tensor2D, null);
    return tf.stack([dLoss, gLoss]) as tf.Tensor1D;
  }
}
