// The GAN scheduler: builds G, D, their optimizers, the loss and every buffer once, records one
// training iteration as a list of dispatches (schedules.ts), and replays it. Nothing crosses to
// the host during training but the metric sums, read back asynchronously once per logging
// window. It names no layer kind, loss kind or optimizer kind: networks, losses and optimizers
// come from their registries and are used through their handles.

import { createRealSource, dataNeeds, type HostData, type RealSource } from '../data/source.ts';
import type { GpuContext, ReadbackSlot, ReadOptions, Step } from '../gpu/context.ts';
import { GpuError, ShapeError } from '../gpu/errors.ts';
import { fill } from '../kernels/fill.ts';
import { gatherRows } from '../kernels/gather.ts';
import { METRIC_SLOTS, metricsFromSums, type Metrics } from '../kernels/metrics.ts';
import { advanceCounters } from '../kernels/optim.ts';
import { createLoss, recordLoss, type GanLoss } from '../loss/index.ts';
import { Network, type NetworkWorkspace } from '../nn/network.ts';
import { Optimizer } from '../nn/optimizer.ts';
import { TensorBlocks } from '../tensor/blocks.ts';
import { TensorPool } from '../tensor/pool.ts';
import { download, upload, type Tensor } from '../tensor/tensor.ts';
import { validateConfig, type GanConfig } from './config.ts';
import { Draws } from './draws.ts';
import { ReadPacer } from './pacing.ts';
import { SCHEDULES } from './schedules.ts';

export interface MetricsReport extends Metrics {
  /** The iteration count after the window these metrics cover. */
  iteration: number;
  /** Iterations in the window. */
  iterations: number;
  /** Iterations per second over the window (wall clock, host side). */
  itPerSec: number;
}

export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
  readonly lastGoodIteration: number;
  constructor(message: string, lastGoodIteration: number) {
    super(message);
    this.lastGoodIteration = lastGoodIteration;
  }
}

export interface RunOptions {
  /** Called with each window's metrics, in order. */
  onMetrics?: (m: MetricsReport) => void;
  /** Overrides config.logEvery for this run. */
  logEvery?: number;
  /** Checked between windows; true stops the run after the windows in flight complete. */
  shouldStop?: () => boolean;
  /**
   * Called as each window is submitted, before the next: work it submits sees the networks as
   * of `iteration` (a sample frame) without the run draining the windows in flight. `gpuPast`
   * resolves once the GPU has done that work (a later window was read back, or the run ended):
   * map its reads after it, as a pending map busy-polls a core in Node (readbackSlot).
   */
  afterWindow?: (iteration: number, gpuPast: Promise<void>) => void;
}

/** The host data a config's data kind needs (MNIST, Fashion-MNIST, a loaded data set). */
export type TrainerOptions = HostData;

/** The stream of fixed (clock-independent) noise, far from the streams a program uses. */
const FIXED_NOISE_STREAM = 0xfffffff0;

/** Windows of metrics in flight at once: the GPU always has the next window queued. */
const WINDOWS_IN_FLIGHT = 2;

export class GanTrainer {
  readonly ctx: GpuContext;
  readonly config: GanConfig;
  readonly G: Network;
  readonly D: Network;
  readonly optG: Optimizer;
  readonly optD: Optimizer;
  readonly loss: GanLoss;
  /** u32 [4]; element 0 counts iterations, and keys every random draw of the iteration. */
  readonly clock: Tensor;
  /** f32 [8]: the metric sums of the current window (kernels/metrics.ts). */
  readonly metrics: Tensor;
  /** One training iteration, recorded once: the D phase, the G phase, the tick. */
  readonly program: readonly Step[];
  /**
   * The iteration's phases (the concatenation of d, g and tick is `program`), for tests and
   * profiling. The tick advances the clock and both optimizers' step counts (tickOf runs a
   * phase alone); gAlone is the G phase with the draws of its inputs that the D phase makes in
   * the program (G's noise may ride with D's real rows), for running it without the D phase.
   */
  readonly phases: { readonly d: readonly Step[]; readonly g: readonly Step[]; readonly tick: readonly Step[]; readonly gAlone: readonly Step[] };
  /** The noise bank, when the config draws noise from a fixed bank. */
  readonly noiseBank: Tensor | null;
  private readonly pool: TensorPool;
  private readonly source: RealSource;
  private readonly randomDraws: Draws;
  private iterationCount = 0;
  private readonly evaluators = new Map<string, { ws: NetworkWorkspace; input: Tensor }>();
  private readonly fixedNoiseCache = new Map<number, Tensor>();
  private readonly gradients = new Map<number, { dx: Tensor; ones: Tensor; zeros: Tensor; scratch: Tensor }>();
  /** The clock, D's and G's step counts, each on its own bindable boundary of one buffer. */
  private readonly counters: TensorBlocks;
  private readonly ticks = new Map<string, Step[]>();
  /** Recorded once: zeroes the metric sums at the start of a window. */
  private readonly resetMetrics: Step;
  /** One readback slot per window in flight (and one being filled). */
  private readonly metricSlots: ReadbackSlot[];
  /** When to read each window's metrics back (from the windows before). */
  private readonly pacer = new ReadPacer();
  private destroyed = false;

