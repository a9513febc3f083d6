// The GAN scheduler: builds G, D, their optimizers and every buffer once, records one training
// iteration as a list of dispatches, and replays it. Nothing crosses to the host during
// training but the metric sums, read back asynchronously once per logging window.

import { createRealSource, type RealSource } from '../data/source.ts';
import type { Mnist } from '../data/mnist.ts';
import type { GpuContext, ReadbackSlot, Step } from '../gpu/context.ts';
import { GpuError, ShapeError } from '../gpu/errors.ts';
import { fill } from '../kernels/fill.ts';
import { gatherRows, gatherValues } from '../kernels/gather.ts';
import { bceWithLogitsGrad, mseSigmoidGrad } from '../kernels/losses.ts';
import { accumulateMetrics, METRIC_SLOTS, metricsFromSums, type Metrics } from '../kernels/metrics.ts';
import { incrementCounter } from '../kernels/optim.ts';
import { randomIntegers, randomPermutation } from '../kernels/random.ts';
import { copyColumns, oneHot, otherLabels } from '../kernels/columns.ts';
import { Mlp, type MlpWorkspace } from '../nn/mlp.ts';
import { Optimizer } from '../nn/optimizer.ts';
import { TensorPool } from '../tensor/pool.ts';
import { download, upload, type Tensor } from '../tensor/tensor.ts';
import { validateConfig, type GanConfig } from './config.ts';
import { recordNoiseDraw } from './noise.ts';

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
}

export interface TrainerOptions {
  /** The MNIST data, for presets that train on it. */
  mnist?: Mnist;
}

/** The stream of fixed (clock-independent) noise, far from the streams a program uses. */
const FIXED_NOISE_STREAM = 0xfffffff0;

/** Windows of metrics in flight at once: the GPU always has the next window queued. */
const WINDOWS_IN_FLIGHT = 2;

export class GanTrainer {
  readonly ctx: GpuContext;
  readonly config: GanConfig;
  readonly G: Mlp;
  readonly D: Mlp;
  readonly optG: Optimizer;
  readonly optD: Optimizer;
  /** u32 [4]; element 0 counts iterations, and keys every random draw of the iteration. */
  readonly clock: Tensor;
  /** f32 [8]: the metric sums of the current window (kernels/metrics.ts). */
  readonly metrics: Tensor;
  /** One training iteration, recorded once: the D phase, the G phase, the clock tick. */
  readonly program: readonly Step[];
  /** The iteration's phases (their concatenation is `program`), for tests and profiling. */
  readonly phases: { readonly d: readonly Step[]; readonly g: readonly Step[]; readonly tick: readonly Step[] };
  /** The noise bank, when the config draws noise from a fixed bank. */
  readonly noiseBank: Tensor | null;
  private readonly pool: TensorPool;
  private readonly source: RealSource;
  private iterationCount = 0;
  private nextStream = 0;
  private readonly generators = new Map<number, { ws: MlpWorkspace; input: Tensor }>();
  private readonly fixedNoiseCache = new Map<number, Tensor>();
  private readonly drawTensors = new Map<string, Tensor>();
  /** Recorded once: zeroes the metric sums at the start of a window. */
  private readonly resetMetrics: Step;
  /** One readback slot per window in flight (and one being filled). */
  private readonly metricSlots: ReadbackSlot[];
  /** Wall milliseconds per iteration of the last window (0 until one completes). */
  private msPerIteration = 0;
  private readonly discriminators = new Map<number, { ws: MlpWorkspace; input: Tensor }>();
  private destroyed = false;

