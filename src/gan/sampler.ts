// A generator loaded from a checkpoint, for sampling without the trainer's data or D.

import type { GpuContext, Step } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { CheckpointError } from '../io/safetensors.ts';
import { Network, type NetworkWorkspace } from '../nn/network.ts';
import { TensorPool } from '../tensor/pool.ts';
import { download, upload, VIEW_ALIGNMENT, type Tensor } from '../tensor/tensor.ts';
import type { CheckpointContents } from './checkpoint.ts';
import type { GanConfig } from './config.ts';
import { recordNoiseDraw } from './noise.ts';
import { toDataUnits } from '../data/source.ts';
import { copyColumns, oneHot } from '../kernels/columns.ts';
import { AVERAGE_STATE } from '../nn/optimizer.ts';

/** The sampler's noise stream (any fixed value: the seed tells draws apart). */
const SAMPLER_STREAM = 0xfffffff1;
/** The noise stream of the passes that set an averaged G's running statistics (pass i draws seed i). */
const STANDING_STREAM = 0xfffffff2;
/**
 * Batches whose statistics an averaged G's running statistics are the mean of: with 16 of
 * dcgan's 64 rows its average read FD 16.44 and 16.39 on two runs, where 66 passes at torch's
 * momentum 0.1 read 16.19 and 16.19 (a difference within what seeds move) in four times the time.
 */
const STANDING_PASSES = 16;

/** The noise (and G's input) of one sample count. */
interface NoiseBatch {
  z: Tensor;
  input: Tensor;
  labels: Tensor | null;
}

/**
 * Rows per forward pass of G. Bounds G's buffers, and keeps each dispatch's grid within the
 * adapter's 65,535 workgroups per dimension (a conv layer's rows x pixels: 10,000 MNIST
 * samples at once overflow it). A multiple of 64, so row views of the noise start on the
 * 256-byte boundaries storage bindings need.
 */
export const SAMPLE_BATCH = 256;

/**
 * How G's batch norm layers normalise when sampling. 'running': with the running statistics
 * kept in training (torch's eval mode; a sample does not depend on the others, and an exported
 * model gives the same values). 'batch': with each forward pass's own statistics over the
 * training batch's row count, as G's training passes normalise (torch's train mode, the way
 * the DCGAN paper's code draws its samples); the running statistics lag the weights they
 * average over, and the two can give different samples.
 */
export type SampleNormalisation = 'running' | 'batch';

/**
 * Which of G's weights to sample: 'average', the moving average of the weights that training
 * kept (optimizerG.average), or 'trained', the weights as the last update left them.
 */
export type SampleWeights = 'average' | 'trained';

export interface SamplerOptions {
  /** Default 'running'. Only matters for generators with batch norm. */
  normalisation?: SampleNormalisation;
  /** Default 'average' where the checkpoint keeps one, else 'trained'. */
  weights?: SampleWeights;
}

export class Sampler {
  readonly config: GanConfig;
  readonly iteration: number;
  private readonly ctx: GpuContext;
  private readonly pool: TensorPool;
  private readonly G: Network;
  /** The noise (and G's input) of each sample count asked for. */
  private readonly noise = new Map<number, NoiseBatch>();
  /** G's buffers for each chunk size run (SAMPLE_BATCH and the remainders). */
  private readonly workspaces = new Map<number, NetworkWorkspace>();
  /** Buffers of G's input rows where a chunk's rows cannot be bound in place, by workspace. */
  private readonly staged = new Map<NetworkWorkspace, Tensor>();
  /** Rows per forward pass: SAMPLE_BATCH, or with batch statistics the training batch's rows. */
  private readonly chunk: number;
  readonly normalisation: SampleNormalisation;
  readonly weights: SampleWeights;
  /**
   * With the average and running statistics, where the checkpoint holds none for the average:
   * the training-mode passes of G that set them (0 where G has no batch norm).
   */
  readonly standingPasses: number;

