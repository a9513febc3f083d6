// Which matmul strategy to use on this adapter, per shape class. Before any tuning the choice is
// a heuristic (CPU adapters: `register`, GPUs: `tiled`); `autotuneMatmul` times both strategies
// on a representative shape per class and keeps the faster (the heuristic's unless the other is
// clearly faster), in memory per context and optionally in an injected store (localStorage in a
// browser, a JSON file in Node) keyed by the adapter. The choice only changes speed: both
// strategies meet the same tolerances (src/checks/matmul.ts).

import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { createTensor } from '../tensor/tensor.ts';
import { MATMUL_STRATEGIES, type MatmulStrategy } from './gemm.ts';
import { matmul } from './matmul.ts';
import { FORMS, heuristicMatmulStrategy, matmulShapeClass, setMatmulChoices, SIZE_CLASSES, type MatmulChoice, type MatmulShape } from './strategy.ts';

export { clearMatmulChoices, heuristicMatmulStrategy, matmulChoices, matmulShapeClass, matmulStrategyFor, setMatmulChoices, type MatmulChoice, type MatmulShape } from './strategy.ts';

/** A storage with localStorage's shape; `globalThis.localStorage` fits as it is. */
export interface TuningStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
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

/** Bumped whenever a matmul kernel changes, so choices measured on the old kernels are ignored. */
const KERNELS_VERSION = 5;

/** The store key for this adapter's choices. */
export function tuningStoreKey(ctx: GpuContext): string {
  return `webgpu-gan:matmul-strategy:v${KERNELS_VERSION}:${ctx.adapterLine}`;
}

/**
 * One representative shape per class for the three forms: every size class except `xl`, which
 * costs seconds to time on a CPU adapter and looks up the `l` choice instead.
 */
export function defaultTuningShapes(): MatmulShape[] {
  return FORMS.flatMap((f) => SIZE_CLASSES.filter((c) => c.name !== 'xl').map((c) => ({ m: c.m, n: c.n, k: c.k, ...f })));
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