  private constructor(ctx: GpuContext, config: GanConfig, options: TrainerOptions) {
    validateConfig(config);
    this.ctx = ctx;
    this.config = config;
    const pool = (this.pool = new TensorPool(ctx));
    this.G = new Network(ctx, pool, 'generator', config.generator);
    this.D = new Network(ctx, pool, 'discriminator', config.discriminator);
    // One buffer, so the end of an iteration advances all three in one dispatch.
    this.counters = new TensorBlocks(pool, 3, [4], 'u32', 'counters', ['clock', 'discriminator.step', 'generator.step']);
    this.clock = this.counters.block(0);
    this.optD = new Optimizer(ctx, pool, this.D, config.optimizerD, this.counters.block(1));
    this.optG = new Optimizer(ctx, pool, this.G, config.optimizerG, this.counters.block(2));
    this.loss = createLoss(config);
    this.metrics = pool.acquire([METRIC_SLOTS], 'f32', 'metrics');
    this.resetMetrics = fill(ctx, this.metrics, 0);
    this.metricSlots = Array.from({ length: WINDOWS_IN_FLIGHT + 1 }, (_, i) => ctx.readbackSlot(METRIC_SLOTS * 4, `metrics readback ${i}`));
    this.source = createRealSource(ctx, pool, config.data, options);
    this.noiseBank = config.noise.bank ? pool.acquire([config.noise.bank, config.noise.dim], 'f32', 'noise bank') : null;
    const draws = (this.randomDraws = new Draws(ctx, pool, config, this.clock, this.source, this.noiseBank));

    const init: Step[] = [
      fill(ctx, this.clock, 0),
      ...this.G.recordInit(config.seed, draws.streams(this.G.initStreams)),
      ...this.D.recordInit(config.seed, draws.streams(this.D.initStreams)),
      ...this.optG.recordReset(),
      ...this.optD.recordReset(),
    ];
    if (this.noiseBank) init.push(...draws.drawNoise(this.noiseBank, draws.streams(1), false));
    ctx.run(init);
    const parts = { ctx, pool, config, G: this.G, D: this.D, optG: this.optG, optD: this.optD, loss: this.loss, source: this.source, draws, metrics: this.metrics };
    const { d, g, gDraws = [] } = SCHEDULES[config.schedule.kind](parts);
    this.phases = { d, g, tick: this.tickOf({ clock: true, d: true, g: true }), gAlone: [...gDraws, ...g] };
    this.program = [...d, ...g, ...this.phases.tick];
  }

  /** Builds a trainer: every buffer, pipeline and dispatch is created here, none later. */
  static async create(ctx: GpuContext, config: GanConfig, options: TrainerOptions = {}): Promise<GanTrainer> {
    const needs = dataNeeds(config.data);
    if (needs && !options[needs]) throw new ShapeError(`preset '${config.preset}' trains on ${needs === 'dataset' ? 'a loaded data set' : needs}: pass { ${needs} }`);
    const trainer = new GanTrainer(ctx, config, options);
    await ctx.flush();
    return trainer;
  }

