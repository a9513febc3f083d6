// One kernel of ours beside one tfjs op doing the same work, timed the same way on both sides:
// wall clock over back-to-back calls ending in one wait, in alternating rounds, with the CPU time
// of the whole process beside it. The matmul rows (ours vs tf.matMul) and the conv rows (ours vs
// tf.conv2d and its gradients) both stand on it; each also times its kernels alone on the device.

import type * as tf from '@tensorflow/tfjs';
import type { Dispatch, GpuContext } from '../src/gpu/context.ts';
import { measure, median, type Cost } from './common.ts';
import { awaitAfterIdle, timeTfjsOp } from './tfjs.ts';
import { gflops, type GpuTimer, type Timing } from './timing.ts';

/**
 * Wall-clock GFLOP/s of ours and of tfjs, medians of alternating rounds, and GFLOP per
 * CPU-second (every thread of the process: host and adapter workers alike; NaN, null in JSON,
 * where the platform has no CPU clock).
 */
export interface WallComparison {
  ours: number;
  tfjs: number;
  oursPerCpuSecond: number;
  tfjsPerCpuSecond: number;
  oursSamples: Cost[];
  tfjsSamples: Cost[];
  repsOurs: number;
  repsTfjs: number;
}

/** Operand values in [-1, 1), the same on both sides: every product and sum stays normal (no denormal slow paths on a CPU). */
export function hostData(size: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => ((i * 2654435761) % 1000) / 500 - 1);
}

/** Device time of one dispatch; one that takes over a second is timed once, not in batches. */
export async function timeDispatch(timer: GpuTimer, d: Dispatch, quick: boolean): Promise<Timing> {
  const once = await timer.time([d], { repsPerBatch: 1, batches: 1, warmupBatches: 1 });
  if (once.medianMs > 1000) return once;
  return timer.time([d], { batches: quick ? 3 : 5, targetBatchMs: quick ? 30 : 60 });
}

/** Time per dispatch: `reps` in one submit, then a wait (sleeping through part of `expectedMs` each). */
async function timeWall(ctx: GpuContext, d: Dispatch, reps: number, expectedMs: number): Promise<Cost> {
  await ctx.flush();
  return measure(reps, async () => {
    const start = performance.now();
    ctx.run(new Array<Dispatch>(reps).fill(d));
    await awaitAfterIdle(start, reps * expectedMs, () => ctx.flush());
  });
}

/**
 * Our dispatch and tfjs's op (returning a fresh tensor each call) doing `flops` of work, wall
 * clock, in alternating rounds. `oursDeviceMs` (the device time of one dispatch) sizes our
 * batches; tfjs's first call (its shader compile) is left out.
 */
export async function versusTfjs(ctx: GpuContext, ours: Dispatch, op: () => tf.Tensor, flops: number, oursDeviceMs: number, quick: boolean): Promise<WallComparison> {
  // tfjs compiles its shader on the first call; the second gives the time per call.
  await timeTfjsOp(op, 1, 0);
  let tfjsMs = (await timeTfjsOp(op, 1, 0)).ms;
  let oursMs = Math.max(oursDeviceMs, 1e-3);
  const target = quick ? 60 : 150;
  const repsFor = (ms: number) => Math.max(1, Math.min(500, Math.round(target / ms)));
  const [repsOurs, repsTfjs] = [repsFor(oursMs), repsFor(tfjsMs)];
  // Calls that last seconds get fewer rounds: each round costs the slower side's seconds again.
  const slowest = Math.max(oursMs, tfjsMs);
  const rounds = slowest > 10_000 ? 1 : slowest > 1500 ? (quick ? 1 : 3) : quick ? 3 : 5;
  const oursSamples: Cost[] = [];
  const tfjsSamples: Cost[] = [];
  for (let r = 0; r < rounds; r++) {
    oursSamples.push(await timeWall(ctx, ours, repsOurs, oursMs));
    tfjsSamples.push(await timeTfjsOp(op, repsTfjs, tfjsMs));
    oursMs = Math.min(oursMs, ...oursSamples.map((s) => s.ms));
    tfjsMs = Math.min(tfjsMs, ...tfjsSamples.map((s) => s.ms));
  }
  const rate = (samples: Cost[], key: keyof Cost) => gflops(flops, median(samples.map((s) => s[key])));
  return {
    ours: rate(oursSamples, 'ms'),
    tfjs: rate(tfjsSamples, 'ms'),
    oursPerCpuSecond: rate(oursSamples, 'cpuMs'),
    tfjsPerCpuSecond: rate(tfjsSamples, 'cpuMs'),
    oursSamples,
    tfjsSamples,
    repsOurs,
    repsTfjs,
  };
}