  private constructor(ctx: GpuContext, config: GanConfig, options: TrainerOptions) {
    validateConfig(config);
    this.ctx = ctx;
    this.config = config;
    this.pool = new TensorPool(ctx);
    const pool = this.pool;
    this.G = new Mlp(ctx, pool, 'generator', config.generator);
    this.D = new Mlp(ctx, pool, 'discriminator', config.discriminator);
    this.optG = new Optimizer(ctx, pool, this.G, config.optimizerG);
    this.optD = new Optimizer(ctx, pool, this.D, config.optimizerD);
    this.clock = pool.acquire([4], 'u32', 'clock');
    this.metrics = pool.acquire([METRIC_SLOTS], 'f32', 'metrics');
    this.resetMetrics = fill(ctx, this.metrics, 0);
    this.metricSlots = Array.from({ length: WINDOWS_IN_FLIGHT + 1 }, (_, i) => ctx.readbackSlot(METRIC_SLOTS * 4, `metrics readback ${i}`));
    this.source = createRealSource(ctx, pool, config.data, options.mnist?.train);
    this.noiseBank = config.noise.bank ? pool.acquire([config.noise.bank, config.noise.dim], 'f32', 'noise bank') : null;

    const init: Step[] = [
      fill(ctx, this.clock, 0),
      ...this.G.recordInit(config.seed, this.streams(this.G.initStreams)),
      ...this.D.recordInit(config.seed, this.streams(this.D.initStreams)),
      ...this.optG.recordReset(),
      ...this.optD.recordReset(),
    ];
    if (this.noiseBank) init.push(...this.drawNoise(this.noiseBank, this.streams(1), false));
    ctx.run(init);
    const { d, g } = config.schedule.kind === 'epoch' ? this.recordEpochIteration(config.schedule.epochRows) : this.recordAlternatingIteration();
    this.phases = { d, g, tick: [incrementCounter(ctx, this.clock)] };
    this.program = [...d, ...g, ...this.phases.tick];
  }

  /** Builds a trainer: every buffer, pipeline and dispatch is created here, none later. */
  static async create(ctx: GpuContext, config: GanConfig, options: TrainerOptions = {}): Promise<GanTrainer> {
    if (config.data.kind === 'mnist' && !options.mnist) throw new ShapeError(`preset '${config.preset}' trains on MNIST: pass { mnist }`);
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
    return this.drawTensors;
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

    const settle = async () => {
      const w = inFlight.shift()!;
      // The GPU runs windows back to back, so this one ends about `iterations` iterations after
      // the later of its submission and the previous window's end. Sleeping through most of that
      // before mapping keeps Dawn's Node binding from busy-polling a core away from a CPU
      // adapter. The 0.9 lets the estimate shrink when it overshoots, so it cannot drift up.
      const started = Math.max(w.submittedAt, lastDone);
      const idle = started + w.iterations * this.msPerIteration - performance.now();
      if (idle > 2) await new Promise((resolve) => setTimeout(resolve, 0.9 * idle));
      const sums = new Float32Array(await w.slot.read());
      const now = performance.now();
      this.msPerIteration = (now - started) / w.iterations;
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
      if (inFlight.length >= WINDOWS_IN_FLIGHT) await settle();
    }
    while (inFlight.length) await settle();
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
    const c = this.classes;
    const z = this.pool.acquire([n, this.config.noise.dim], 'f32', `fixed noise [${n}]`);
    if (this.noiseBank) {
      if (n > this.noiseBank.rows) throw new ShapeError(`fixedNoise: ${n} rows exceed the noise bank's ${this.noiseBank.rows}`);
      const idx = this.pool.from(Uint32Array.from({ length: n }, (_, i) => i), [n], 'fixed noise rows');
      this.ctx.run([gatherRows(this.ctx, this.noiseBank, idx, z)]);
      this.pool.release(idx);
    } else {
      this.ctx.run(this.drawNoise(z, FIXED_NOISE_STREAM, false));
    }
    let input = z;
    if (c) {
      input = this.pool.acquire([n, this.config.noise.dim + c], 'f32', `fixed G input [${n}]`);
      const labels = this.pool.from(Uint32Array.from({ length: n }, (_, i) => Math.floor((i * c) / n)), [n], 'fixed labels');
      this.ctx.run(this.recordConditioned(z, labels, input));
    }
    this.fixedNoiseCache.set(n, input);
    return input;
  }

