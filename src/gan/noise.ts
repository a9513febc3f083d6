// Drawing G's input noise as a config describes it (normal or uniform, optionally each row
// min-max scaled to [0, 1] as the seed experiment does).

import type { GpuContext, Step } from '../gpu/context.ts';
import { rowMinMax } from '../kernels/gather.ts';
import { randomNormal, randomUniform } from '../kernels/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { NoiseSpec } from './config.ts';

/** Fills z [n, noise.dim]; keyed by the clock when given (fresh noise per iteration). */
export function recordNoiseDraw(ctx: GpuContext, z: Tensor, noise: NoiseSpec, seed: number, stream: number, clock?: Tensor): Step[] {
  const steps: Step[] =
    noise.distribution === 'normal'
      ? [randomNormal(ctx, z, { seed, stream, clock })]
      : [randomUniform(ctx, z, { seed, stream, clock, lo: noise.lo ?? -1, hi: noise.hi ?? 1 })];
  if (noise.minmax) steps.push(rowMinMax(ctx, z));
  return steps;
}
