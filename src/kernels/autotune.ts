// Which matmul strategy to use on this adapter, per shape class. Before any tuning the choice is
// a heuristic (CPU adapters: `register`, GPUs: `tiled`); `autotuneMatmul` times both strategies
// on a representative shape per class and keeps the faster (the heuristic's unless the other is
// clearly faster), in memory per context and optionally in an injected store (localStorage in a
// browser, a JSON file in Node) keyed by the adapter. The choice only changes speed: both
// strategies meet the same tolerances (src/checks/matmul.ts).

import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { createTensor } from '../tensor/tensor.ts';
import { matmul, MATMUL_STRATEGIES, type MatmulShape, type MatmulStrategy } from './matmul.ts';

/** A storage with localStorage's shape; `globalThis.localStorage` fits as it is. */
export interface TuningStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
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

export interface AutotuneOptions {
  /** Where choices persist across runs, keyed by the adapter; default none (memory only). */
  store?: TuningStore;
  /** Measure even when the store already holds a choice for a class. */
  force?: boolean;
  /** Device milliseconds to spend timing each strategy on each shape, roughly (default 60). */
  budgetMs?: number;
}

/** Timing rounds per shape; strategies alternate within a round. */
const TUNING_ROUNDS = 3;
/** How much faster than the heuristic's strategy another must measure to replace it. */
const SWITCH_MARGIN = 1.2;

/** Size classes by multiply-adds M N K: upper bounds (exclusive) and the shape timed for each. */
const SIZE_CLASSES: readonly { name: string; below: number; m: number; k: number; n: number }[] = [
  { name: 'xs', below: 2 ** 18, m: 64, k: 32, n: 64 },
  { name: 's', below: 2 ** 22, m: 100, k: 100, n: 128 },
  { name: 'm', below: 2 ** 26, m: 128, k: 784, n: 256 },
  { name: 'l', below: 2 ** 29, m: 512, k: 512, n: 512 },
  { name: 'xl', below: Infinity, m: 1024, k: 1024, n: 1024 },
];

