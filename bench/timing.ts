// GPU timing for benchmarks: how long a list of recorded steps takes on the device.
//
// With the `timestamp-query` feature, a batch of back-to-back repetitions is encoded into one
// compute pass bracketed by timestamps, so the figure is device time alone. Dawn quantizes
// timestamps unless the context was opened with `disable-dawn-features=timestamp_quantization`
// (TIMING_DAWN_OPTIONS); the batch is sized to run for milliseconds either way, well above the
// quantum. Without timestamps the batch is one submit timed by the host clock up to
// onSubmittedWorkDone, which adds the submit and wake-up latency once per batch.
//
// Dawn's Node binding polls for completion in a busy loop on the main thread while a GPU promise
// is pending; on a CPU adapter that loop competes with the adapter's own worker threads (on a
// 2-core machine it costs them a large share of a core). So once a batch's length is known, the
// timer sleeps through most of it before awaiting, and the figures are the adapter's alone.

import type { GpuContext, Step } from '../src/gpu/context.ts';

/** Dawn options for precise timestamps; pass to openNodeContext({ dawnOptions }). */
export const TIMING_DAWN_OPTIONS = ['disable-dawn-features=timestamp_quantization'];

export type TimingMethod = 'timestamp' | 'wall';

export interface TimingOptions {
  /** Unmeasured batches first (pipeline warm-up, caches, CPU frequency). Default 1. */
  warmupBatches?: number;
  /** Measured batches; the result reports their median and minimum. Default 5. */
  batches?: number;
  /** Repetitions per batch; default: chosen so a batch lasts about `targetBatchMs`. */
  repsPerBatch?: number;
  /** Target length of one batch when `repsPerBatch` is not given. Default 50 ms. */
  targetBatchMs?: number;
  /** Upper bound on the automatic repetitions per batch. Default 1000. */
  maxRepsPerBatch?: number;
  /** Force wall-clock timing even where timestamps exist. */
  method?: TimingMethod;
}

export interface Timing {
  /** Median time of one repetition of the steps, in milliseconds. */
  medianMs: number;
  /** Fastest batch's time per repetition. */
  minMs: number;
  /** Per-repetition time of every measured batch. */
  samplesMs: number[];
  repsPerBatch: number;
  method: TimingMethod;
}

export class GpuTimer {
  readonly ctx: GpuContext;
  readonly method: TimingMethod;
  private querySet: GPUQuerySet | null = null;
  private resolveBuffer: GPUBuffer | null = null;

  constructor(ctx: GpuContext, method?: TimingMethod) {
    this.ctx = ctx;
    this.method = method ?? (ctx.features.has('timestamp-query') ? 'timestamp' : 'wall');
  }

  /** Times `steps`: dispatches only for timestamp timing (one pass); copies force wall time. */
  async time(steps: readonly Step[], options: TimingOptions = {}): Promise<Timing> {
    const method = options.method ?? (steps.some((s) => s.kind === 'copy') ? 'wall' : this.method);
    const batches = options.batches ?? 5;
    let reps = options.repsPerBatch;
    if (reps === undefined) {
      // One probe repetition sizes the batch (it also warms the pipelines).
      const probe = await this.batch(steps, 1, method, 0);
      const target = options.targetBatchMs ?? 50;
      reps = Math.max(1, Math.min(options.maxRepsPerBatch ?? 1000, Math.round(target / Math.max(probe, 1e-3))));
    }
    let expectedMs = 0;
    for (let i = 0; i < (options.warmupBatches ?? 1); i++) expectedMs = await this.batch(steps, reps, method, expectedMs);
    const samplesMs: number[] = [];
    for (let i = 0; i < batches; i++) {
      const ms = await this.batch(steps, reps, method, expectedMs || Math.min(...samplesMs, Infinity) * reps);
      samplesMs.push(ms / reps);
    }
    const sorted = [...samplesMs].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    return { medianMs, minMs: sorted[0], samplesMs, repsPerBatch: reps, method };
  }

  /** Frees the query set and its buffer (the timer may be used again afterwards). */
  destroy(): void {
    this.querySet?.destroy();
    this.resolveBuffer?.destroy();
    this.querySet = null;
    this.resolveBuffer = null;
  }

  /**
   * Runs `reps` repetitions of `steps` in one submit; returns the batch's milliseconds. Sleeps
   * through 80% of `expectedMs` (when known and finite) before awaiting the GPU.
   */
  private async batch(steps: readonly Step[], reps: number, method: TimingMethod, expectedMs: number): Promise<number> {
    const { ctx } = this;
    const all: Step[] = [];
    for (let i = 0; i < reps; i++) all.push(...steps);
    const idle = () => (Number.isFinite(expectedMs) && expectedMs > 2 ? sleep(0.8 * expectedMs) : Promise.resolve());
    if (method === 'wall') {
      await ctx.flush();
      const start = performance.now();
      ctx.run(all);
      await idle();
      await ctx.flush();
      return performance.now() - start;
    }
    ctx.throwIfFailed();
    this.querySet ??= ctx.device.createQuerySet({ label: 'timer', type: 'timestamp', count: 2 });
    this.resolveBuffer ??= ctx.device.createBuffer({
      label: 'timer:resolve',
      size: 16,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const encoder = ctx.device.createCommandEncoder({ label: 'timer' });
    ctx.encode(encoder, all, { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 });
    encoder.resolveQuerySet(this.querySet, 0, 2, this.resolveBuffer, 0);
    ctx.device.queue.submit([encoder.finish()]);
    await idle();
    const [begin, end] = new BigUint64Array(await ctx.readBuffer(this.resolveBuffer, 0, 16));
    return Number(end - begin) / 1e6;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Floating-point operations per second in GFLOP/s for `flops` done in `ms`. */
export function gflops(flops: number, ms: number): number {
  return flops / (ms * 1e6);
}
