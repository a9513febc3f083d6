// Real samples for the trainer, assembled on the GPU. A data kind (the registry DATA_KINDS)
// says what one sample looks like, what host data it needs, how that goes to the GPU and how a
// model value maps back to the data's units; its source records the dispatches that fill a
// [rows, features] tensor. Datasets go to the GPU once, compactly (bytes stay bytes), and rows
// are gathered by an index tensor the trainer draws on the GPU; toy distributions are drawn fresh.

import type { GpuContext, Step } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { gatherRows, gatherValues, type NoiseRide, type RowIndices } from '../kernels/gather.ts';
import { sampleMixture } from '../kernels/mixture.ts';
import { randomNormal } from '../kernels/random.ts';
import type { TensorPool } from '../tensor/pool.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { columnStats, sizeLimitMessage, type Dataset, type DatasetFormat } from './dataset.ts';
import { DataError } from './idx.ts';
import { MNIST_CLASSES, MNIST_SIDE, type Mnist, type MnistSplit } from './mnist.ts';
import { MIXTURES } from './toy.ts';

/**
 * How a dataset's values become model inputs:
 * - `range`: bytes v map to lo + (hi - lo) v / 255 (images: [0, 1] by default, [-1, 1] for a
 *   tanh generator);
 * - `standardize`: per column (x - mean) / std, the statistics kept so samples come back in the
 *   data's units (the default for points);
 * - `none`: float values as they are.
 */
export type DataScaling = { kind: 'range'; lo: number; hi: number } | { kind: 'standardize'; mean: number[]; std: number[] } | { kind: 'none' };

export type DataSpec =
  | {
      kind: 'mnist';
      /** per-image min-max to [0, 1] (MATLAB mapminmax), as the seed experiment does */ minmax: boolean;
      /** The interval pixels map to (default [0, 1]). */
      range?: [number, number];
    }
  | { kind: 'fashion'; range?: [number, number] }
  | { kind: 'normal'; mean: number; std: number }
  | { kind: 'mixture'; name: keyof typeof MIXTURES }
  | {
      kind: 'dataset';
      /** The file or folder, as given. */
      path: string;
      format: DatasetFormat;
      /** One sample's shape and the sample count, as loaded (checked again at every load). */
      shape: number[];
      count: number;
      /** Image folders: the side images were resized to, and the channels kept. */
      imageSize?: number;
      channels?: 1 | 3;
      scaling: DataScaling;
    };

export interface DrawContext {
  seed: number;
  stream: number;
  clock: Tensor;
}

export interface RealSource {
  readonly dim: number;
  /** Rows of a finite dataset (indices must lie below), or null for a generated distribution. */
  readonly rows: number | null;
  /**
   * Fills `dst` [n, dim]: dataset rows `indices[indexOffset ..]` (given, or drawn by the gather),
   * or fresh draws. A data set's gather also draws `noise` when given (generated sources take none).
   */
  record(dst: Tensor, draw: DrawContext & { indices?: RowIndices; indexOffset?: number; noise?: NoiseRide }): Step[];
  /** Fills `dst` [n] with the dataset's class labels of the same rows (f32), when it has labels. */
  recordLabels?(dst: Tensor, indices: Tensor, indexOffset?: number): Step[];
}

/** Data loaded on the host that a source uploads: what each kind `needs`. */
export interface HostData {
  /** MNIST, or any data set in its form (labelled 28 x 28 bytes). */
  mnist?: Mnist;
  fashion?: Mnist;
  dataset?: Dataset;
}

interface DataKind<S extends DataSpec> {
  /** One sample's shape, from the spec alone. */
  shape(spec: S): number[];
  /** Classes of labelled data (a conditional GAN's labels), 0 without labels. */
  classes(spec: S): number;
  /** The host data the source uploads, if any. */
  needs: keyof HostData | null;
  create(ctx: GpuContext, pool: TensorPool, spec: S, host: HostData): RealSource;
  /** Model values (G's output) back in the data's units, in place. Images: [0, 1] intensities. */
  toDataUnits(spec: S, values: Float32Array): Float32Array;
}

const IMAGE_28 = [MNIST_SIDE, MNIST_SIDE, 1];

/** Bytes to [lo, hi] on the GPU, and back to [0, 1] intensities. */
function byteRange(range: [number, number] | undefined): { scale: number; offset: number; back: (v: number) => number } {
  const [lo, hi] = range ?? [0, 1];
  return { scale: (hi - lo) / 255, offset: lo, back: (v) => (v - lo) / (hi - lo) };
}

