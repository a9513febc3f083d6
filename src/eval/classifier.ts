// A classifier of MNIST-shaped images (28x28 grey, ten classes: MNIST's digits, Fashion-MNIST's
// garments) trained with this engine, for scoring generated images: its predicted classes give
// the class histogram (mode coverage) and its penultimate layer the features of a Fréchet
// distance. An MLP (784 -> 512 -> 256 -> 10, ReLU) trained with softmax cross-entropy and
// Adam; every minibatch is gathered on the GPU from a fresh permutation per epoch, so training
// is deterministic on a given adapter. Each data set has its spec (CLASSIFIER_SPECS).
// Platform-free: caching the weights on disk is classifier-cache.ts's job.

import type { ImageDataset } from '../data/datasets.ts';
import { MNIST_CLASSES, MNIST_PIXELS, type MnistSplit } from '../data/mnist.ts';
import type { GpuContext, Step } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { softmaxCrossEntropyGrad, softmaxCrossEntropyLoss } from '../kernels/crossentropy.ts';
import { fill } from '../kernels/fill.ts';
import { gatherRows, gatherValues } from '../kernels/gather.ts';
import { incrementCounter } from '../kernels/optim.ts';
import { randomPermutation } from '../kernels/random.ts';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type SafeTensor } from '../io/safetensors.ts';
import { Network, planNetwork, type NetworkSpec, type NetworkWorkspace } from '../nn/network.ts';
import { elements } from '../nn/layer.ts';
import { Optimizer } from '../nn/optimizer.ts';
import { TensorPool } from '../tensor/pool.ts';
import { download, upload, type Tensor } from '../tensor/tensor.ts';

export interface ClassifierTraining {
  epochs: number;
  batch: number;
  /** Adam's learning rate (beta1 0.9, beta2 0.999, eps 1e-8). */
  lr: number;
  seed: number;
  /** Train on the split's first `rows` rows (default: all of them). */
  rows?: number;
}

export interface ClassifierSpec {
  /** 784 inputs, 10 outputs (logits: the last layer's activation is ignored), at least one hidden layer. */
  net: NetworkSpec;
  training: ClassifierTraining;
}

/** The classifier `npm run eval` uses: reaches ~98% test accuracy in 5 epochs. */
export const MNIST_CLASSIFIER: ClassifierSpec = {
  net: {
    input: MNIST_PIXELS,
    layers: [
      { units: 512, activation: 'relu' },
      { units: 256, activation: 'relu' },
      { units: MNIST_CLASSES, activation: 'identity' },
    ],
    init: 'he',
  },
  training: { epochs: 5, batch: 100, lr: 1e-3, seed: 0 },
};

/**
 * The classifier for Fashion-MNIST's evaluation: MNIST's net, trained longer (garments are
 * harder to tell apart than digits). 89.7% test accuracy on lavapipe; from epoch 12 to 20 it
 * stays within 89.0-89.8% (the per-epoch figures wander by about half a point at this rate).
 */
export const FASHION_CLASSIFIER: ClassifierSpec = {
  net: MNIST_CLASSIFIER.net,
  training: { epochs: 15, batch: 100, lr: 1e-3, seed: 0 },
};

/** The evaluation classifier of each image data set. */
export const CLASSIFIER_SPECS: Record<ImageDataset, ClassifierSpec> = { mnist: MNIST_CLASSIFIER, fashion: FASHION_CLASSIFIER };

export const CLASSIFIER_FORMAT = 'webgpu-gan-classifier/1';

/** Rows per forward pass when predicting (the last chunk is zero-padded). */
const PREDICT_ROWS = 1000;
/** Minibatches per submission while training: long enough to amortise, short enough to stay responsive. */
const BATCHES_PER_SUBMIT = 50;

export interface EpochReport {
  epoch: number;
  /** Mean training cross-entropy over the epoch's minibatches (nats). */
  loss: number;
  seconds: number;
}

export function validateClassifierSpec(spec: ClassifierSpec): void {
  const bad = (msg: string) => new ShapeError(`classifier: ${msg}`);
  const plan = planNetwork('classifier', spec.net);
  if (elements(plan.input) !== MNIST_PIXELS) throw bad(`input must be ${MNIST_PIXELS} pixels, got ${spec.net.input}`);
  if (plan.running.length < 2) throw bad('needs a hidden layer (its output is the feature vector)');
  if (elements(plan.output) !== MNIST_CLASSES) throw bad(`must end in ${MNIST_CLASSES} logits, got ${elements(plan.output)}`);
  const t = spec.training;
  for (const [name, v] of [['epochs', t.epochs], ['batch', t.batch]] as const) {
    if (!Number.isInteger(v) || v < 1) throw bad(`training.${name} must be a positive integer, got ${v}`);
  }
  if (!(t.lr > 0) || !Number.isFinite(t.lr)) throw bad(`training.lr must be a positive number, got ${t.lr}`);
  if (!Number.isSafeInteger(t.seed) || t.seed < 0) throw bad(`training.seed must be an integer >= 0, got ${t.seed}`);
  if (t.rows !== undefined && (!Number.isInteger(t.rows) || t.rows < t.batch)) throw bad(`training.rows must be an integer >= batch, got ${t.rows}`);
}

