// A long-lived process: 50 trainers created, trained a few iterations, sampled and destroyed
// on one device must not crash nor grow. Resident memory and the GPU memory in buffers are
// printed at the start and the end; both must stay flat within the stated bounds.

import { expect, test } from 'vitest';
import { GanTrainer } from '../src/gan/trainer.ts';
import { preset } from '../src/gan/presets.ts';
import { useGpu } from './gpu.ts';

const gpu = useGpu();

const TRAINERS = 50;
/** Trainers built before the baseline is taken: pipelines compile and caches fill once. */
const WARM_UP = 5;
/**
 * Allowed resident growth from the baseline to the end. One trainer here holds ~5 MB of
 * buffers, so leaking each trainer's would add 200+ MB over 45 trainers; without a leak the
 * allocators (V8's, lavapipe's) settle 30-60 MB above the baseline within 30 trainers and stay.
 */
const RSS_BOUND_MB = 96;
/**
 * Allowed growth of the bytes in GPU buffers neither destroyed nor collected: trainers destroy
 * their tensors, their readback slots are collected with them, and the context keeps a few
 * staging buffers per size. A leaked trainer would be ~5 MB.
 */
const GPU_BOUND_MB = 1 / 16;
/** Allowed growth of the number of such buffers: each trainer has 3 readback slots, so keeping them would add 135. */
const BUFFER_COUNT_BOUND = 10;

/**
 * Counts the bytes of buffers created on the device and neither destroyed nor collected (a
 * buffer the garbage collector takes is released by Dawn's binding). Weak references, so the
 * count holds nothing alive itself.
 */
function trackBuffers(device: GPUDevice) {
  const live = new Set<{ size: number; ref: WeakRef<GPUBuffer> }>();
  const create = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor) => {
    const buffer = create(descriptor);
    const entry = { size: descriptor.size, ref: new WeakRef(buffer) };
    live.add(entry);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      live.delete(entry);
      destroy();
    };
    return buffer;
  };
  const held = () => {
    for (const e of live) if (!e.ref.deref()) live.delete(e);
    return [...live];
  };
  return {
    get bytes() {
      return held().reduce((n, e) => n + e.size, 0);
    },
    get count() {
      return held().length;
    },
    restore: () => {
      device.createBuffer = create;
    },
  };
}

const mb = (bytes: number) => bytes / 2 ** 20;

function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

test(`${TRAINERS} trainers created, trained, sampled and destroyed in one process: no crash, memory flat`, async () => {
  const ctx = gpu.ctx;
  const buffers = trackBuffers(ctx.device);
  const configs = [
    // Batches large enough that a leaked trainer would stand out of the allocators' noise.
    { ...preset('toy-1d'), batch: 512, logEvery: 4 },
    { ...preset('ring8'), batch: 512, logEvery: 4 },
  ];
  const sample = async () => {
    collect();
    return { rss: process.memoryUsage().rss, gpu: buffers.bytes, buffers: buffers.count };
  };
  const start = await sample();
  let baseline = start;
  let heldPeak = 0;
  const series: string[] = [];
  const began = performance.now();
  try {
    for (let i = 0; i < TRAINERS; i++) {
      const trainer = await GanTrainer.create(ctx, { ...configs[i % configs.length], seed: i });
      const report = await trainer.run(8);
      expect(report && Number.isFinite(report.dLoss), `trainer ${i}`).toBe(true);
      const x = await trainer.generate(trainer.fixedNoise(16));
      expect(x.every(Number.isFinite)).toBe(true);
      expect(trainer.iteration).toBe(8);
      heldPeak = Math.max(heldPeak, trainer.memoryBytes);
      trainer.destroy();
      await ctx.flush();
      if (i === WARM_UP - 1) baseline = await sample();
      if (i % 10 === 9) series.push(`${i + 1}: ${mb((await sample()).rss).toFixed(0)} MB`);
    }
  } finally {
    buffers.restore();
  }
  const end = await sample();
  const seconds = (performance.now() - began) / 1000;
  console.log(
    `${TRAINERS} trainers in ${seconds.toFixed(1)} s (one holds up to ${mb(heldPeak).toFixed(2)} MB of buffers)\n` +
      `  start:                       RSS ${mb(start.rss).toFixed(1)} MB, GPU buffers not destroyed ${mb(start.gpu).toFixed(3)} MB (${start.buffers})\n` +
      `  after ${WARM_UP} (baseline):          RSS ${mb(baseline.rss).toFixed(1)} MB, GPU buffers not destroyed ${mb(baseline.gpu).toFixed(3)} MB (${baseline.buffers})\n` +
      `  end:                         RSS ${mb(end.rss).toFixed(1)} MB, GPU buffers not destroyed ${mb(end.gpu).toFixed(3)} MB (${end.buffers})\n` +
      `  RSS after every 10:          ${series.join(', ')}\n` +
      `  growth from the baseline:    RSS ${mb(end.rss - baseline.rss).toFixed(1)} MB (bound ${RSS_BOUND_MB}), GPU ${mb(end.gpu - baseline.gpu).toFixed(3)} MB (bound ${GPU_BOUND_MB}) in ${end.buffers - baseline.buffers} more buffers (bound ${BUFFER_COUNT_BOUND})`,
  );
  expect(mb(end.rss - baseline.rss)).toBeLessThan(RSS_BOUND_MB);
  expect(mb(end.gpu - baseline.gpu)).toBeLessThan(GPU_BOUND_MB);
  expect(end.buffers - baseline.buffers).toBeLessThan(BUFFER_COUNT_BOUND);
});
