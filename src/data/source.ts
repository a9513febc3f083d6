// Real samples for the trainer, assembled on the GPU: MNIST rows gathered from the dataset
// uploaded once as bytes, or toy distributions drawn fresh. A source records the dispatches
// that fill a [rows, dim] tensor; which rows (for a dataset) come from an index tensor the
// trainer draws on the GPU.

import type { GpuContext, Step } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { gatherRows, gatherValues } from '../kernels/gather.ts';
import { sampleMixture } from '../kernels/mixture.ts';
import { randomNormal } from '../kernels/random.ts';
import type { TensorPool } from '../tensor/pool.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { MNIST_PIXELS, type MnistSplit } from './mnist.ts';
import { MIXTURES } from './toy.ts';

export type DataSpec =
  | { kind: 'mnist'; /** per-image min-max to [0, 1] (MATLAB mapminmax), as the seed experiment does */ minmax: boolean }
  | { kind: 'normal'; mean: number; std: number }
  | { kind: 'mixture'; name: keyof typeof MIXTURES };

export interface DrawContext {
  seed: number;
  stream: number;
  clock: Tensor;
}

export interface RealSource {
  readonly dim: number;
  /** Rows of a finite dataset (indices must lie below), or null for a generated distribution. */
  readonly rows: number | null;
  /** Fills `dst` [n, dim]: dataset rows `indices[indexOffset ..]`, or fresh draws. */
  record(dst: Tensor, draw: DrawContext & { indices?: Tensor; indexOffset?: number }): Step[];
  /** Fills `dst` [n] with the dataset's class labels of the same rows (f32), when it has labels. */
  recordLabels?(dst: Tensor, indices: Tensor, indexOffset?: number): Step[];
}

export function dataDim(spec: DataSpec): number {
  return spec.kind === 'mnist' ? MNIST_PIXELS : spec.kind === 'normal' ? 1 : 2;
}

/** Uploads what a source needs (MNIST bytes once) and returns it. */
export function createRealSource(ctx: GpuContext, pool: TensorPool, spec: DataSpec, mnist?: MnistSplit): RealSource {
  switch (spec.kind) {
    case 'mnist': {
      if (!mnist) throw new ShapeError("data 'mnist' needs the MNIST training split loaded");
      const images = pool.from(mnist.images, [mnist.count, MNIST_PIXELS], 'mnist.images');
      const labels = pool.from(mnist.labels, [mnist.count], 'mnist.labels');
      return {
        dim: MNIST_PIXELS,
        rows: mnist.count,
        record(dst, draw) {
          if (!draw.indices) throw new ShapeError('the MNIST source needs row indices');
          return [gatherRows(ctx, images, draw.indices, dst, { indexOffset: draw.indexOffset ?? 0, scale: 1 / 255, minmax: spec.minmax })];
        },
        recordLabels(dst, indices, indexOffset = 0) {
          return [gatherValues(ctx, labels, indices, dst, { indexOffset })];
        },
      };
    }
    case 'normal':
      return {
        dim: 1,
        rows: null,
        record: (dst, draw) => [randomNormal(ctx, dst, { seed: draw.seed, stream: draw.stream, clock: draw.clock, mean: spec.mean, std: spec.std })],
      };
    case 'mixture': {
      const mixture = MIXTURES[spec.name];
      if (!mixture) throw new ShapeError(`unknown mixture '${spec.name}' (expected ${Object.keys(MIXTURES).join(' or ')})`);
      const centers = pool.from(Float32Array.from(mixture.centers.flat()), [mixture.centers.length, 2], `${spec.name}.centers`);
      return {
        dim: 2,
        rows: null,
        record: (dst, draw) => [sampleMixture(ctx, dst, centers, { seed: draw.seed, stream: draw.stream, clock: draw.clock, std: mixture.std })],
      };
    }
  }
}
