// The device both sides of `npm run bench` run on, and TensorFlow.js timed as fairly as the
// engine is.
//
// One Dawn instance serves both: the engine's context and tfjs's WebGPU backend each request
// the instance's high-performance adapter and open their own device on it, so they share the
// adapter (both adapter lines are printed and compared) but not a queue. The instance is made
// with the timing options (unquantized timestamps), which only the engine's timer uses.
//
// Dawn's Node binding busy-polls the main thread while a GPU promise is pending, which on a CPU
// adapter takes a core from the adapter's threads. The engine sleeps through most of the
// expected GPU time before it awaits; the tfjs blocks here do the same before `data()`, so that
// neither side's figure includes that polling.

import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import type { GpuContext } from '../src/gpu/context.ts';
import { LINUX_SOFTWARE_ADAPTER_HINT } from '../src/gpu/errors.ts';
import { openContext } from '../src/gpu/open.ts';
import { measure, sleep, type Cost } from './common.ts';
import { TIMING_DAWN_OPTIONS } from './timing.ts';

export interface TfjsSide {
  /** tfjs's WebGPU adapter, described as the engine describes its own. */
  adapterLine: string;
  /** Whether tfjs got the adapter the engine got (vendor, architecture, device, description). */
  sameAdapter: boolean;
  /** Makes `name` ('webgpu' or 'cpu') the active tfjs backend. */
  use(name: TfjsBackendName): Promise<void>;
}

export type TfjsBackendName = 'webgpu' | 'cpu';

export interface BenchGpu {
  ctx: GpuContext;
  /** Opens another engine context on the same instance and adapter (a fresh pipeline cache). */
  gpu: { open(): Promise<GpuContext> };
  /** null when tfjs was not asked for. */
  tfjs: TfjsSide | null;
}

/** Opens the engine's context and, with `tfjs`, tfjs's WebGPU backend on the same Dawn instance. */
export async function openBenchGpu(options: { tfjs: boolean }): Promise<BenchGpu> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const webgpu = createRequire(import.meta.url)('webgpu') as { create(options: string[]): GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create(TIMING_DAWN_OPTIONS);
  const backend = process.platform === 'darwin' ? 'metal' : process.platform === 'win32' ? 'd3d12' : 'vulkan';
  const open = () => openContext(gpu, { backend, noAdapterHint: LINUX_SOFTWARE_ADAPTER_HINT });
  const ctx = await open();
  if (!options.tfjs) return { ctx, gpu: { open }, tfjs: null };

  // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it is first loaded.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not initialise its WebGPU backend');
  await tf.ready();
  const info = (tf.backend() as unknown as { device: GPUDevice }).device.adapterInfo;
  const ours = ctx.adapter;
  const sameAdapter =
    info.vendor === ours.vendor && info.architecture === ours.architecture && info.device === ours.device && info.description === ours.description;
  const adapterLine = `${info.description || info.device || info.vendor} [vendor ${info.vendor || '?'}, ${info.architecture || '?'}, backend ${backend}]`;
  return {
    ctx,
    gpu: { open },
    tfjs: {
      adapterLine,
      sameAdapter,
      async use(name) {
        if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to initialise`);
        await tf.ready();
      },
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