  /** G(noise) for noise rows [n, noise.dim] (a tensor or host data). */
  async generate(noise: Tensor | Float32Array): Promise<Float32Array> {
    this.expectAlive();
    const dim = this.G.inputSize;
    const n = noise instanceof Float32Array ? noise.length / dim : noise.rows;
    if (!Number.isInteger(n) || n < 1) throw new ShapeError(`generate: noise must be whole rows of ${dim} values`);
    if (!(noise instanceof Float32Array) && (noise.rank !== 2 || noise.cols !== dim)) {
      throw new ShapeError(`generate: noise ${noise} must have shape [n, ${dim}]`);
    }
    let gen = this.generators.get(n);
    if (!gen) {
      gen = { ws: this.G.workspace(n, `generate[${n}]`), input: this.pool.acquire([n, dim], 'f32', `generate[${n}].z`) };
      this.generators.set(n, gen);
    }
    const steps: Step[] = [];
    if (noise instanceof Float32Array) upload(this.ctx, gen.input, noise);
    else steps.push(this.ctx.copy(noise.buffer, gen.input.buffer, n * dim * 4, noise.byteOffset, gen.input.byteOffset, 'generate input'));
    steps.push(...this.G.forward(gen.ws, gen.input));
    this.ctx.run(steps);
    return download(this.ctx, gen.ws.outputs[gen.ws.outputs.length - 1]);
  }