  /**
   * The last iteration's random draws, by name: alternating schedule `D<j>.x` (real rows, then
   * the fake rows D saw, then for a matching-aware D the real rows with wrong labels), `D<j>.z`,
   * `G.z`, and for a conditional GAN `D<j>.real labels`, `D<j>.fake labels`, `G.labels` (and
   * `D<j>.label shifts`, `D<j>.mismatched labels`); epoch schedule `rows`, `real`, `noise`,
   * `D<e>.shuffle`, `G.shuffle`. For inspection and for the float64 reference of an iteration.
   */
  get draws(): ReadonlyMap<string, Tensor> {
    return this.randomDraws.named;
  }

  /** Iterations completed so far. */
  get iteration(): number {
    return this.iterationCount;
  }

  /** Bytes of GPU memory the trainer's buffers hold. */
  get memoryBytes(): number {
    return this.pool.bytes;
  }

  /** Dispatches (and copies) encoded per iteration. */
  get stepsPerIteration(): number {
    return this.program.length;
  }

  /** Runs `iterations` iterations, reporting metrics once per window. */
  async run(iterations: number, options: RunOptions = {}): Promise<MetricsReport | null> {
    this.expectAlive();
    if (!Number.isInteger(iterations) || iterations < 0) throw new ShapeError(`run: iterations must be an integer >= 0, got ${iterations}`);
    const logEvery = options.logEvery ?? this.config.logEvery;
    if (!Number.isInteger(logEvery) || logEvery < 1) throw new ShapeError(`run: logEvery must be a positive integer, got ${logEvery}`);
    const end = this.iterationCount + iterations;
    const inFlight: { slot: ReadbackSlot; iterations: number; iteration: number; submittedAt: number }[] = [];
    let last: MetricsReport | null = null;
    let failure: TrainingDivergedError | null = null;
    let lastGood = this.iterationCount;
    let lastDone = performance.now();
    // afterWindow's promises, by the iteration they follow: a window read back after them releases them.
    const waiting: { iteration: number; resolve: () => void }[] = [];
    const release = (before: number) => {
      while (waiting.length && waiting[0].iteration < before) waiting.shift()!.resolve();
    };

    const settle = async () => {
      const w = inFlight.shift()!;
      // The window ends about `iterations` iterations after the later of its submission and the
      // previous window's end (src/gan/pacing.ts).
      const started = Math.max(w.submittedAt, lastDone);
      const plan = this.pacer.plan(w.iterations, started, performance.now());
      if (plan.sleep) await new Promise((resolve) => setTimeout(resolve, plan.sleep));
      const woke = performance.now();
      const sums = new Float32Array(await w.slot.read());
      release(w.iteration);
      const now = performance.now();
      this.pacer.settle(w.iterations, started, plan, woke, now);
      const report = { ...metricsFromSums(sums), iteration: w.iteration, iterations: w.iterations, itPerSec: (w.iterations * 1000) / Math.max(now - lastDone, 1e-3) };
      lastDone = now;
      last = report;
      if (failure) return;
      const bad = (Object.entries(report) as [string, number][]).filter(([, v]) => !Number.isFinite(v)).map(([k]) => k);
      if (bad.length) {
        failure = new TrainingDivergedError(
          `training diverged: ${bad.join(', ')} not finite in iterations ${report.iteration - report.iterations + 1}..${report.iteration}` +
            ` (last finite metrics at iteration ${lastGood}); lower the learning rate or change the seed`,
          lastGood,
        );
        return;
      }
      lastGood = report.iteration;
      options.onMetrics?.(report);
    };

    let window = 0;
    try {
      while (this.iterationCount < end && !failure && !options.shouldStop?.()) {
        // Windows end on multiples of logEvery, so a resumed run reports the same rows.
        const n = Math.min(logEvery - (this.iterationCount % logEvery), end - this.iterationCount);
        const slot = this.metricSlots[window++ % this.metricSlots.length];
        const encoder = this.ctx.device.createCommandEncoder({ label: `iterations ${this.iterationCount + 1}..${this.iterationCount + n}` });
        this.ctx.encode(encoder, [this.resetMetrics]);
        for (let i = 0; i < n; i++) this.ctx.encode(encoder, this.program);
        this.ctx.encode(encoder, [slot.copy(this.metrics.buffer, this.metrics.byteOffset)]);
        this.ctx.throwIfFailed();
        this.ctx.device.queue.submit([encoder.finish()]);
        this.iterationCount += n;
        inFlight.push({ slot, iterations: n, iteration: this.iterationCount, submittedAt: performance.now() });
        if (options.afterWindow) {
          const iteration = this.iterationCount;
          options.afterWindow(iteration, new Promise<void>((resolve) => waiting.push({ iteration, resolve })));
        }
        if (inFlight.length >= WINDOWS_IN_FLIGHT) await settle();
      }
      while (inFlight.length) await settle();
    } finally {
      release(Infinity);
    }
    if (failure) throw failure;
    return last;
  }

