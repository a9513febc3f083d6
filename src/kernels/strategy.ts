// Which matmul strategy a context uses for a product: the choice installed for its shape class
// (by the tuner, autotune.ts, or read back from a store), else the heuristic for the kind of
// adapter. Kernels read their default here; choosing and measuring is the tuner's job, so the
// kernels never import the tuner (which launches them).

import type { GpuContext } from '../gpu/context.ts';
import type { MatmulStrategy } from './gemm.ts';

/** The sizes of a product C[M, N] = op(A)[M, K] op(B)[K, N] and the operands' storage layout. */
export interface MatmulShape {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
}

export interface MatmulChoice {
  /** The shape class the choice applies to (see matmulShapeClass). */
  shapeClass: string;
  /** The shape that was timed. */
  shape: MatmulShape;
  strategy: MatmulStrategy;
  /** GFLOP/s measured per strategy on `shape`. */
  gflops: Partial<Record<MatmulStrategy, number>>;
  /** Measured now, or read back from the store. */
  source: 'measured' | 'stored';
}

/** Size classes by multiply-adds M N K: upper bounds (exclusive) and the shape timed for each. */
export const SIZE_CLASSES: readonly { name: string; below: number; m: number; k: number; n: number }[] = [
  { name: 'xs', below: 2 ** 18, m: 64, k: 32, n: 64 },
  { name: 's', below: 2 ** 22, m: 100, k: 100, n: 128 },
  { name: 'm', below: 2 ** 26, m: 128, k: 784, n: 256 },
  { name: 'l', below: 2 ** 29, m: 512, k: 512, n: 512 },
  { name: 'xl', below: Infinity, m: 1024, k: 1024, n: 1024 },
];

export const FORMS = [
  { transA: false, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: false },
] as const;

/** The class a shape falls in: its operand layout and its size (multiply-adds) bucket. */
export function matmulShapeClass(shape: MatmulShape): string {
  const macs = shape.m * shape.n * shape.k;
  const size = SIZE_CLASSES.find((c) => macs < c.below)!.name;
  return `${shape.transA ? 'T' : 'N'}${shape.transB ? 'T' : 'N'}:${size}`;
}

const chosen = new WeakMap<GpuContext, Map<string, MatmulChoice>>();

/** The strategy a context uses before tuning: what wins on its kind of adapter. */
export function heuristicMatmulStrategy(ctx: GpuContext): MatmulStrategy {
  return ctx.adapter.isCpu ? 'register' : 'tiled';
}

/**
 * The strategy matmul() uses for `shape` (synchronous): the tuned choice for its class, else the
 * tuned choice of the nearest size class of the same form, else the heuristic.
 */
export function matmulStrategyFor(ctx: GpuContext, shape: MatmulShape): MatmulStrategy {
  const choices = chosen.get(ctx);
  if (!choices?.size) return heuristicMatmulStrategy(ctx);
  const key = matmulShapeClass(shape);
  const exact = choices.get(key);
  if (exact) return exact.strategy;
  const [form, size] = key.split(':');
  const at = SIZE_CLASSES.findIndex((c) => c.name === size);
  for (let d = 1; d < SIZE_CLASSES.length; d++) {
    for (const i of [at - d, at + d]) {
      const near = SIZE_CLASSES[i] && choices.get(`${form}:${SIZE_CLASSES[i].name}`);
      if (near) return near.strategy;
    }
  }
  return heuristicMatmulStrategy(ctx);
}

/** The choices a context holds (tuned or installed), by class. */
export function matmulChoices(ctx: GpuContext): MatmulChoice[] {
  return [...(chosen.get(ctx)?.values() ?? [])];
}

/** Installs choices (e.g. from another context on the same adapter); later ones win. */
export function setMatmulChoices(ctx: GpuContext, choices: readonly MatmulChoice[]): void {
  const map = chosen.get(ctx) ?? new Map<string, MatmulChoice>();
  for (const c of choices) map.set(c.shapeClass, c);
  chosen.set(ctx, map);
}

/** Forgets a context's choices: matmul() falls back to the heuristic. */
export function clearMatmulChoices(ctx: GpuContext): void {
  chosen.delete(ctx);
}