  constructor(ctx: GpuContext, ckpt: CheckpointContents, opts: SamplerOptions = {}) {
    this.ctx = ctx;
    this.normalisation = opts.normalisation ?? 'running';
    if (this.normalisation !== 'running' && this.normalisation !== 'batch') throw new ShapeError(`sampler: normalisation must be 'running' or 'batch', got '${String(this.normalisation)}'`);
    const average = ckpt.config.optimizerG.average;
    this.weights = opts.weights ?? (average === undefined ? 'trained' : 'average');
    if (this.weights !== 'average' && this.weights !== 'trained') throw new ShapeError(`sampler: weights must be 'average' or 'trained', got '${String(this.weights)}'`);
    if (this.weights === 'average' && average === undefined) {
      throw new ShapeError(`sampler: ${ckpt.source ?? 'the checkpoint'} keeps no average of G's weights (its optimizerG has no 'average'); sample the trained weights`);
    }
    this.chunk = this.normalisation === 'batch' ? ckpt.config.batch : SAMPLE_BATCH;
    this.config = ckpt.config;
    this.iteration = ckpt.iteration;
    this.pool = new TensorPool(ctx);
    this.G = new Network(ctx, this.pool, 'generator', ckpt.config.generator);
    // The average's own buffers (running statistics) are saved beside it by saveCheckpoint; a
    // checkpoint being saved has none yet, and the sampler makes them (recordStandingStatistics).
    const averaged = this.weights === 'average';
    const ownBuffers = averaged && [...this.G.buffers.keys()].every((key) => ckpt.tensors.has(`generator.${key}.${AVERAGE_STATE}`));
    const file = ckpt.source ?? 'checkpoint';
    for (const [key, t, isParam] of [...[...this.G.params.byKey].map(([k, t]) => [k, t, true] as const), ...[...this.G.buffers].map(([k, t]) => [k, t, false] as const)]) {
      const name = `generator.${key}${averaged && (isParam || ownBuffers) ? `.${AVERAGE_STATE}` : ''}`;
      const saved = ckpt.tensors.get(name);
      if (!saved) throw new CheckpointError(`${file}: tensor '${name}' is missing (the generator of preset '${ckpt.config.preset}' needs it)`);
      if (saved.dtype !== 'F32' || saved.shape.join() !== t.shape.join()) {
        throw new CheckpointError(`${file}: tensor '${name}' is ${saved.dtype}[${saved.shape}], the generator of its config needs F32[${t.shape}]`);
      }
      upload(ctx, t, saved.data);
    }
    ctx.run(this.G.recordRestored());
    this.standingPasses = averaged && !ownBuffers && this.normalisation === 'running' ? this.recordStandingStatistics() : 0;
  }

  /** G's buffers as this sampler normalises with them (for an average, after its standing passes). */
  get buffers(): ReadonlyMap<string, Tensor> {
    return this.G.buffers;
  }

  /**
   * The running statistics that go with the averaged weights: the saved ones were kept by the
   * trained weights' passes. STANDING_PASSES training-mode passes of the averaged G over fresh
   * noise (a training batch of rows each, as training normalises) set them to the mean of their
   * batch statistics, pass i weighing 1 / (i + 1) (the statistics of STANDING_PASSES x batch
   * rows). Deterministic: pass i draws seed i of its own stream. Returns the passes recorded
   * (0 where G keeps no running statistics).
   */
  private recordStandingStatistics(): number {
    if (![...this.G.buffers.keys()].some((key) => key.endsWith('running_mean'))) return 0;
    const rows = this.config.batch;
    const batch = this.batch(rows);
    const ws = this.workspaceFor(rows);
    const c = this.classes;
    if (batch.labels) upload(this.ctx, batch.labels, Uint32Array.from({ length: rows }, (_, i) => i % c));
    for (let i = 0; i < STANDING_PASSES; i++) {
      const steps = recordNoiseDraw(this.ctx, batch.z, this.config.noise, i, STANDING_STREAM);
      if (batch.labels) steps.push(copyColumns(this.ctx, batch.z, batch.input), oneHot(this.ctx, batch.labels, batch.input, { classes: c, column: this.config.noise.dim, hot: this.config.conditional?.labelScale }));
      this.ctx.run([...steps, ...this.G.forward(ws, batch.input, { training: true, runningMomentum: 1 / (i + 1) })]);
    }
    return STANDING_PASSES;
  }

  get dim(): number {
    return this.G.outputSize;
  }

  /** Classes of a conditional generator, 0 otherwise. */
  get classes(): number {
    return this.config.conditional?.classes ?? 0;
  }

  /**
   * One sample's shape in the data's layout: a user's data set's own ([height, width, channels]
   * or [features], whatever G's layers), else G's output shape ([28, 28, 1] from a
   * convolutional generator; [784] from the dense MNIST presets; [2] and [1] for the toys).
   */
  get sampleShape(): number[] {
    return this.config.data.kind === 'dataset' ? [...this.config.data.shape] : [...this.G.outputShape];
  }

  /**
   * n samples of G(z) in the data's units (images as [0, 1] intensities, points as the data's
   * own values) for noise drawn as the config describes, keyed by `seed`. A conditional
   * generator draws `label` for every sample, or by default label floor(i * classes / n) for
   * sample i (one class per row of a 10-column grid). The noise is one draw of n rows; G runs
   * over it SAMPLE_BATCH rows at a time, so its buffers and dispatch grids stay small whatever n
   * (with batch statistics, a training batch of rows at a time).
   */
  async sample(n: number, seed = 0, label?: number): Promise<Float32Array> {
    if (!Number.isInteger(n) || n < 1) throw new ShapeError(`sample: n must be a positive integer, got ${n}`);
    const c = this.classes;
    if (label !== undefined && (!c || !Number.isInteger(label) || label < 0 || label >= c)) {
      throw new ShapeError(c ? `sample: label must be an integer in [0, ${c}), got ${label}` : `sample: preset '${this.config.preset}' is not conditional; it takes no label`);
    }
    // With batch statistics every pass holds a full training batch: the draw is rounded up to
    // whole batches and the rows past n dropped.
    const drawn = this.normalisation === 'batch' ? Math.ceil(n / this.chunk) * this.chunk : n;
    const batch = this.batch(drawn);
    const steps = recordNoiseDraw(this.ctx, batch.z, this.config.noise, seed, SAMPLER_STREAM);
    const labels = c ? Uint32Array.from({ length: drawn }, (_, i) => label ?? Math.floor((Math.min(i, n - 1) * c) / n)) : undefined;
    const out = await this.run(batch, drawn, steps, labels);
    return toDataUnits(this.config.data, drawn === n ? out : out.subarray(0, n * this.dim));
  }

