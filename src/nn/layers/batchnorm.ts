// Batch normalisation (Ioffe & Szegedy 2015) as torch.nn.BatchNorm2d has it, over every position
// of each channel of an NHWC image (per feature for flat input, as BatchNorm1d): training passes
// normalise by the batch's statistics, per block of rows when the rows hold several kinds (a D
// batch of real rows then fake rows is normalised as two batches, as two forward passes would
// be), and move the running statistics that sampling normalises with. Parameters are named as
// torch names them: `weight` (gamma), `bias` (beta), buffers `running_mean`, `running_var`.

import { ShapeError } from '../../gpu/errors.ts';
import { batchNormBackward, batchNormForward, batchNormSavedShape } from '../../kernels/batchnorm.ts';
import { fill } from '../../kernels/fill.ts';
import { randomNormal } from '../../kernels/random.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { asImage, elements, type BatchNormSpec, type Layer, type LayerKind } from '../layer.ts';
import { checkActivation } from './validate.ts';

export const batchnorm: LayerKind<BatchNormSpec> = {
  plan(spec, input, where) {
    const activation = checkActivation(where, spec.activation);
    if (spec.momentum !== undefined && !(spec.momentum >= 0 && spec.momentum <= 1)) throw new ShapeError(`${where}: momentum must be in [0, 1], got ${spec.momentum}`);
    if (spec.eps !== undefined && !(spec.eps > 0 && Number.isFinite(spec.eps))) throw new ShapeError(`${where}: eps must be a positive number, got ${spec.eps}`);
    const channels = asImage(input)[2];
    return {
      output: input,
      params: [
        { name: 'weight', shape: [channels], decay: false },
        { name: 'bias', shape: [channels], decay: false },
      ],
      buffers: [
        { name: 'running_mean', shape: [channels], initial: 0 },
        { name: 'running_var', shape: [channels], initial: 1 },
      ],
      activation,
    };
  },

  build({ ctx, pool, spec, plan, input, params, grads, read, buffers, init, leak, label }): Layer {
    const channels = asImage(input)[2];
    const cols = elements(input);
    const running = { mean: buffers.running_mean, var: buffers.running_var };
    const common = { channels, pool, momentum: spec.momentum, eps: spec.eps };
    // Where a frozen network's backward (or a first layer's) sends what it does not need.
    let spare: { dgamma: Tensor; dbeta: Tensor } | null = null;
    const spareGrads = () => (spare ??= { dgamma: pool.acquire([channels], 'f32', `${label}.unused dgamma`), dbeta: pool.acquire([channels], 'f32', `${label}.unused dbeta`) });
    return {
      recordInit: (seed, stream) => [
        // gamma = 1 (DCGAN's scheme: 1 + N(0, 0.02)), beta = 0 (the flat buffer starts at 0).
        init === 'dcgan' ? randomNormal(ctx, params.weight, { seed, stream, mean: 1, std: 0.02 }) : fill(ctx, params.weight, 1),
      ],
      workspace: (rows, name) => ({
        rows,
        output: pool.acquire([rows, cols], 'f32', `${name}.y`),
        delta: pool.acquire([rows, cols], 'f32', `${name}.delta`),
        saved: {},
      }),
      forward(ws, x, opts) {
        const saved = (ws.saved![`stats/${opts.blocks}`] ??= pool.acquire(batchNormSavedShape(opts.blocks, channels), 'f32', `${label}.statistics of ${opts.blocks} blocks`));
        return batchNormForward(ctx, x, read.weight, read.bias, ws.output, saved, running, {
          ...common,
          momentum: opts.runningMomentum ?? spec.momentum,
          groups: opts.blocks,
          training: opts.training,
          activation: opts.activation ?? plan.activation,
          leak,
          label: `${label}.forward`,
        });
      },
      backward(ws, x, opts) {
        const saved = ws.saved![`stats/${opts.blocks}`];
        if (!saved) throw new ShapeError(`${label}.backward: no training forward pass over ${opts.blocks} blocks recorded on this workspace`);
        const into = opts.paramGrads ? { dgamma: grads.weight, dbeta: grads.bias } : spareGrads();
        if (opts.inputGrad?.columns !== undefined) throw new ShapeError(`${label}: batch norm cannot pass a gradient for some input columns only`);
        const dx = opts.inputGrad?.tensor ?? (ws.saved!.unusedDx ??= pool.acquire([ws.rows, cols], 'f32', `${label}.unused dx`));
        return batchNormBackward(ctx, ws.delta, x, read.weight, saved, dx, into.dgamma, into.dbeta, {
          channels,
          pool,
          groups: opts.blocks,
          gradOf: opts.inputGrad?.gradOf,
          accumulate: opts.paramGrads && opts.accumulate,
          label: `${label}.backward`,
        });
      },
    };
  },
};
