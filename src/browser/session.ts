// The page's training session: one GpuContext, at most one GanTrainer, and the loops that train
// it: in short chunks so the page can draw between them, or in slow motion, one phase per
// animation frame. No DOM here: main.ts shows what the session reports and draws the views
// when the session asks. Every GPU use (a chunk of training, a phase, a redraw, a live edit, a
// checkpoint) runs alone, in order, so a checkpoint's tensors and its iteration count always
// agree and a live edit lands between two iterations.
//
// The views must not throttle training: a redraw is spaced at least VIEW_COST_RATIO times its
// own cost after the last, and so is a quality measurement, so each takes at most a tenth of
// the time however slow the adapter; each chunk of training fills the interval between redraws.

import type { Dataset } from '../data/dataset.ts';
import { dataNeeds, type HostData } from '../data/source.ts';
import type { Mnist } from '../data/mnist.ts';
import { continueWith, readCheckpoint, saveCheckpoint, trainerFromCheckpoint, type CheckpointContents } from '../gan/checkpoint.ts';
import { validateConfig, type GanConfig } from '../gan/config.ts';
import { GanTrainer, TrainingDivergedError, type MetricsReport } from '../gan/trainer.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { runPhase, type Phase, type PhaseReport } from './phases.ts';

export interface SessionListener {
  metrics(m: MetricsReport): void;
  /** Training speed over the last chunk (iterations of training per second of training). */
  rate(itPerSec: number, iteration: number): void;
  /** Draws every view of `trainer` now (called in the GPU queue, between iterations). */
  redraw(trainer: GanTrainer): Promise<void>;
  /** Whether a quality measurement is due at the trainer's iteration. */
  qualityDue(trainer: GanTrainer): boolean;
  /** Measures quality (in the GPU queue); resolves when the GPU part is done. */
  measureQuality(trainer: GanTrainer): Promise<void>;
  /** A phase is about to run (slow motion and the phase steps), or has run (with its report). */
  phase(phase: Phase, report: PhaseReport | null): void;
}

export interface DataLoaders {
  mnist(): Promise<Mnist>;
  fashion(): Promise<Mnist>;
}

/** Settings a live edit may change: none of them reshapes the training state. */
export type LiveChanges = Partial<Pick<GanConfig, 'optimizerG' | 'optimizerD' | 'k' | 'realLabel' | 'batch'>>;

/** Metric windows per second of training the charts get (at most the config's logEvery apart). */
const WINDOWS_PER_SECOND = 5;
/** The least time between two redraws while training. */
const REDRAW_INTERVAL_MS = 300;
/** Views may take at most 1 / (1 + this) of the time each: a redraw or a measurement waits this many times its cost. */
export const VIEW_COST_RATIO = 10;

