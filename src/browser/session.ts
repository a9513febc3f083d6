// The page's training session: one GpuContext, at most one GanTrainer, and the loop that
// trains it in short chunks so the page can draw between them. No DOM here: main.ts shows
// what the session reports. Every GPU use (a chunk of training, a preview, a checkpoint) runs
// alone, in order, so a checkpoint's tensors and its iteration count always agree.

import type { Mnist } from '../data/mnist.ts';
import type { GanConfig } from '../gan/config.ts';
import { readCheckpoint, saveCheckpoint, trainerFromCheckpoint } from '../gan/checkpoint.ts';
import { GanTrainer, type MetricsReport } from '../gan/trainer.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { Rgba } from '../viz/image.ts';
import { previewSamples } from '../viz/samples.ts';

export interface Preview {
  image: Rgba;
  /** G(z) for the fixed noise rows, [n, data dim] row-major. */
  samples: Float32Array;
  iteration: number;
}

export interface SessionListener {
  metrics(m: MetricsReport): void;
  preview(p: Preview): void;
  /** Training speed over the last chunk (iterations of training per second of training). */
  rate(itPerSec: number, iteration: number): void;
}

/** Metric windows per second of training the charts get (at most the config's logEvery apart). */
const WINDOWS_PER_SECOND = 5;
/**
 * The least time between two sample previews while training. A preview costs a generator pass,
 * a readback and drawing (about 0.1 s for toy-1d on a software adapter): previews are spaced
 * at least PREVIEW_COST_RATIO times their own cost apart, so they never take more than about a
 * sixth of the time, and each chunk of training fills one such interval (chunks end by draining
 * the GPU, so longer chunks also waste less).
 */
const PREVIEW_INTERVAL_MS = 300;
const PREVIEW_COST_RATIO = 5;

/** Real rows D trains on per iteration: the page's samples/s is this times iterations/s. */
export function realRowsPerIteration(config: GanConfig): number {
  return config.k * (config.schedule.kind === 'epoch' ? config.schedule.epochRows : config.batch);
}

export class TrainingSession {
  readonly ctx: GpuContext;
  private readonly listener: SessionListener;
  private readonly loadMnist: () => Promise<Mnist>;
  private current: GanTrainer | null = null;
  private gpuTail: Promise<unknown> = Promise.resolve();
  private stopRequested = false;
  private loop: Promise<void> | null = null;
  private itPerSec: number | null = null;
  private previewMs = 0;
  /** Seconds spent inside trainer.run and the iterations it ran, since the trainer was built. */
  private trainingSeconds = 0;
  private trainingIterations = 0;

  constructor(ctx: GpuContext, listener: SessionListener, loadMnist: () => Promise<Mnist>) {
    this.ctx = ctx;
    this.listener = listener;
    this.loadMnist = loadMnist;
  }

  get trainer(): GanTrainer | null {
    return this.current;
  }

  get training(): boolean {
    return this.loop !== null;
  }

  /** Iterations per second over all the training this trainer did (previews excluded). */
  get averageItPerSec(): number | null {
    return this.trainingSeconds > 0 ? this.trainingIterations / this.trainingSeconds : null;
  }

  /** Builds a fresh trainer for `config` (discarding the current one) and previews it. */
  async build(config: GanConfig): Promise<GanTrainer> {
    await this.discard();
    const mnist = config.data.kind === 'mnist' ? await this.loadMnist() : undefined;
    const trainer = await this.exclusive(() => GanTrainer.create(this.ctx, config, { mnist }));
    this.adopt(trainer);
    await this.preview();
    return trainer;
  }

  /** Replaces the current trainer with one restored from checkpoint bytes (the CLI's format). */
  async restore(bytes: Uint8Array, name: string): Promise<GanTrainer> {
    const ckpt = readCheckpoint(bytes, name);
    await this.discard();
    const mnist = ckpt.config.data.kind === 'mnist' ? await this.loadMnist() : undefined;
    const trainer = await this.exclusive(() => trainerFromCheckpoint(this.ctx, ckpt, { mnist }));
    this.adopt(trainer);
    await this.preview();
    return trainer;
  }