const FORMS = [
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

/**
 * One representative shape per class for the three forms: every size class except `xl`, which
 * costs seconds to time on a CPU adapter and looks up the `l` choice instead.
 */
export function defaultTuningShapes(): MatmulShape[] {
  return FORMS.flatMap((f) => SIZE_CLASSES.filter((c) => c.name !== 'xl').map((c) => ({ m: c.m, n: c.n, k: c.k, ...f })));
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

/** Bumped whenever a matmul kernel changes, so choices measured on the old kernels are ignored. */
const KERNELS_VERSION = 4;

/** The store key for this adapter's choices. */
export function tuningStoreKey(ctx: GpuContext): string {
  return `webgpu-gan:matmul-strategy:v${KERNELS_VERSION}:${ctx.adapterLine}`;
}

/**
 * Times both strategies on each shape (default: one per class and form, defaultTuningShapes)
 * and installs the faster per class. Classes already in `store` are read back, not measured,
 * unless `force`. Matmuls recorded before this keep the strategy they were recorded with.
 */
export async function autotuneMatmul(ctx: GpuContext, shapes: readonly MatmulShape[] = defaultTuningShapes(), options: AutotuneOptions = {}): Promise<MatmulChoice[]> {
  const stored = options.force ? {} : readStore(ctx, options.store);
  const results: MatmulChoice[] = [];
  const timer = new DispatchTimer(ctx);
  try {
    for (const shape of shapes) {
      const shapeClass = matmulShapeClass(shape);
      const known = stored[shapeClass];
      if (known) {
        results.push({ ...known, source: 'stored' });
        continue;
      }
      const gflops: Partial<Record<MatmulStrategy, number>> = {};
      const a = createTensor(ctx, shape.transA ? [shape.k, shape.m] : [shape.m, shape.k], 'f32', 'tune:a');
      const b = createTensor(ctx, shape.transB ? [shape.n, shape.k] : [shape.k, shape.n], 'f32', 'tune:b');
      const c = createTensor(ctx, [shape.m, shape.n], 'f32', 'tune:c');
      try {
        const dispatches = MATMUL_STRATEGIES.map((strategy) =>
          matmul(ctx, a, b, c, { transA: shape.transA, transB: shape.transB, strategy, label: `autotune ${strategy}` }),
        );
        // Strategies take turns, so a burst of other work on the machine hits both alike; each
        // keeps its fastest batch.
        const best = MATMUL_STRATEGIES.map(() => Infinity);
        for (let round = 0; round < TUNING_ROUNDS; round++) {
          for (let i = 0; i < dispatches.length; i++) best[i] = Math.min(best[i], await timer.time(dispatches[i], (options.budgetMs ?? 60) / TUNING_ROUNDS));
        }
        MATMUL_STRATEGIES.forEach((strategy, i) => (gflops[strategy] = (2 * shape.m * shape.n * shape.k) / (best[i] * 1e6)));
      } finally {
        await ctx.flush();
        for (const t of [a, b, c]) t.buffer.destroy();
      }
      // The heuristic's strategy stays unless the other is clearly faster: timing noise must not
      // flip a choice that only wins by a hair.
      const preferred = heuristicMatmulStrategy(ctx);
      const fastest = MATMUL_STRATEGIES.reduce((best, s) => ((gflops[s] ?? 0) > (gflops[best] ?? 0) ? s : best));
      const strategy = (gflops[fastest] ?? 0) > SWITCH_MARGIN * (gflops[preferred] ?? 0) ? fastest : preferred;
      results.push({ shapeClass, shape: { ...shape }, strategy, gflops, source: 'measured' });
    }
  } finally {
    timer.destroy();
  }
  setMatmulChoices(ctx, results);
  if (options.store && results.some((r) => r.source === 'measured')) {
    const all = { ...readStore(ctx, options.store) };
    for (const r of results) all[r.shapeClass] = { ...r, source: 'stored' };
    options.store.setItem(tuningStoreKey(ctx), JSON.stringify(all));
  }
  return results;
}

function readStore(ctx: GpuContext, store: TuningStore | undefined): Record<string, MatmulChoice> {
  const text = store?.getItem(tuningStoreKey(ctx));
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as Record<string, MatmulChoice>;
    // A damaged or foreign entry is ignored (and replaced by the next measurement).
    const valid = Object.entries(parsed).filter(([key, c]) => c && c.shapeClass === key && MATMUL_STRATEGIES.includes(c.strategy));
    return Object.fromEntries(valid);
  } catch {
    return {};
  }
}

/**
 * Device time of one dispatch: timestamp queries around a pass of back-to-back repetitions when
 * the device has them, else host time to completion of one submit of them. Repetitions fill
 * about `budgetMs`, so Dawn's timestamp quantization and submit latency are small against it.
 */
class DispatchTimer {
  private readonly ctx: GpuContext;
  private readonly querySet: GPUQuerySet | null;
  private readonly resolve: GPUBuffer | null;

  constructor(ctx: GpuContext) {
    this.ctx = ctx;
    const timestamps = ctx.features.has('timestamp-query');
    this.querySet = timestamps ? ctx.device.createQuerySet({ label: 'autotune', type: 'timestamp', count: 2 }) : null;
    this.resolve = timestamps
      ? ctx.device.createBuffer({ label: 'autotune:resolve', size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC })
      : null;
  }

  /** Milliseconds per dispatch: the faster of two batches after one warm-up dispatch. */
  async time(d: Dispatch, budgetMs: number): Promise<number> {
    const once = await this.batch(d, 1, 0);
    const reps = Math.max(1, Math.min(200, Math.round(budgetMs / 2 / Math.max(once, 1e-3))));
    let best = Infinity;
    for (let i = 0; i < 2; i++) best = Math.min(best, (await this.batch(d, reps, Math.min(best, once) * reps)) / reps);
    return best;
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolve?.destroy();
  }

  /**
   * One submit of `reps` dispatches. Dawn's Node binding busy-polls while a GPU promise is
   * pending, which on a CPU adapter takes a core from the work being timed, so this sleeps
   * through most of the expected time first.
   */
  private async batch(d: Dispatch, reps: number, expectedMs: number): Promise<number> {
    const { ctx } = this;
    const steps = new Array<Dispatch>(reps).fill(d);
    const idle = () => (expectedMs > 2 ? new Promise<void>((resolve) => setTimeout(resolve, 0.8 * expectedMs)) : Promise.resolve());
    if (!this.querySet || !this.resolve) {
      await ctx.flush();
      const start = performance.now();
      ctx.run(steps);
      await idle();
      await ctx.flush();
      return performance.now() - start;
    }
    ctx.throwIfFailed();
    const encoder = ctx.device.createCommandEncoder({ label: 'autotune' });
    ctx.encode(encoder, steps, { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 });
    encoder.resolveQuerySet(this.querySet, 0, 2, this.resolve, 0);
    ctx.device.queue.submit([encoder.finish()]);
    await idle();
    const [begin, end] = new BigUint64Array(await ctx.readBuffer(this.resolve, 0, 16));
    return Number(end - begin) / 1e6;
  }
}