function labelledImages(name: 'mnist' | 'fashion'): DataKind<Extract<DataSpec, { kind: 'mnist' | 'fashion' }>> {
  return {
    shape: () => IMAGE_28,
    classes: () => MNIST_CLASSES,
    needs: name,
    create(ctx, pool, spec, host) {
      const split = host[name]?.train;
      if (!split) throw new ShapeError(`data '${name}' needs its training split loaded (pass { ${name} })`);
      const minmax = spec.kind === 'mnist' && spec.minmax;
      return byteSource(ctx, pool, name, split, byteRange(spec.range), minmax);
    },
    toDataUnits(spec, values) {
      const { back } = byteRange(spec.range);
      return values.map(back);
    },
  };
}

function byteSource(ctx: GpuContext, pool: TensorPool, name: string, split: MnistSplit, range: { scale: number; offset: number }, minmax: boolean): RealSource {
  const dim = split.images.length / split.count;
  const images = pool.from(split.images, [split.count, dim], `${name}.images`);
  const labels = pool.from(split.labels, [split.count], `${name}.labels`);
  return {
    dim,
    rows: split.count,
    record(dst, draw) {
      if (!draw.indices) throw new ShapeError(`the ${name} source needs row indices`);
      return [gatherRows(ctx, images, draw.indices, dst, { indexOffset: draw.indexOffset ?? 0, scale: range.scale, offset: minmax ? 0 : range.offset, minmax, noise: draw.noise })];
    },
    recordLabels(dst, indices, indexOffset = 0) {
      return [gatherValues(ctx, labels, indices, dst, { indexOffset })];
    },
  };
}

const dataset: DataKind<Extract<DataSpec, { kind: 'dataset' }>> = {
  shape: (spec) => spec.shape,
  classes: () => 0,
  needs: 'dataset',
  create(ctx, pool, spec, host) {
    const d = host.dataset;
    if (!d) throw new ShapeError(`data '${spec.path}' needs its data set loaded (pass { dataset })`);
    if (d.shape.join('x') !== spec.shape.join('x')) throw new DataError(`${d.source}: samples are ${d.shape.join('x')} now, the config says ${spec.shape.join('x')}`);
    const limit = sizeLimitMessage(d, ctx.limits.maxStorageBufferBindingSize);
    if (limit) throw new DataError(limit);
    const dim = spec.shape.reduce((a, b) => a * b, 1);
    const s = spec.scaling;
    let values: Uint8Array | Float32Array = d.values;
    let gather = { scale: 1, offset: 0 };
    if (d.values instanceof Uint8Array) {
      if (s.kind !== 'range') throw new ShapeError(`data '${spec.path}': byte data takes a 'range' scaling, not '${s.kind}'`);
      gather = byteRange([s.lo, s.hi]);
    } else if (s.kind === 'standardize') {
      values = standardize(d.values, dim, s.mean, s.std);
    } else if (s.kind === 'range') {
      throw new ShapeError(`data '${spec.path}': float data takes 'standardize' or 'none', not 'range'`);
    }
    const train = trainingRows(values, d.count, dim);
    const rows = pool.from(train.values, [train.count, dim], `${spec.path} rows`);
    return {
      dim,
      rows: train.count,
      record(dst, draw) {
        if (!draw.indices) throw new ShapeError(`the source '${spec.path}' needs row indices`);
        return [gatherRows(ctx, rows, draw.indices, dst, { indexOffset: draw.indexOffset ?? 0, ...gather, noise: draw.noise })];
      },
    };
  },
  toDataUnits(spec, values) {
    const s = spec.scaling;
    if (s.kind === 'range') return values.map((v) => (v - s.lo) / (s.hi - s.lo));
    if (s.kind === 'none') return values;
    const dims = s.mean.length;
    return values.map((v, i) => v * s.std[i % dims] + s.mean[i % dims]);
  },
};

/**
 * A loaded data set's rows split for evaluation: one row in every block of ten consecutive rows
 * is held out, so `npm run eval` measures samples against rows G never saw, whatever order the
 * file keeps: sorted by class, or periodic (classes interleaved as row mod 10, a spiral's two
 * arms on alternate lines), where a fixed position (rows 9, 19, ...) would hold out one class
 * or one arm only. The row's place in its block is drawn per block by a fixed hash; a last,
 * partial block holds a row out only when that place falls inside it. Sets of fewer than 20
 * rows train on everything and hold none out.
 */
export function isHeldOut(row: number, count: number): boolean {
  return count >= 20 && row % 10 === heldOutPlace(Math.floor(row / 10));
}

/** The place (0-9) of block b's held-out row: murmur3's 32-bit finaliser of b, mod 10. */
function heldOutPlace(block: number): number {
  let h = block >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) % 10;
}