  /** Trains until iteration `target` or pause(); resolves when the loop has stopped. */
  train(target: number): Promise<void> {
    const trainer = this.current;
    if (!trainer) return Promise.reject(new Error('train: no trainer is built'));
    if (this.loop) return this.loop;
    this.stopRequested = false;
    this.loop = this.runLoop(trainer, target).finally(() => {
      this.loop = null;
    });
    return this.loop;
  }

  /** Asks the loop to stop after the iterations in flight; resolves when it has. */
  async pause(): Promise<void> {
    this.stopRequested = true;
    await this.loop?.catch(() => undefined);
  }

  /** One iteration, its metrics and a fresh preview. */
  async step(): Promise<void> {
    const trainer = this.current;
    if (!trainer || this.loop) return;
    const report = await this.exclusive(() => trainer.step());
    this.listener.metrics(report);
    await this.preview();
  }

  /** The current trainer's state as checkpoint bytes. */
  async checkpoint(): Promise<Uint8Array> {
    const trainer = this.current;
    if (!trainer) throw new Error('no trainer to save: press Start or Step first');
    return this.exclusive(() => saveCheckpoint(trainer));
  }

  /** Samples for the trainer's fixed noise, drawn now. */
  async preview(): Promise<Preview | null> {
    const trainer = this.current;
    if (!trainer) return null;
    const p = await this.exclusive(async () => ({ ...(await previewSamples(trainer)), iteration: trainer.iteration }));
    this.listener.preview(p);
    return p;
  }

  /** Stops training and frees the trainer; the context stays open. */
  async discard(): Promise<void> {
    await this.pause();
    const trainer = this.current;
    this.current = null;
    if (trainer) await this.exclusive(async () => trainer.destroy());
  }

  private adopt(trainer: GanTrainer): void {
    this.current = trainer;
    this.itPerSec = null;
    this.previewMs = 0;
    this.trainingSeconds = 0;
    this.trainingIterations = 0;
  }

  private async runLoop(trainer: GanTrainer, target: number): Promise<void> {
    let lastPreview = performance.now();
    while (!this.stopRequested && trainer.iteration < target && this.current === trainer) {
      const maxWindow = trainer.config.logEvery;
      const interval = Math.max(PREVIEW_INTERVAL_MS, PREVIEW_COST_RATIO * this.previewMs) / 1000;
      // Until the first chunk is timed, one-iteration chunks keep a slow preset responsive.
      const logEvery = this.itPerSec === null ? 1 : Math.max(1, Math.min(maxWindow, Math.round(this.itPerSec / WINDOWS_PER_SECOND)));
      const wanted = this.itPerSec === null ? 1 : Math.max(1, Math.round((this.itPerSec * interval) / logEvery)) * logEvery;
      const chunk = Math.min(wanted, target - trainer.iteration);
      const before = trainer.iteration;
      const seconds = await this.exclusive(async () => {
        const started = performance.now();
        await trainer.run(chunk, { logEvery, onMetrics: (m) => this.listener.metrics(m), shouldStop: () => this.stopRequested });
        return (performance.now() - started) / 1000;
      });
      const done = trainer.iteration - before;
      if (done > 0 && seconds > 0) {
        const rate = done / seconds;
        this.itPerSec = this.itPerSec === null ? rate : 0.7 * this.itPerSec + 0.3 * rate;
        this.trainingSeconds += seconds;
        this.trainingIterations += done;
        this.listener.rate(this.itPerSec, trainer.iteration);
      }
      if (performance.now() - lastPreview >= 1000 * interval || trainer.iteration >= target || this.stopRequested) {
        const started = performance.now();
        await this.preview();
        lastPreview = performance.now();
        this.previewMs = this.previewMs === 0 ? lastPreview - started : 0.7 * this.previewMs + 0.3 * (lastPreview - started);
      }
      // A macrotask turn, so input events and painting are never starved by a fast adapter.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /** Runs `fn` after every GPU use queued before it, and before any queued after. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.gpuTail.then(fn);
    this.gpuTail = result.catch(() => undefined);
    return result;
  }
}
