// A generator loaded from a checkpoint, for sampling without the trainer's data or D.

import type { GpuContext, Step } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { CheckpointError } from '../io/safetensors.ts';
import { Network, type NetworkWorkspace } from '../nn/network.ts';
import { TensorPool } from '../tensor/pool.ts';
import { download, upload, type Tensor } from '../tensor/tensor.ts';
import type { CheckpointContents } from './checkpoint.ts';
import type { GanConfig } from './config.ts';
import { recordNoiseDraw } from './noise.ts';
import { toDataUnits } from '../data/source.ts';
import { copyColumns, oneHot } from '../kernels/columns.ts';

/** The sampler's noise stream (any fixed value: the seed tells draws apart). */
const SAMPLER_STREAM = 0xfffffff1;

/** The buffers for sampling n rows at a time. */
interface SamplerBatch {
  z: Tensor;
  input: Tensor;
  labels: Tensor | null;
  ws: NetworkWorkspace;
}

export class Sampler {
  readonly config: GanConfig;
  readonly iteration: number;
  private readonly ctx: GpuContext;
  private readonly pool: TensorPool;
  private readonly G: Network;
  private readonly batches = new Map<number, SamplerBatch>();

  constructor(ctx: GpuContext, ckpt: CheckpointContents) {
    this.ctx = ctx;
    this.config = ckpt.config;
    this.iteration = ckpt.iteration;
    this.pool = new TensorPool(ctx);
    this.G = new Network(ctx, this.pool, 'generator', ckpt.config.generator);
    for (const [key, t] of [...this.G.params.byKey, ...this.G.buffers]) {
      const name = `generator.${key}`;
      const saved = ckpt.tensors.get(name);
      const file = ckpt.source ?? 'checkpoint';
      if (!saved) throw new CheckpointError(`${file}: tensor '${name}' is missing (the generator of preset '${ckpt.config.preset}' needs it)`);
      if (saved.dtype !== 'F32' || saved.shape.join() !== t.shape.join()) {
        throw new CheckpointError(`${file}: tensor '${name}' is ${saved.dtype}[${saved.shape}], the generator of its config needs F32[${t.shape}]`);
      }
      upload(ctx, t, saved.data);
    }
    ctx.run(this.G.recordRestored());
  }

  get dim(): number {
    return this.G.outputSize;
  }

  /** Classes of a conditional generator, 0 otherwise. */
  get classes(): number {
    return this.config.conditional?.classes ?? 0;
  }

  /**
   * n samples of G(z) in the data's units (images as [0, 1] intensities, points as the data's
   * own values) for noise drawn as the config describes, keyed by `seed`. A conditional
   * generator draws `label` for every sample, or by default label floor(i * classes / n) for
   * sample i (one class per row of a 10-column grid).
   */
  async sample(n: number, seed = 0, label?: number): Promise<Float32Array> {
    if (!Number.isInteger(n) || n < 1) throw new ShapeError(`sample: n must be a positive integer, got ${n}`);
    const c = this.classes;
    if (label !== undefined && (!c || !Number.isInteger(label) || label < 0 || label >= c)) {
      throw new ShapeError(c ? `sample: label must be an integer in [0, ${c}), got ${label}` : `sample: preset '${this.config.preset}' is not conditional; it takes no label`);
    }
    const batch = this.batch(n);
    const steps = recordNoiseDraw(this.ctx, batch.z, this.config.noise, seed, SAMPLER_STREAM);
    const labels = c ? Uint32Array.from({ length: n }, (_, i) => label ?? Math.floor((i * c) / n)) : undefined;
    return toDataUnits(this.config.data, await this.run(batch, steps, labels));
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
    const batch = this.batch(n);
    upload(this.ctx, batch.z, z);
    return this.run(batch, [], labels && Uint32Array.from(labels));
  }

  private batch(n: number): SamplerBatch {
    let batch = this.batches.get(n);
    if (!batch) {
      const c = this.classes;
      const z = this.pool.acquire([n, this.config.noise.dim], 'f32', 'z');
      batch = { z, input: c ? this.pool.acquire([n, this.config.noise.dim + c], 'f32', 'G input') : z, labels: c ? this.pool.acquire([n], 'u32', 'labels') : null, ws: this.G.workspace(n) };
      this.batches.set(n, batch);
    }
    return batch;
  }

  /** G on the batch's z (filled by `steps` or uploaded), with the labels' one-hot columns appended. */
  private async run(batch: SamplerBatch, steps: Step[], labels?: Uint32Array): Promise<Float32Array> {
    if (batch.labels && labels) {
      upload(this.ctx, batch.labels, labels);
      steps.push(copyColumns(this.ctx, batch.z, batch.input), oneHot(this.ctx, batch.labels, batch.input, { classes: this.classes, column: this.config.noise.dim, hot: this.config.conditional?.labelScale }));
    }
    // Batch norm normalises with its running statistics: a sample does not depend on its batch.
    this.ctx.run([...steps, ...this.G.forward(batch.ws, batch.input, { training: false })]);
    return download(this.ctx, this.G.output(batch.ws));
  }

  destroy(): void {
    this.pool.destroy();
  }
}
