// A generator loaded from a checkpoint, for sampling without the trainer's data or D.

import type { GpuContext } from '../gpu/context.ts';
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

export class Sampler {
  readonly config: GanConfig;
  readonly iteration: number;
  private readonly ctx: GpuContext;
  private readonly pool: TensorPool;
  private readonly G: Network;
  private readonly batches = new Map<number, { z: Tensor; input: Tensor; labels: Tensor | null; ws: NetworkWorkspace }>();

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
    let batch = this.batches.get(n);
    if (!batch) {
      const z = this.pool.acquire([n, this.config.noise.dim], 'f32', 'z');
      batch = { z, input: c ? this.pool.acquire([n, this.config.noise.dim + c], 'f32', 'G input') : z, labels: c ? this.pool.acquire([n], 'u32', 'labels') : null, ws: this.G.workspace(n) };
      this.batches.set(n, batch);
    }
    const steps = recordNoiseDraw(this.ctx, batch.z, this.config.noise, seed, SAMPLER_STREAM);
    if (batch.labels) {
      upload(this.ctx, batch.labels, Uint32Array.from({ length: n }, (_, i) => label ?? Math.floor((i * c) / n)));
      steps.push(copyColumns(this.ctx, batch.z, batch.input), oneHot(this.ctx, batch.labels, batch.input, { classes: c, column: this.config.noise.dim, hot: this.config.conditional?.labelScale }));
    }
    // Batch norm normalises with its running statistics: a sample does not depend on its batch.
    this.ctx.run([...steps, ...this.G.forward(batch.ws, batch.input, { training: false })]);
    return toDataUnits(this.config.data, await download(this.ctx, this.G.output(batch.ws)));
  }

  destroy(): void {
    this.pool.destroy();
  }
}