  /** One iteration, with its metrics read back at once. */
  async step(): Promise<MetricsReport> {
    return (await this.run(1, { logEvery: 1 }))!;
  }

  /**
   * G inputs for sampling, the same for a given config and n: bank rows or a fixed draw; for
   * the conditional GAN followed by one-hot labels floor(i * classes / n), so a 10x10 grid
   * shows one class per row.
   */
  fixedNoise(n: number): Tensor {
    const cached = this.fixedNoiseCache.get(n);
    if (cached) return cached;
    const c = this.randomDraws.classes;
    const z = this.pool.acquire([n, this.config.noise.dim], 'f32', `fixed noise [${n}]`);
    if (this.noiseBank) {
      if (n > this.noiseBank.rows) throw new ShapeError(`fixedNoise: ${n} rows exceed the noise bank's ${this.noiseBank.rows}`);
      const idx = this.pool.from(Uint32Array.from({ length: n }, (_, i) => i), [n], 'fixed noise rows');
      this.ctx.run([gatherRows(this.ctx, this.noiseBank, idx, z)]);
      this.pool.release(idx);
    } else {
      this.ctx.run(this.randomDraws.drawNoise(z, FIXED_NOISE_STREAM, false));
    }
    let input = z;
    if (c) {
      input = this.pool.acquire([n, this.config.noise.dim + c], 'f32', `fixed G input [${n}]`);
      const labels = this.pool.from(Uint32Array.from({ length: n }, (_, i) => Math.floor((i * c) / n)), [n], 'fixed labels');
      this.ctx.run(this.randomDraws.conditioned(z, labels, input));
    }
    this.fixedNoiseCache.set(n, input);
    return input;
  }

  /** G(noise) for noise rows [n, G input] (a tensor or host data); batch norm uses its running statistics. */
  async generate(noise: Tensor | Float32Array, read?: ReadOptions): Promise<Float32Array> {
    return this.evaluate('generate', this.G, noise, read);
  }

  /** D(x) for rows x [n, D input] given on the host: probabilities, or raw scores for a score-valued loss. */
  async discriminate(x: Float32Array, read?: ReadOptions): Promise<Float32Array> {
    return this.evaluate('discriminate', this.D, x, read);
  }

  /**
   * D's output on rows x and the gradient of G's loss with respect to each row, as if the rows
   * were G's samples: the direction G's update pushes a sample is minus this. For pictures of
   * what D tells G (arrows on a scatter); D's batch statistics, where it has them, are those of x.
   */
  async generatorLossGradient(x: Float32Array): Promise<{ score: Float32Array; gradient: Float32Array }> {
    this.expectAlive();
    const e = this.evaluator('gradient', this.D, x);
    let grad = this.gradients.get(e.ws.rows);
    if (!grad) {
      const rows = e.ws.rows;
      grad = {
        dx: this.pool.acquire([rows, this.D.inputSize], 'f32', `gradient[${rows}].dx`),
        ones: this.pool.from(new Float32Array(rows).fill(1), [rows, 1], 'ones'),
        zeros: this.pool.from(new Float32Array(rows), [rows, 1], 'zeros'),
        scratch: this.pool.acquire([METRIC_SLOTS], 'f32', 'unused metrics'),
      };
      this.gradients.set(rows, grad);
    }
    const { D, loss } = this;
    upload(this.ctx, e.input, x);
    this.ctx.run([
      ...D.forward(e.ws, e.input, { logits: loss.logits }),
      ...recordLoss(this.ctx, D.output(e.ws), D.outputGrad(e.ws), grad.scratch, loss.gTerms({ rows: e.ws.rows, ones: grad.ones, zeros: grad.zeros })),
      ...D.backward(e.ws, e.input, { paramGrads: false, inputGrad: { tensor: grad.dx } }),
    ]);
    return { score: await download(this.ctx, D.output(e.ws)), gradient: await download(this.ctx, grad.dx) };
  }