function splitRows<T extends Uint8Array | Float32Array>(values: T, count: number, dim: number, heldOut: boolean): { values: T; count: number } {
  const keep = Array.from({ length: count }, (_, i) => i).filter((i) => isHeldOut(i, count) === heldOut);
  const out = new (values.constructor as new (n: number) => T)(keep.length * dim);
  keep.forEach((r, i) => out.set(values.subarray(r * dim, (r + 1) * dim), i * dim));
  return { values: out, count: keep.length };
}

/** The rows a data set trains on. */
export function trainingRows<T extends Uint8Array | Float32Array>(values: T, count: number, dim: number): { values: T; count: number } {
  return splitRows(values, count, dim, false);
}

/** The rows a data set holds out for evaluation (empty below 20 rows). */
export function heldOutRows<T extends Uint8Array | Float32Array>(values: T, count: number, dim: number): { values: T; count: number } {
  return splitRows(values, count, dim, true);
}

function standardize(values: Float32Array, dims: number, mean: number[], std: number[]): Float32Array {
  if (mean.length !== dims || std.length !== dims) throw new ShapeError(`standardize: ${mean.length} means and ${std.length} stds for ${dims} columns`);
  return values.map((v, i) => (v - mean[i % dims]) / std[i % dims]);
}

/** The scaling a data set gets unless the config says otherwise: bytes to [0, 1], points standardised per column. */
export function defaultScaling(d: Dataset): DataScaling {
  if (d.values instanceof Uint8Array) return { kind: 'range', lo: 0, hi: 1 };
  if (d.shape.length === 1) {
    const train = trainingRows(d.values, d.count, d.shape[0]);
    const { mean, std } = columnStats(train.values, train.count, d.shape[0]);
    return { kind: 'standardize', mean, std };
  }
  return { kind: 'none' };
}

export const DATA_KINDS: Record<DataSpec['kind'], DataKind<never>> = {
  mnist: labelledImages('mnist'),
  fashion: labelledImages('fashion'),
  normal: {
    shape: () => [1],
    classes: () => 0,
    needs: null,
    create: (ctx, _pool, spec: Extract<DataSpec, { kind: 'normal' }>) => ({
      dim: 1,
      rows: null,
      record: (dst, draw) => [randomNormal(ctx, dst, { seed: draw.seed, stream: draw.stream, clock: draw.clock, mean: spec.mean, std: spec.std })],
    }),
    toDataUnits: (_spec, values) => values,
  },
  mixture: {
    shape: () => [2],
    classes: () => 0,
    needs: null,
    create(ctx, pool, spec: Extract<DataSpec, { kind: 'mixture' }>) {
      const mixture = MIXTURES[spec.name];
      if (!mixture) throw new ShapeError(`unknown mixture '${spec.name}' (expected ${Object.keys(MIXTURES).join(' or ')})`);
      const centers = pool.from(Float32Array.from(mixture.centers.flat()), [mixture.centers.length, 2], `${spec.name}.centers`);
      return {
        dim: 2,
        rows: null,
        record: (dst, draw) => [sampleMixture(ctx, dst, centers, { seed: draw.seed, stream: draw.stream, clock: draw.clock, std: mixture.std })],
      };
    },
    toDataUnits: (_spec, values) => values,
  },
  dataset,
};

function kindOf(spec: DataSpec): DataKind<DataSpec> {
  const k = spec && DATA_KINDS[spec.kind];
  if (!k) throw new ShapeError(`data kind '${(spec as { kind?: string } | undefined)?.kind}' is not one of ${Object.keys(DATA_KINDS).join(', ')}`);
  return k as DataKind<DataSpec>;
}

/** One sample's shape: [features], or [height, width, channels] for images. */
export function dataShape(spec: DataSpec): number[] {
  return kindOf(spec).shape(spec);
}

export function dataDim(spec: DataSpec): number {
  return dataShape(spec).reduce((a, b) => a * b, 1);
}

/** Classes of labelled data, 0 without labels. */
export function dataClasses(spec: DataSpec): number {
  return kindOf(spec).classes(spec);
}

/** The host data a spec's source needs loaded (null: none). */
export function dataNeeds(spec: DataSpec): keyof HostData | null {
  return kindOf(spec).needs;
}

/** Model values in the data's units (images: [0, 1] intensities; points: the data's own units). */
export function toDataUnits(spec: DataSpec, values: Float32Array): Float32Array {
  return kindOf(spec).toDataUnits(spec, values);
}

/** Uploads what a source needs and returns it. */
export function createRealSource(ctx: GpuContext, pool: TensorPool, spec: DataSpec, host: HostData = {}): RealSource {
  return kindOf(spec).create(ctx, pool, spec, host);
}