  /**
   * G's output in its own units (before the data's scaling: what a model exported from the same
   * checkpoint gives) for given noise rows z [n * noise.dim], and for a conditional generator
   * a label per row, which becomes the one-hot columns sample() appends.
   */
  async generate(z: Float32Array, labels?: ArrayLike<number>): Promise<Float32Array> {
    const dim = this.config.noise.dim;
    const n = z.length / dim;
    if (!Number.isInteger(n) || n < 1) throw new ShapeError(`generate: z holds ${z.length} values, not a positive whole number of ${dim}-value noise rows`);
    const c = this.classes;
    if (c && (labels?.length !== n || !Array.from(labels).every((l) => Number.isInteger(l) && l >= 0 && l < c))) {
      throw new ShapeError(`generate: a conditional generator needs one label in [0, ${c}) per noise row (${n})`);
    }
    if (!c && labels !== undefined) throw new ShapeError(`generate: preset '${this.config.preset}' is not conditional; it takes no labels`);
    if (n % this.chunk && this.normalisation === 'batch') throw new ShapeError(`generate: with batch statistics G runs on whole training batches; ${n} noise rows are not a multiple of ${this.chunk}`);
    const batch = this.batch(n);
    upload(this.ctx, batch.z, z);
    return this.run(batch, n, [], labels && Uint32Array.from(labels));
  }

  private batch(n: number): NoiseBatch {
    let batch = this.noise.get(n);
    if (!batch) {
      const c = this.classes;
      const z = this.pool.acquire([n, this.config.noise.dim], 'f32', 'z');
      batch = { z, input: c ? this.pool.acquire([n, this.config.noise.dim + c], 'f32', 'G input') : z, labels: c ? this.pool.acquire([n], 'u32', 'labels') : null };
      this.noise.set(n, batch);
    }
    return batch;
  }

  /** G (in its own units) on the batch's n rows of z (filled by `steps` or uploaded), with the labels' one-hot columns appended. */
  private async run(batch: NoiseBatch, n: number, steps: Step[], labels?: Uint32Array): Promise<Float32Array> {
    if (batch.labels && labels) {
      upload(this.ctx, batch.labels, labels);
      steps.push(copyColumns(this.ctx, batch.z, batch.input), oneHot(this.ctx, batch.labels, batch.input, { classes: this.classes, column: this.config.noise.dim, hot: this.config.conditional?.labelScale }));
    }
    this.ctx.run(steps);
    const dim = this.dim;
    const out = new Float32Array(n * dim);
    const reads: Promise<void>[] = [];
    try {
      for (let start = 0; start < n; start += this.chunk) {
        const rows = Math.min(this.chunk, n - start);
        const ws = this.workspaceFor(rows);
        const x = this.inputRows(batch.input, start, rows, ws);
        this.ctx.run([...x.steps, ...this.G.forward(ws, x.rows, { training: this.normalisation === 'batch' })]);
        // The copy is queued now, before the next chunk's forward pass overwrites the output.
        reads.push(download(this.ctx, this.G.output(ws)).then((y) => out.set(y, start * dim)));
      }
      await Promise.all(reads);
    } finally {
      await Promise.allSettled(reads);
    }
    return out;
  }

  /**
   * Rows [start, start + rows) of `input` as G's input: a view where they start on the 256-byte
   * boundary storage bindings need (always, for SAMPLE_BATCH chunks), else a copy into a buffer
   * of the workspace's own (batch statistics over a training batch of, say, 100 rows).
   */
  private inputRows(input: Tensor, start: number, rows: number, ws: NetworkWorkspace): { steps: Step[]; rows: Tensor } {
    const rowBytes = input.shape[1] * 4;
    const offset = input.byteOffset + start * rowBytes;
    if (offset % VIEW_ALIGNMENT === 0) return { steps: [], rows: input.rowsView(start, rows) };
    let staged = this.staged.get(ws);
    if (!staged) {
      staged = this.pool.acquire([rows, input.shape[1]], 'f32', 'sampler.staged input');
      this.staged.set(ws, staged);
    }
    return { steps: [this.ctx.copy(input.buffer, staged.buffer, rows * rowBytes, offset, 0, 'sampler.input rows')], rows: staged };
  }

  private workspaceFor(rows: number): NetworkWorkspace {
    let ws = this.workspaces.get(rows);
    if (!ws) {
      ws = this.G.workspace(rows);
      this.workspaces.set(rows, ws);
    }
    return ws;
  }

  destroy(): void {
    this.pool.destroy();
  }
}
