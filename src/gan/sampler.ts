// A generator loaded from a checkpoint, for sampling without the trainer's data or D.

import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { CheckpointError } from '../io/safetensors.ts';
import { Mlp, type MlpWorkspace } from '../nn/mlp.ts';
import { TensorPool } from '../tensor/pool.ts';
import { download, upload, type Tensor } from '../tensor/tensor.ts';
import type { CheckpointContents } from './checkpoint.ts';
import type { GanConfig } from './config.ts';
import { recordNoiseDraw } from './noise.ts';

export class Sampler {
  readonly config: GanConfig;
  readonly iteration: number;
  private readonly ctx: GpuContext;
  private readonly pool: TensorPool;
  private readonly G: Mlp;
  private readonly batches = new Map<number, { z: Tensor; ws: MlpWorkspace }>();

  constructor(ctx: GpuContext, ckpt: CheckpointContents) {
    this.ctx = ctx;
    this.config = ckpt.config;
    this.iteration = ckpt.iteration;
    this.pool = new TensorPool(ctx);
    this.G = new Mlp(ctx, this.pool, 'generator', ckpt.config.generator);
    const tensors = [...this.G.params.weights.map((t, l) => [`generator.${l}.weight`, t] as const), ...this.G.params.biases.map((t, l) => [`generator.${l}.bias`, t] as const)];
    for (const [name, t] of tensors) {
      const saved = ckpt.tensors.get(name);
      if (!saved || saved.shape.join() !== t.shape.join()) throw new CheckpointError(`checkpoint: '${name}' is missing or not of shape [${t.shape}]`);
      upload(ctx, t, saved.data);
    }
  }

  get dim(): number {
    return this.G.outputSize;
  }

  /** n samples of G(z) for noise drawn as the config describes, keyed by `seed`. */
  async sample(n: number, seed = 0): Promise<Float32Array> {
    if (!Number.isInteger(n) || n < 1) throw new ShapeError(`sample: n must be a positive integer, got ${n}`);
    let batch = this.batches.get(n);
    if (!batch) {
      batch = { z: this.pool.acquire([n, this.config.noise.dim], 'f32', 'z'), ws: this.G.workspace(n) };
      this.batches.set(n, batch);
    }
    this.ctx.run([...recordNoiseDraw(this.ctx, batch.z, this.config.noise, seed, 0xfffffff1), ...this.G.forward(batch.ws, batch.z)]);
    return download(this.ctx, batch.ws.outputs[batch.ws.outputs.length - 1]);
  }

  destroy(): void {
    this.pool.destroy();
  }
}