  /** D(x) (probabilities) for rows x [n, data dim] given on the host. */
  async discriminate(x: Float32Array): Promise<Float32Array> {
    this.expectAlive();
    const dim = this.D.inputSize;
    const n = x.length / dim;
    if (!Number.isInteger(n) || n < 1) throw new ShapeError(`discriminate: x must be whole rows of ${dim} values`);
    let d = this.discriminators.get(n);
    if (!d) {
      d = { ws: this.D.workspace(n, `discriminate[${n}]`), input: this.pool.acquire([n, dim], 'f32', `discriminate[${n}].x`) };
      this.discriminators.set(n, d);
    }
    upload(this.ctx, d.input, x);
    this.ctx.run(this.D.forward(d.ws, d.input));
    return download(this.ctx, d.ws.outputs[d.ws.outputs.length - 1]);
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
      const names = opt.spec.kind === 'sgd' ? ['velocity'] : ['adam_m', 'adam_v'];
      net.params.weights.forEach((w, l) => state.set(`${net.name}.${l}.weight`, w));
      net.params.biases.forEach((b, l) => state.set(`${net.name}.${l}.bias`, b));
      opt.state.forEach((s, i) => {
        s.weights.forEach((w, l) => state.set(`${net.name}.${l}.weight.${names[i]}`, w));
        s.biases.forEach((b, l) => state.set(`${net.name}.${l}.bias.${names[i]}`, b));
      });
      state.set(`${net.name}.optimizer_step`, opt.step);
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

  // --- recording -------------------------------------------------------------------------

  /** Reserves `n` consecutive random streams. */
  private streams(n: number): number {
    const first = this.nextStream;
    this.nextStream += n;
    return first;
  }

  /** Fills `z` [n, noise.dim] with fresh noise (keyed by the clock when `perIteration`). */
  private drawNoise(z: Tensor, stream: number, perIteration = true): Step[] {
    return recordNoiseDraw(this.ctx, z, this.config.noise, this.config.seed, stream, perIteration ? this.clock : undefined);
  }

  /** Noise rows for a batch: rows of the bank (by `indices`, or freshly drawn indices), or fresh draws. */
  private recordNoise(z: Tensor, indices?: Tensor): Step[] {
    if (!this.noiseBank) return this.drawNoise(z, this.streams(1));
    const steps: Step[] = [];
    let rows = indices;
    if (!rows) {
      rows = this.pool.acquire([z.rows], 'u32', 'noise rows');
      steps.push(randomPermutation(this.ctx, rows, { domain: this.noiseBank.rows, seed: this.config.seed, stream: this.streams(1), clock: this.clock }));
    }
    steps.push(gatherRows(this.ctx, this.noiseBank, rows, z));
    return steps;
  }

  /**
   * Real rows into `dst`: dataset rows by `indices` (drawn here if not given), or fresh draws.
   * Returns the row indices used (null for a generated distribution), for the rows' labels.
   */
  private recordReal(dst: Tensor, steps: Step[], indices?: Tensor): Tensor | null {
    const draw = { seed: this.config.seed, stream: this.streams(1), clock: this.clock };
    if (this.source.rows === null) {
      steps.push(...this.source.record(dst, draw));
      return null;
    }
    let rows = indices;
    if (!rows) {
      rows = this.pool.acquire([dst.rows], 'u32', 'real rows');
      steps.push(randomPermutation(this.ctx, rows, { domain: this.source.rows, ...draw }));
    }
    steps.push(...this.source.record(dst, { ...draw, indices: rows }));
    return rows;
  }

  /** Classes of the conditional GAN (0 when unconditional). */
  private get classes(): number {
    return this.config.conditional?.classes ?? 0;
  }

  /** Labels for generated rows: uniform over the classes, drawn on the GPU. */
  private recordFakeLabels(labels: Tensor): Step[] {
    return [randomIntegers(this.ctx, labels, { bound: this.classes, seed: this.config.seed, stream: this.streams(1), clock: this.clock })];
  }

  /** The matching-aware D's wrong labels: per row, uniform over the classes other than `labels`'. */
  private recordOtherLabels(labels: Tensor, shifts: Tensor, others: Tensor): Step[] {
    return [
      randomIntegers(this.ctx, shifts, { bound: this.classes - 1, seed: this.config.seed, stream: this.streams(1), clock: this.clock }),
      otherLabels(this.ctx, labels, shifts, others, { classes: this.classes }),
    ];
  }

  /** PacGAN's pack: how many rows of one kind D judges together (1 when not packed). */
  private get pack(): number {
    return this.config.pack ?? 1;
  }

  /** `x` [rows, dim] as D's packed input [rows / pack, dim * pack]: the same memory. */
  private packed(x: Tensor): Tensor {
    const p = this.pack;
    return p === 1 ? x : x.reshape([x.rows / p, x.cols * p], `${x.label} packed by ${p}`);
  }

  private get mismatch(): boolean {
    return this.classes > 0 && this.config.conditional?.mismatch === true;
  }

  /** dst = [x | one-hot(labels)] from row `row` on. */
  private recordConditioned(x: Tensor, labels: Tensor, dst: Tensor, row = 0): Step[] {
    return [copyColumns(this.ctx, x, dst, { row }), oneHot(this.ctx, labels, dst, { classes: this.classes, column: x.cols, row, hot: this.config.conditional?.labelScale })];
  }

  /** D's target for real rows (config.realLabel, default 1). */
  private get realLabel(): number {
    return this.config.realLabel ?? 1;
  }

  private get smoothed(): boolean {
    return this.realLabel !== 1;
  }

  private get logitsOut(): boolean {
    return this.config.loss === 'bce';
  }

  /**
   * D's loss gradient (into ws's last delta) against `targets` and metrics for a batch whose
   * rows are told real (1) from fake (0) by `labels` (the targets differ from the labels only
   * under label smoothing; the metrics stay the plain loss and the plain means of D). The
   * metrics read the first `scoredRows` rows (default all): the matching-aware D's mismatched
   * rows, which follow the real and fake halves, are trained on but not scored.
   */
  private recordDLoss(ws: MlpWorkspace, labels: Tensor, targets = labels, scoredRows = ws.rows): Step[] {
    const out = ws.outputs[ws.outputs.length - 1];
    const delta = ws.deltas[ws.deltas.length - 1];
    // BCE: mean over the real rows plus mean over the fake rows (the minibatch holds both, and
    // with a matching-aware D a third block of mismatched rows of the same size, whose mean
    // adds on); MSE: DeepLearnToolbox's mean over the minibatch's rows.
    const bce = this.config.loss === 'bce';
    const scale = bce && this.config.schedule.kind === 'alternating' ? 2 / scoredRows : 1 / ws.rows;
    const scored = scoredRows === ws.rows ? [out, labels] : [out.rowsView(0, scoredRows), labels.rowsView(0, scoredRows)];
    return [
      bce ? bceWithLogitsGrad(this.ctx, out, targets, delta, { scale }) : mseSigmoidGrad(this.ctx, out, targets, delta, { scale }),
      accumulateMetrics(this.ctx, scored[0], scored[1], this.metrics, { output: bce ? 'logits' : 'probabilities', update: 'D', scale }),
    ];
  }

  /** The G step's loss gradient at D's output, and its metric. */
  private recordGLoss(ws: MlpWorkspace, ones: Tensor, zeros: Tensor): Step[] {
    const out = ws.outputs[ws.outputs.length - 1];
    const delta = ws.deltas[ws.deltas.length - 1];
    const m = ws.rows;
    if (this.config.loss === 'mse') {
      return [
        mseSigmoidGrad(this.ctx, out, ones, delta, { scale: 1 / m }),
        accumulateMetrics(this.ctx, out, ones, this.metrics, { output: 'probabilities', update: 'G', scale: 1 / m }),
      ];
    }
    // Non-saturating: minimise -log D(G(z)) = BCE(x, 1). Minimax: minimise log(1 - D(G(z))) =
    // -BCE(x, 0), whose gradient is -(sigmoid(x) - 0) / m.
    const [labels, scale] = this.config.gLoss === 'minimax' ? [zeros, -1 / m] : [ones, 1 / m];
    return [
      bceWithLogitsGrad(this.ctx, out, labels, delta, { scale }),
      accumulateMetrics(this.ctx, out, labels, this.metrics, { output: 'logits', update: 'G', scale }),
    ];
  }

  /**
   * G forward, D forward (frozen), loss, D backward into G, G backward, G update. `z` is G's
   * whole input; for the conditional GAN, `condition` gives the labels and the buffer that
   * holds D's input [G(z) | one-hot(labels)], and the gradient flows back through the image
   * columns only.
   */
  private recordGUpdate(z: Tensor, gws: MlpWorkspace, dws: MlpWorkspace, ones: Tensor, zeros: Tensor, condition?: { labels: Tensor; dInput: Tensor }): Step[] {
    const fake = gws.outputs[gws.outputs.length - 1];
    const dInput = condition?.dInput ?? this.packed(fake);
    return [
      ...this.G.forward(gws, z),
      ...(condition ? this.recordConditioned(fake, condition.labels, condition.dInput) : []),
      ...this.D.forward(dws, dInput, { logits: this.logitsOut }),
      ...this.recordGLoss(dws, ones, zeros),
      ...this.D.backward(dws, dInput, {
        paramGrads: false,
        inputGrad: {
          tensor: this.packed(gws.deltas[gws.deltas.length - 1]),
          gradOf: { output: this.packed(fake), activation: this.G.outputActivation, leak: this.config.generator.leak },
          columns: condition ? fake.cols : undefined,
        },
      }),
      ...this.G.backward(gws, z, { paramGrads: true }),
      ...this.optG.recordUpdate(),
    ];
  }

  private constant(rows: number, value: number, label: string): Tensor {
    return this.pool.from(new Float32Array(rows).fill(value), [rows, 1], label);
  }

  /** Goodfellow et al.'s Algorithm 1: k D updates on fresh real and fake batches, one G update. */
  private recordAlternatingIteration(): { d: Step[]; g: Step[] } {
    const { batch: b, k } = this.config;
    const dim = this.source.dim;
    const nz = this.config.noise.dim;
    const c = this.classes;
    // D's batch: b real rows, b fake rows and, for a matching-aware D, b real rows with wrong
    // labels; packed, D judges them `pack` rows at a time: dRows / pack inputs.
    const dRows = (this.mismatch ? 3 : 2) * b;
    const p = this.pack;
    const [inputs, realInputs] = [dRows / p, b / p];
    const labelsD = this.pool.from(Float32Array.from({ length: inputs }, (_, i) => (i < realInputs ? 1 : 0)), [inputs, 1], 'D labels');
    const targetsD = this.smoothed ? this.pool.from(Float32Array.from({ length: inputs }, (_, i) => (i < realInputs ? this.realLabel : 0)), [inputs, 1], 'D targets') : labelsD;
    const ones = this.constant(b / p, 1, 'ones');
    const zeros = this.constant(b / p, 0, 'zeros');
    const gws = this.G.workspace(b, 'G');
    const dwsD = this.D.workspace(inputs, this.mismatch ? 'D[real+fake+mismatched]' : 'D[real+fake]');
    const dwsG = this.D.workspace(b / p, 'D[fake]');
    const fake = gws.outputs[gws.outputs.length - 1];
    // The conditional GAN assembles [z | one-hot] for G and [x | one-hot] for D from parts.
    const gInput = c ? this.pool.acquire([b, nz + c], 'f32', 'G input') : null;
    const real = c ? this.pool.acquire([b, dim], 'f32', 'real rows') : null;
    const d: Step[] = [];
    for (let j = 1; j <= k; j++) {
      // Each update draws into its own buffers, so all of an iteration's draws can be inspected.
      const xD = this.drawBuffer(`D${j}.x`, [dRows, dim + c]);
      const z = this.drawBuffer(`D${j}.z`, [b, nz]);
      if (!c) {
        this.recordReal(xD.rowsView(0, b), d);
        d.push(
          ...this.recordNoise(z),
          ...this.G.forward(gws, z),
          this.ctx.copy(fake.buffer, xD.buffer, b * dim * 4, fake.byteOffset, xD.byteOffset + b * dim * 4, 'fake rows into the D batch'),
        );
      } else {
        const realLabels = this.drawBuffer(`D${j}.real labels`, [b], 'u32');
        const fakeLabels = this.drawBuffer(`D${j}.fake labels`, [b], 'u32');
        const rows = this.recordReal(real!, d)!;
        d.push(
          ...this.source.recordLabels!(realLabels, rows),
          ...this.recordNoise(z),
          ...this.recordFakeLabels(fakeLabels),
          ...this.recordConditioned(z, fakeLabels, gInput!),
          ...this.G.forward(gws, gInput!),
          ...this.recordConditioned(real!, realLabels, xD),
          ...this.recordConditioned(fake, fakeLabels, xD, b),
        );
        if (this.mismatch) {
          const wrong = this.drawBuffer(`D${j}.mismatched labels`, [b], 'u32');
          d.push(...this.recordOtherLabels(realLabels, this.drawBuffer(`D${j}.label shifts`, [b], 'u32'), wrong), ...this.recordConditioned(real!, wrong, xD, 2 * b));
        }
      }
      const xPacked = this.packed(xD);
      d.push(
        ...this.D.forward(dwsD, xPacked, { logits: this.logitsOut }),
        ...this.recordDLoss(dwsD, labelsD, targetsD, (2 * b) / p),
        ...this.D.backward(dwsD, xPacked, { paramGrads: true }),
        ...this.optD.recordUpdate(),
      );
    }
    const z = this.drawBuffer('G.z', [b, nz]);
    const g = this.recordNoise(z);
    if (!c) {
      g.push(...this.recordGUpdate(z, gws, dwsG, ones, zeros));
    } else {
      const labels = this.drawBuffer('G.labels', [b], 'u32');
      g.push(
        ...this.recordFakeLabels(labels),
        ...this.recordConditioned(z, labels, gInput!),
        ...this.recordGUpdate(gInput!, gws, dwsG, ones, zeros, { labels, dInput: this.pool.acquire([b, dim + c], 'f32', 'D input (G step)') }),
      );
    }
    return { d, g };
  }

  /** A buffer holding one of the iteration's random draws, inspectable through `draws`. */
  private drawBuffer(name: string, shape: number[], dtype: 'f32' | 'u32' = 'f32'): Tensor {
    const t = this.pool.acquire(shape, dtype, name);
    this.drawTensors.set(name, t);
    return t;
  }

  /** The seed experiment's iteration (see Schedule). */
  private recordEpochIteration(rows: number): { d: Step[]; g: Step[] } {
    const { batch: b, k } = this.config;
    const dim = this.source.dim;
    const nz = this.config.noise.dim;
    const seed = this.config.seed;
    const perm = this.drawBuffer('rows', [rows], 'u32');
    const pool = this.pool.acquire([2 * rows, dim], 'f32', 'D rows (real, fake)');
    this.drawTensors.set('real', pool.rowsView(0, rows, 'real'));
    const poolLabels = this.pool.from(Float32Array.from({ length: 2 * rows }, (_, i) => (i < rows ? 1 : 0)), [2 * rows], 'D row labels');
    const poolTargets = this.smoothed ? this.pool.from(Float32Array.from({ length: 2 * rows }, (_, i) => (i < rows ? this.realLabel : 0)), [2 * rows], 'D row targets') : null;
    const tb = poolTargets ? this.pool.acquire([b], 'f32', 'D minibatch targets') : null;
    const zRows = this.drawBuffer('noise', [rows, nz]);
    const gwsAll = this.G.workspace(rows, 'G[all rows]');
    const generated = gwsAll.outputs[gwsAll.outputs.length - 1];
    const gShuffle = this.drawBuffer('G.shuffle', [rows], 'u32');
    const xb = this.pool.acquire([b, dim], 'f32', 'D minibatch');
    const yb = this.pool.acquire([b], 'f32', 'D minibatch labels');
    const zb = this.pool.acquire([b, nz], 'f32', 'G minibatch noise');
    const ones = this.constant(b, 1, 'ones');
    const zeros = this.constant(b, 0, 'zeros');
    const gws = this.G.workspace(b, 'G');
    const dws = this.D.workspace(b, 'D');
    const clock = this.clock;

    const d: Step[] = [];
    // index = randperm(rows of the data); the same rows of the data and of the noise bank.
    const domain = this.source.rows ?? this.noiseBank?.rows;
    if (domain !== undefined && domain !== null) {
      if (domain < rows) throw new ShapeError(`epoch schedule: ${rows} rows per iteration exceed the ${domain} available`);
      d.push(randomPermutation(this.ctx, perm, { domain, seed, stream: this.streams(1), clock }));
    }
    const sharedRows = this.noiseBank && this.source.rows === this.noiseBank.rows ? perm : undefined;
    this.recordReal(pool.rowsView(0, rows), d, this.source.rows === null ? undefined : perm);
    d.push(
      ...this.recordNoise(zRows, sharedRows),
      ...this.G.forward(gwsAll, zRows),
      this.ctx.copy(generated.buffer, pool.buffer, rows * dim * 4, generated.byteOffset, pool.byteOffset + rows * dim * 4, 'fake rows into the D rows'),
    );
    for (let epoch = 1; epoch <= k; epoch++) {
      const shuffle = this.drawBuffer(`D${epoch}.shuffle`, [2 * rows], 'u32');
      d.push(randomPermutation(this.ctx, shuffle, { domain: 2 * rows, seed, stream: this.streams(1), clock }));
      for (let j = 0; j < (2 * rows) / b; j++) {
        d.push(
          gatherRows(this.ctx, pool, shuffle, xb, { indexOffset: j * b }),
          gatherValues(this.ctx, poolLabels, shuffle, yb, { indexOffset: j * b }),
          ...(poolTargets ? [gatherValues(this.ctx, poolTargets, shuffle, tb!, { indexOffset: j * b })] : []),
          ...this.D.forward(dws, xb, { logits: this.logitsOut }),
          ...this.recordDLoss(dws, yb, tb ?? yb),
          ...this.D.backward(dws, xb, { paramGrads: true }),
          ...this.optD.recordUpdate(),
        );
      }
    }
    const g: Step[] = [randomPermutation(this.ctx, gShuffle, { domain: rows, seed, stream: this.streams(1), clock })];
    for (let j = 0; j < rows / b; j++) {
      g.push(gatherRows(this.ctx, zRows, gShuffle, zb, { indexOffset: j * b }), ...this.recordGUpdate(zb, gws, dws, ones, zeros));
    }
    return { d, g };
  }

  private expectAlive(): void {
    if (this.destroyed) throw new GpuError('the trainer was destroyed');
  }
}
