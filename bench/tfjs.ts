// TensorFlow.js timed as fairly as the engine is, on any platform: its WebGPU backend opened
// through whatever `navigator.gpu` the edge provides (the browser's own, or Dawn's in Node,
// where bench/node.ts installs it first), compared with the engine's adapter.
//
// Dawn's Node binding busy-polls the main thread while a GPU promise is pending, which on a CPU
// adapter takes a core from the adapter's threads. The engine sleeps through most of the
// expected GPU time before it awaits; the tfjs blocks here do the same before `data()`, so that
// neither side's figure includes that polling (in a browser the sleeps cost nothing).

import * as tf from '@tensorflow/tfjs';
import type { AdapterSummary } from '../src/gpu/context.ts';
import { measure, sleep, type Cost } from './common.ts';

export interface TfjsSide {
  /** tfjs's WebGPU adapter, described as the engine describes its own. */
  adapterLine: string;
  /** Whether tfjs got the adapter the engine got (vendor, architecture, device, description). */
  sameAdapter: boolean;
  /** tfjs's package versions. */
  version: typeof tf.version;
  /** Makes `name` ('webgpu' or 'cpu') the active tfjs backend. */
  use(name: TfjsBackendName): Promise<void>;
}

export type TfjsBackendName = 'webgpu' | 'cpu';

/**
 * tfjs's WebGPU backend, active; `ours` is the engine's adapter and `backend` how it is reached
 * (for the line). `navigator.gpu` must exist when this runs: the backend registers itself only
 * if it does when it is first loaded.
 */
export async function openTfjsSide(ours: AdapterSummary, backend: string): Promise<TfjsSide> {
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not initialise its WebGPU backend');
  await tf.ready();
  const info = (tf.backend() as unknown as { device: GPUDevice }).device.adapterInfo;
  const sameAdapter =
    info.vendor === ours.vendor && info.architecture === ours.architecture && info.device === ours.device && info.description === ours.description;
  // Browsers may hide the description and device, as the engine's adapter line allows for.
  const name = info.description || info.device || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown device';
  return {
    adapterLine: `${name} [vendor ${info.vendor || '?'}, ${info.architecture || '?'}, backend ${backend}]`,
    sameAdapter,
    version: tf.version,
    async use(name) {
      if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialise`);
      await tf.ready();
    },
  };
}

/** Submits what tfjs's WebGPU backend has recorded but not yet submitted (no-op on the CPU backend). */
export function submitTfjs(): void {
  const b = tf.backend() as unknown as { commandEncoder?: GPUCommandEncoder | null; endComputePassEncoder?(): void; submitQueue?(): void };
  if (b.commandEncoder && b.endComputePassEncoder && b.submitQueue) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}

/**
 * Waits for work already submitted that should take `expectedMs` from `startedAt`: sleeps
 * through half of that (less what has passed), then awaits `done`. Half, because a sleep that
 * overshoots adds itself to the figure, and an estimate can be twice the truth (one taken while
 * the binding polled, or during a burst of other work on the machine); pass the fastest time
 * seen so far, so an estimate can only come down.
 */
export async function awaitAfterIdle<T>(startedAt: number, expectedMs: number, done: () => Promise<T>): Promise<T> {
  const left = startedAt + 0.5 * expectedMs - performance.now();
  if (Number.isFinite(left) && left > 2) await sleep(left);
  return done();
}

/**
 * Time per call of `op` (a tfjs op returning a fresh tensor): `reps` calls back to back and one
 * read of the last result. `expectedMs` (per call) lets it sleep first.
 */
export async function timeTfjsOp(op: () => tf.Tensor, reps: number, expectedMs: number): Promise<Cost> {
  return measure(reps, async () => {
    const start = performance.now();
    let out: tf.Tensor | null = null;
    for (let i = 0; i < reps; i++) {
      out?.dispose();
      out = op();
    }
    submitTfjs();
    await awaitAfterIdle(start, reps * expectedMs, () => out!.data());
    out!.dispose();
  });
}