/** Real rows D trains on per iteration: the page's samples/s is this times iterations/s. */
export function realRowsPerIteration(config: GanConfig): number {
  return config.k * (config.schedule.kind === 'epoch' ? config.schedule.epochRows : config.batch);
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

export interface ViewCost {
  /** Iterations per second over the blocks trained with the views on, and with them off. */
  on: number;
  off: number;
  /** on / off: both speeds as measured, each in its own blocks, at whatever load the machine had then. */
  ratio: number;
  /**
   * The share of the views-on blocks' time the views took, and 1 minus it: on / off at equal
   * load, since the loop is otherwise the same (the views run between chunks, never beside them).
   */
  viewShare: number;
  sameLoadRatio: number;
  iterations: number;
  /** What a redraw took (a moving average), and the least time between two while training. */
  redrawMs: number;
  intervalMs: number;
}

export class TrainingSession {
  readonly ctx: GpuContext;
  private readonly listener: SessionListener;
  private readonly loaders: DataLoaders;
  private current: GanTrainer | null = null;
  /** The host data the current trainer was built with (a live edit rebuilds with the same). */
  private host: HostData = {};
  private gpuTail: Promise<unknown> = Promise.resolve();
  private stopRequested = false;
  private loop: Promise<void> | null = null;
  /** Bumped whenever the trainer is replaced by another run or discarded: loops of the old run stop. */
  private run = 0;
  private itPerSec: number | null = null;
  private redrawMs = 0;
  private qualityMs = 0;
  /** Seconds spent inside trainer.run and the iterations it ran, since the trainer was built. */
  private trainingSeconds = 0;
  private trainingIterations = 0;
  /** Off while the view-cost measurement trains its views-off blocks. */
  private viewsOn = true;
  /** Live edits waiting for the GPU queue: the chunk in flight stops early for them. */
  private pendingEdits = 0;
  /** Seconds the training loops spent drawing views and measuring quality. */
  private viewSeconds = 0;

  constructor(ctx: GpuContext, listener: SessionListener, loaders: DataLoaders) {
    this.ctx = ctx;
    this.listener = listener;
    this.loaders = loaders;
  }

  get trainer(): GanTrainer | null {
    return this.current;
  }

  get training(): boolean {
    return this.loop !== null;
  }

  /** Iterations per second over all the training this trainer did (views excluded). */
  get averageItPerSec(): number | null {
    return this.trainingSeconds > 0 ? this.trainingIterations / this.trainingSeconds : null;
  }

  /** The host data a config needs: MNIST or Fashion-MNIST from their assets, or the given data set. */
  private async hostFor(config: GanConfig, dataset: Dataset | null): Promise<HostData> {
    switch (dataNeeds(config.data)) {
      case 'mnist':
        return { mnist: await this.loaders.mnist() };
      case 'fashion':
        return { fashion: await this.loaders.fashion() };
      case 'dataset':
        if (!dataset) throw new ShapeError(`preset '${config.preset}' trains on a data set of points: draw or load one first`);
        return { dataset };
      default:
        return {};
    }
  }

  /** Builds a fresh trainer for `config` (discarding the current one) and draws it. */
  async build(config: GanConfig, dataset: Dataset | null = null): Promise<GanTrainer> {
    await this.discard();
    const host = await this.hostFor(config, dataset);
    const trainer = await this.exclusive(() => GanTrainer.create(this.ctx, config, host));
    this.adopt(trainer, host);
    await this.redraw();
    return trainer;
  }

  /**
   * Replaces the current trainer with one restored from checkpoint bytes (the CLI's format).
   * `points` gives the data set a run on points needs; a checkpoint that cannot be read, or
   * whose points are missing, throws before the current run is touched. `before` runs once the
   * current run is gone, before the restored one is drawn.
   */
  async restore(
    bytes: Uint8Array,
    name: string,
    hooks: { points: (ckpt: CheckpointContents) => Dataset | null; before: (ckpt: CheckpointContents) => void },
  ): Promise<{ trainer: GanTrainer; ckpt: CheckpointContents }> {
    const ckpt = readCheckpoint(bytes, name);
    const points = hooks.points(ckpt);
    await this.discard();
    hooks.before(ckpt);
    const host = await this.hostFor(ckpt.config, points);
    const trainer = await this.exclusive(() => trainerFromCheckpoint(this.ctx, ckpt, host));
    this.adopt(trainer, host);
    await this.redraw();
    return { trainer, ckpt };
  }

  /**
   * Applies settings that keep the training state's shapes to the running trainer: between
   * two iterations, the state carried over on the GPU (continueWith), no Reset. Validated
   * first: an invalid change throws and leaves the trainer as it was.
   */
  async update(changes: LiveChanges): Promise<GanTrainer | null> {
    this.pendingEdits++;
    return this.exclusive(async () => {
      this.pendingEdits--;
      const trainer = this.current;
      if (!trainer) return null;
      validateConfig({ ...trainer.config, ...changes });
      const next = await continueWith(trainer, changes, this.host);
      // Same run, same loop: the training loop picks the new trainer up at its next chunk.
      this.current = next;
      return next;
    });
  }

  /** Trains until iteration `target` or pause(); resolves when the loop has stopped. */
  train(target: number, opts: { slowMotion?: boolean; steady?: boolean } = {}): Promise<void> {
    if (!this.current) return Promise.reject(new Error('train: no trainer is built'));
    if (this.loop) return this.loop;
    this.stopRequested = false;
    const run = this.run;
    this.loop = (opts.slowMotion ? this.slowLoop(run, target) : this.chunkLoop(run, target, opts.steady ?? false)).finally(() => {
      this.loop = null;
    });
    return this.loop;
  }

  /** Asks the loop to stop after the iterations in flight; resolves when it has. */
  async pause(): Promise<void> {
    this.stopRequested = true;
    await this.loop?.catch(() => undefined);
  }

  /** One iteration, its metrics and fresh views. */
  async step(): Promise<void> {
    if (!this.current || this.loop) return;
    // The trainer is read in the queue: a live edit queued before this step replaces it.
    await this.exclusive(async () => {
      const trainer = this.current;
      if (!trainer) return;
      this.listener.metrics(await trainer.step());
      await this.redrawNow(trainer);
    });
  }

  /**
   * One iteration of one network only: 'd+tick' updates D (G stands still), 'g' updates G (D
   * stands still). The clock ticks either way (phases.ts), so the next draws are fresh.
   */
  async stepPhase(phase: 'd+tick' | 'g'): Promise<void> {
    if (!this.current || this.loop) return;
    await this.exclusive(async () => {
      const trainer = this.current;
      if (!trainer) return;
      this.listener.phase(phase, null);
      const report = await runPhase(trainer, phase);
      this.listener.phase(phase, report);
      this.listener.metrics(phaseMetrics(report));
      await this.redrawNow(trainer);
    });
  }

  /** The current trainer's state as checkpoint bytes. */
  async checkpoint(): Promise<Uint8Array> {
    return this.exclusive(() => {
      const trainer = this.current;
      if (!trainer) throw new Error('no trainer to save: press Start or Step first');
      return saveCheckpoint(trainer);
    });
  }

  /** Runs `fn` on the current trainer in the GPU queue (null when there is none). */
  withTrainer<T>(fn: (trainer: GanTrainer | null) => Promise<T>): Promise<T> {
    return this.exclusive(() => fn(this.current));
  }

  /** Draws every view of the current trainer (queued after the GPU work before it). */
  async redraw(): Promise<void> {
    await this.exclusive(async () => {
      if (this.current) await this.redrawNow(this.current);
    });
  }

  /** Stops training and frees the trainer; the context stays open. */
  async discard(): Promise<void> {
    await this.pause();
    this.run++;
    const trainer = this.current;
    this.current = null;
    if (trainer) await this.exclusive(async () => trainer.destroy());
  }

  /**
   * The views' cost: trains `iterations` iterations four times, views off, on, on, off (so a
   * drift in the machine's load falls on both alike), and reports iterations per second of
   * wall time with the views on and off. The page loop is the same in both, chunks included;
   * only the redraws and quality measurements are skipped when off. The blocks measure the
   * steady state of a long run: no block ends with a redraw of its own (a run draws once at
   * its end, whatever its length), so a block should span a few redraw intervals. Null when
   * paused before the end.
   */
  async measureViewCost(iterations: number): Promise<ViewCost | null> {
    if (!this.current || this.loop) throw new Error('measure: build a trainer first, and pause training');
    const seconds = { on: 0, off: 0 };
    let viewSeconds = 0;
    try {
      for (const on of [false, true, true, false]) {
        this.viewsOn = on;
        const [started, viewed] = [performance.now(), this.viewSeconds];
        await this.train(this.current!.iteration + iterations, { steady: true });
        if (this.stopRequested) return null;
        seconds[on ? 'on' : 'off'] += (performance.now() - started) / 1000;
        if (on) viewSeconds += this.viewSeconds - viewed;
      }
    } finally {
      this.viewsOn = true;
    }
    const [on, off] = [(2 * iterations) / seconds.on, (2 * iterations) / seconds.off];
    const viewShare = viewSeconds / seconds.on;
    return { on, off, ratio: on / off, viewShare, sameLoadRatio: 1 - viewShare, iterations: 4 * iterations, redrawMs: this.redrawMs, intervalMs: this.redrawInterval() };
  }

  private adopt(trainer: GanTrainer, host: HostData): void {
    this.current = trainer;
    this.host = host;
    this.itPerSec = null;
    this.redrawMs = 0;
    this.qualityMs = 0;
    this.trainingSeconds = 0;
    this.trainingIterations = 0;
  }

  /** Draws the views, timing them for the loop's budget. */
  private async redrawNow(trainer: GanTrainer): Promise<void> {
    const started = performance.now();
    await this.listener.redraw(trainer);
    const ms = performance.now() - started;
    this.redrawMs = this.redrawMs === 0 ? ms : 0.7 * this.redrawMs + 0.3 * ms;
  }

  private live(run: number): GanTrainer | null {
    return this.run === run && !this.stopRequested ? this.current : null;
  }

  /** Milliseconds between redraws while training: VIEW_COST_RATIO times a redraw's cost, at least REDRAW_INTERVAL_MS. */
  private redrawInterval(): number {
    return Math.max(REDRAW_INTERVAL_MS, VIEW_COST_RATIO * this.redrawMs);
  }

  /** `steady`: the loop does not end with a redraw and a quality measurement of its own (the view-cost blocks). */
  private async chunkLoop(run: number, target: number, steady: boolean): Promise<void> {
    let lastRedraw = performance.now();
    /** Seconds of training since the last quality measurement. */
    let sinceQuality = Infinity;
    for (let trainer = this.live(run); trainer && trainer.iteration < target; trainer = this.live(run)) {
      const views = this.viewsOn;
      // The same chunks with the views off, so the measurement compares the views alone.
      const interval = this.redrawInterval() / 1000;
      const maxWindow = trainer.config.logEvery;
      // Until the first chunk is timed, one-iteration chunks keep a slow preset responsive.
      const logEvery = this.itPerSec === null ? 1 : Math.max(1, Math.min(maxWindow, Math.round(this.itPerSec / WINDOWS_PER_SECOND)));
      const wanted = this.itPerSec === null ? 1 : Math.max(1, Math.round((this.itPerSec * interval) / logEvery)) * logEvery;
      const done = await this.exclusive(async () => {
        // A live edit queued before this chunk has replaced the trainer: train the new one.
        const t = this.run === run ? this.current : null;
        if (!t) return { iterations: 0, seconds: 0 };
        const before = t.iteration;
        const started = performance.now();
        await t.run(Math.min(wanted, target - before), { logEvery, onMetrics: (m) => this.listener.metrics(m), shouldStop: () => this.stopRequested || this.pendingEdits > 0 });
        return { iterations: t.iteration - before, seconds: (performance.now() - started) / 1000 };
      });
      if (done.iterations > 0 && done.seconds > 0) {
        const rate = done.iterations / done.seconds;
        this.itPerSec = this.itPerSec === null ? rate : 0.7 * this.itPerSec + 0.3 * rate;
        this.trainingSeconds += done.seconds;
        this.trainingIterations += done.iterations;
        sinceQuality += done.seconds;
        this.listener.rate(this.itPerSec, this.current?.iteration ?? 0);
      }
      const now = this.run === run ? this.current : null;
      if (!now) break;
      const last = !steady && (now.iteration >= target || this.stopRequested);
      // The views read the trainer inside the queue: a live edit queued meanwhile replaces it.
      if (views && (performance.now() - lastRedraw >= 1000 * interval || last)) {
        const started = performance.now();
        await this.exclusive(async () => {
          const t = this.run === run ? this.current : null;
          if (t) await this.redrawNow(t);
        });
        lastRedraw = performance.now();
        this.viewSeconds += (lastRedraw - started) / 1000;
      }
      if (views && this.listener.qualityDue(now) && (sinceQuality * 1000 >= VIEW_COST_RATIO * this.qualityMs || last)) {
        const started = performance.now();
        await this.exclusive(async () => {
          const t = this.run === run ? this.current : null;
          if (t) await this.listener.measureQuality(t);
        });
        const ms = performance.now() - started;
        this.qualityMs = this.qualityMs === 0 ? ms : 0.7 * this.qualityMs + 0.3 * ms;
        this.viewSeconds += ms / 1000;
        sinceQuality = 0;
      }
      // A macrotask turn, so input events and painting are never starved by a fast adapter.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  /**
   * One phase per animation frame: D's phase and the views, then at the next frame G's phase
   * and the views. The GPU queue is held across the two frames, so nothing (a live edit, a
   * checkpoint) lands between the halves of an iteration; pausing stops between iterations.
   */
  private async slowLoop(run: number, target: number): Promise<void> {
    for (let trainer = this.live(run); trainer && trainer.iteration < target; trainer = this.live(run)) {
      await nextFrame();
      await this.exclusive(async () => {
        const t = this.run === run ? this.current : null;
        if (!t) return;
        for (const phase of ['d', 'g'] as const) {
          if (phase === 'g') await nextFrame();
          this.listener.phase(phase, null);
          const report = await runPhase(t, phase, { keepSums: phase === 'g' });
          this.listener.phase(phase, report);
          if (phase === 'g') this.listener.metrics(phaseMetrics(report));
          await this.redrawNow(t);
        }
      });
    }
  }

  /** Runs `fn` after every GPU use queued before it, and before any queued after. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.gpuTail.then(fn);
    this.gpuTail = result.catch(() => undefined);
    return result;
  }
}

/** A phase's figures as a metric window of one iteration (NaN where the phase summed nothing). */
function phaseMetrics(r: PhaseReport): MetricsReport {
  const report = { dLoss: r.dLoss, gLoss: r.gLoss, dReal: r.dReal, dFake: r.dFake, iteration: r.iteration, iterations: 1, itPerSec: NaN };
  const ran = r.phase === 'g' ? [r.gLoss] : [r.dLoss, r.dReal, r.dFake];
  if (ran.some((v) => !Number.isFinite(v))) {
    throw new TrainingDivergedError(`training diverged: the ${r.phase === 'g' ? 'G' : 'D'} phase of iteration ${r.iteration} gave non-finite metrics; lower the learning rate or change the seed`, r.iteration - 1);
  }
  return report;
}