  /**
   * What ends a run of some of the phases: the clock (when the run counts as an iteration) and
   * the step counts of the optimizers whose phase ran, in one dispatch (none when nothing
   * changes). Recorded once per combination.
   */
  tickOf(parts: { clock: boolean; d: boolean; g: boolean }): readonly Step[] {
    const key = `${+parts.clock}${+parts.d}${+parts.g}`;
    let tick = this.ticks.get(key);
    if (!tick) {
      const stride = this.counters.stride;
      const steps = [
        { index: 0, by: parts.clock ? 1 : 0 },
        { index: stride, by: parts.d ? this.optD.stepsPerTick : 0 },
        { index: 2 * stride, by: parts.g ? this.optG.stepsPerTick : 0 },
      ].filter((s) => s.by > 0);
      tick = steps.length ? [advanceCounters(this.ctx, this.counters.flat, steps)] : [];
      this.ticks.set(key, tick);
    }
    return tick;
  }

  /** Sets the iteration count (restoring a checkpoint; the clock tensor is restored with it). */
  setIteration(iteration: number): void {
    if (!Number.isInteger(iteration) || iteration < 0) throw new ShapeError(`setIteration: ${iteration} is not an iteration count`);
    this.iterationCount = iteration;
  }

  /** Tensors whose contents are the whole training state, by checkpoint name. */
  stateTensors(): Map<string, Tensor> {
    const state = new Map<string, Tensor>();
    for (const [net, opt] of [[this.G, this.optG], [this.D, this.optD]] as const) {
      for (const [key, t] of [...net.params.byKey, ...net.buffers, ...opt.namedState()]) state.set(`${net.name}.${key}`, t);
    }
    state.set('clock', this.clock);
    return state;
  }

  /** Frees every buffer. The context stays open. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.destroy();
  }

  /** One network's forward pass on host or GPU rows, in inference mode, read back. */
  private async evaluate(op: string, net: Network, rows: Tensor | Float32Array, read?: ReadOptions): Promise<Float32Array> {
    this.expectAlive();
    const e = this.evaluator(op, net, rows);
    const steps: Step[] = [];
    if (rows instanceof Float32Array) upload(this.ctx, e.input, rows);
    else steps.push(this.ctx.copy(rows.buffer, e.input.buffer, e.input.byteLength, rows.byteOffset, e.input.byteOffset, `${op} input`));
    steps.push(...net.forward(e.ws, e.input, { training: false }));
    this.ctx.run(steps);
    return download(this.ctx, net.output(e.ws), read);
  }

  /** A network's workspace and input buffer for `rows`' row count, made once per op and count. */
  private evaluator(op: string, net: Network, rows: Tensor | Float32Array): { ws: NetworkWorkspace; input: Tensor } {
    const dim = net.inputSize;
    const n = rows instanceof Float32Array ? rows.length / dim : rows.rows;
    if (!Number.isInteger(n) || n < 1) throw new ShapeError(`${op}: input must be whole rows of ${dim} values`);
    if (!(rows instanceof Float32Array) && (rows.rank !== 2 || rows.cols !== dim)) throw new ShapeError(`${op}: input ${rows} must have shape [n, ${dim}]`);
    const key = `${op}[${n}]`;
    let e = this.evaluators.get(key);
    if (!e) {
      e = { ws: net.workspace(n, key), input: this.pool.acquire([n, dim], 'f32', `${key}.input`) };
      this.evaluators.set(key, e);
    }
    return e;
  }

  private expectAlive(): void {
    if (this.destroyed) throw new GpuError('the trainer was destroyed');
  }
}