/** Index of the largest of each row's `classes` values (the first on ties). */
export function argmaxRows(values: ArrayLike<number>, classes: number): Uint8Array {
  const rows = values.length / classes;
  const out = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let j = 1; j < classes; j++) if (values[i * classes + j] > values[i * classes + best]) best = j;
    out[i] = best;
  }
  return out;
}

export class MnistClassifier {
  readonly spec: ClassifierSpec;
  private readonly ctx: GpuContext;
  private readonly pool: TensorPool;
  private readonly net: Network;
  private predictor: { input: Tensor; ws: NetworkWorkspace; steps: Step[] } | null = null;

  private constructor(ctx: GpuContext, spec: ClassifierSpec) {
    validateClassifierSpec(spec);
    this.ctx = ctx;
    this.spec = spec;
    this.pool = new TensorPool(ctx);
    this.net = new Network(ctx, this.pool, 'classifier', spec.net);
  }

  /** Width of the feature vector: the last hidden layer's output. */
  get featureSize(): number {
    const running = planNetwork('classifier', this.spec.net).running;
    return elements(running[running.length - 2].plan.output);
  }

  /** Trains a classifier on `split` (a data set's training split) as `spec` says. */
  static async train(
    ctx: GpuContext,
    split: MnistSplit,
    spec: ClassifierSpec = MNIST_CLASSIFIER,
    opts: { onEpoch?: (r: EpochReport, classifier: MnistClassifier) => unknown } = {},
  ): Promise<MnistClassifier> {
    const c = new MnistClassifier(ctx, spec);
    const t = spec.training;
    const rows = t.rows ?? split.count;
    if (rows > split.count) throw new ShapeError(`classifier: training.rows ${rows} exceeds the split's ${split.count} rows`);
    const batches = Math.floor(rows / t.batch);
    const pool = new TensorPool(ctx);
    try {
      const net = c.net;
      const images = pool.from(split.images.subarray(0, rows * MNIST_PIXELS), [rows, MNIST_PIXELS], 'classifier.images');
      const labels = pool.from(split.labels.subarray(0, rows), [rows], 'classifier.labels');
      const epochClock = pool.acquire([4], 'u32', 'classifier.epoch');
      const order = pool.acquire([rows], 'u32', 'classifier.order');
      const x = pool.acquire([t.batch, MNIST_PIXELS], 'f32', 'classifier.x');
      const y = pool.acquire([t.batch], 'u32', 'classifier.y');
      const metrics = pool.acquire([4], 'f32', 'classifier.metrics');
      const ws = net.workspace(t.batch);
      const optimizer = new Optimizer(ctx, pool, net, { kind: 'adam', lr: t.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
      const [logits, logitGrad] = [net.output(ws), net.outputGrad(ws)];

      ctx.run([fill(ctx, epochClock, 0), ...net.recordInit(t.seed, 0), ...optimizer.recordReset()]);
      // Recorded once, replayed every epoch: the permutation is keyed by the epoch clock.
      const start: Step[] = [fill(ctx, metrics, 0), randomPermutation(ctx, order, { domain: rows, seed: t.seed, stream: net.initStreams, clock: epochClock })];
      const batchSteps: Step[][] = Array.from({ length: batches }, (_, b) => [
        gatherRows(ctx, images, order, x, { indexOffset: b * t.batch, scale: 1 / 255 }),
        gatherValues(ctx, labels, order, y, { indexOffset: b * t.batch }),
        ...net.forward(ws, x, { logits: true }),
        softmaxCrossEntropyLoss(ctx, logits, y, metrics, { slot: 0, scale: 1 / (batches * t.batch), accumulate: true }),
        softmaxCrossEntropyGrad(ctx, logits, y, logitGrad, { scale: 1 / t.batch }),
        ...net.backward(ws, x, { paramGrads: true }),
        ...optimizer.recordUpdate(),
      ]);
      const end: Step[] = [incrementCounter(ctx, epochClock), ...optimizer.recordTick()];

      for (let epoch = 1; epoch <= t.epochs; epoch++) {
        const began = performance.now();
        ctx.run(start);
        for (let b = 0; b < batches; b += BATCHES_PER_SUBMIT) ctx.run(batchSteps.slice(b, b + BATCHES_PER_SUBMIT).flat());
        ctx.run(end);
        const [loss] = await download(ctx, metrics);
        if (!Number.isFinite(loss)) throw new ShapeError(`classifier: training diverged in epoch ${epoch} (loss ${loss})`);
        await opts.onEpoch?.({ epoch, loss, seconds: (performance.now() - began) / 1000 }, c);
      }
      return c;
    } catch (e) {
      c.destroy();
      throw e;
    } finally {
      await ctx.flush().catch(() => undefined);
      pool.destroy();
    }
  }

  /** The weights and the spec as safetensors (weight l is [in, out], as in checkpoints). */
  async toSafetensors(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    const tensors = new Map<string, SafeTensor>();
    for (const [key, t] of this.net.params.byKey) {
      tensors.set(`classifier.${key}`, { dtype: 'F32', shape: [...t.shape], data: await download(this.ctx, t) });
    }
    return encodeSafetensors(tensors, { ...metadata, format: CLASSIFIER_FORMAT, spec: JSON.stringify(this.spec), adapter: this.ctx.adapterLine });
  }

  /** A classifier from toSafetensors' bytes; its metadata comes back alongside. */
  static fromSafetensors(ctx: GpuContext, bytes: Uint8Array, name = 'classifier'): { classifier: MnistClassifier; metadata: Record<string, string> } {
    const { tensors, metadata } = decodeSafetensors(bytes, name);
    if (metadata.format !== CLASSIFIER_FORMAT) throw new CheckpointError(`${name}: not a classifier file (format '${metadata.format ?? 'missing'}', expected '${CLASSIFIER_FORMAT}')`);
    let spec: ClassifierSpec;
    try {
      spec = JSON.parse(metadata.spec);
    } catch {
      throw new CheckpointError(`${name}: the spec in its metadata is not JSON`);
    }
    const c = new MnistClassifier(ctx, spec);
    for (const [key, t] of c.net.params.byKey) {
      const saved = tensors.get(`classifier.${key}`);
      if (!saved || saved.dtype !== 'F32' || saved.shape.join() !== t.shape.join()) {
        c.destroy();
        throw new CheckpointError(`${name}: 'classifier.${key}' is missing or not f32 [${t.shape}]`);
      }
      upload(ctx, t, saved.data);
    }
    return { classifier: c, metadata };
  }

  /**
   * Logits [n, 10] and features [n, featureSize] (the last hidden layer's ReLU outputs) of n
   * images given as f32 pixels in [0, 1], [n, 784] row-major.
   */
  async predict(images: Float32Array): Promise<{ logits: Float32Array; features: Float32Array }> {
    const n = images.length / MNIST_PIXELS;
    if (!Number.isInteger(n) || n < 1) throw new ShapeError(`classifier.predict: ${images.length} values are not a positive number of ${MNIST_PIXELS}-pixel rows`);
    const rows = Math.min(PREDICT_ROWS, n);
    if (!this.predictor || this.predictor.ws.rows !== rows) {
      const input = this.pool.acquire([rows, MNIST_PIXELS], 'f32', 'classifier.input');
      const ws = this.net.workspace(rows, 'classifier.predict');
      this.predictor = { input, ws, steps: this.net.forward(ws, input, { logits: true }) };
    }
    const { input, ws, steps } = this.predictor;
    const classes = MNIST_CLASSES;
    const width = this.featureSize;
    const logits = new Float32Array(n * classes);
    const features = new Float32Array(n * width);
    const chunk = new Float32Array(rows * MNIST_PIXELS);
    for (let start = 0; start < n; start += rows) {
      const count = Math.min(rows, n - start);
      chunk.fill(0);
      chunk.set(images.subarray(start * MNIST_PIXELS, (start + count) * MNIST_PIXELS));
      upload(this.ctx, input, chunk);
      this.ctx.run(steps);
      const [z, f] = await Promise.all([download(this.ctx, this.net.output(ws)), download(this.ctx, ws.layers[ws.layers.length - 2].output)]);
      logits.set(z.subarray(0, count * classes), start * classes);
      features.set(f.subarray(0, count * width), start * width);
    }
    return { logits, features };
  }

  /** Share of `split`'s images classified as their label. */
  async accuracy(split: MnistSplit): Promise<number> {
    const images = Float32Array.from(split.images, (v) => v / 255);
    const predicted = argmaxRows((await this.predict(images)).logits, MNIST_CLASSES);
    let right = 0;
    for (let i = 0; i < split.count; i++) if (predicted[i] === split.labels[i]) right++;
    return right / split.count;
  }

  destroy(): void {
    this.pool.destroy();
  }
}
