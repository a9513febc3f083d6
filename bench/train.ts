// Training throughput and costs: iterations/s and samples/s of the engine's trainer for every
// preset and the two benchmark GANs, with metrics read back once per 50 iterations (pipelined)
// and after every iteration (synchronous), side by side with the same GAN in TensorFlow.js
// (WebGPU backend on the same adapter, then its pure-JS CPU backend); what an iteration costs
// (dispatches, submits, bytes read back, GPU memory, shader warm-up); the wall time of the
// whole seed experiment; and a per-step profile of an iteration. Platform-free: the Node edge
// and the page both run it.

import type { Mnist } from '../src/data/mnist.ts';
import type { GpuContext, Step } from '../src/gpu/context.ts';
import type { GanConfig } from '../src/gan/config.ts';
import { preset } from '../src/gan/presets.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import { METRIC_SLOTS } from '../src/kernels/metrics.ts';
import { fmt, loadAverage, matchesFilter, measure, median, progress, ratio, say, Table, type Cost } from './common.ts';
import { convolves } from './configs.ts';
import { hasCpuClock, platform } from './platform.ts';
import { awaitAfterIdle, submitTfjs, type TfjsBackendName, type TfjsSide } from './tfjs.ts';
import { TfjsGan, tfjsPeerGap } from './tfjs-gan.ts';
import { GpuTimer } from './timing.ts';

/** Iterations per metrics readback in the pipelined mode. */
export const PIPELINED_LOG_EVERY = 50;

export interface TrainBenchOptions {
  quick: boolean;
  filter?: string;
  /** tfjs's side, or null to time the engine alone. */
  tfjs: TfjsSide | null;
  /** Also time tfjs's CPU backend (needs `tfjs`). */
  tfjsCpu: boolean;
  /** Opens a fresh context (own pipeline cache) on the same adapter, choices installed. */
  openContext: () => Promise<GpuContext>;
  /** MNIST, for the configs that train on it (asked for only then). */
  mnist: () => Promise<Mnist>;
}

/** Throughput of one side in one mode: medians over alternating rounds. */
export interface Throughput {
  itPerSec: number;
  samplesPerSec: number;
  /** CPU milliseconds per iteration, every thread of the process (see Cost; NaN without a CPU clock). */
  cpuMsPerIteration: number;
  /** Wall and CPU milliseconds per iteration of each timed block. */
  samples: Cost[];
  /** Iterations per timed block (and per metrics readback when pipelined, up to 50). */
  iterationsPerBlock: number;
}

export interface Costs {
  dispatchesPerIteration: number;
  copiesPerIteration: number;
  /** One submit per window: 1/50 pipelined, 1 synchronous. */
  submitsPerIteration: { pipelined: number; sync: number };
  /** The metric sums, once per window. */
  readbackBytesPerIteration: { pipelined: number; sync: number };
  memoryBytes: number;
  /** GanTrainer.create until the first iteration's metrics are back. */
  warmupMs: number;
  createMs: number;
  firstIterationMs: number;
  /** Pipelines compiled during create and the first iteration (the context's cache is fresh for a config's first batch size). */
  pipelinesCreated: number;
  freshContext: boolean;
}

export interface TrainResult {
  label: string;
  config: string;
  batch: number;
  /** Real rows D trains on per iteration (what samples/s counts). */
  samplesPerIteration: number;
  ours: { pipelined: Throughput; sync: Throughput };
  tfjs?: { pipelined: Throughput; sync: Throughput; warmupMs: number };
  tfjsCpu?: { pipelined: Throughput; warmupMs: number };
  /** Why tfjs did not run this config (its peer lacks a feature the config uses). */
  tfjsSkipped?: string;
  costs: Costs;
  loadAverage: string;
}

export function samplesPerIteration(config: GanConfig): number {
  return config.k * (config.schedule.kind === 'epoch' ? config.schedule.epochRows : config.batch);
}

/** A side's timed block: runs `n` iterations and returns the time per iteration. */
type Block = (n: number, logEvery: number) => Promise<Cost>;

function oursBlock(trainer: GanTrainer): Block {
  return (n, logEvery) => measure(n, async () => void (await trainer.run(n, { logEvery })));
}

/**
 * tfjs's timed block: `n` iterations, reading the metric sums back every `logEvery`. Before
 * each read it submits and sleeps through part of the window's expected time (as the engine's
 * trainer does), from the fastest block so far.
 */
function tfjsBlock(gan: TfjsGan): Block & { msPerIteration: number } {
  const block = Object.assign(
    async (n: number, logEvery: number) => {
      const cost = await measure(n, async () => {
        let windowStart = performance.now();
        for (let i = 1; i <= n; i++) {
          gan.iterate();
          if (i % logEvery === 0 || i === n) {
            const iterations = i % logEvery || logEvery;
            submitTfjs();
            await awaitAfterIdle(windowStart, iterations * block.msPerIteration, () => gan.readMetrics());
            windowStart = performance.now();
          }
        }
      });
      block.msPerIteration = Math.min(block.msPerIteration, cost.ms);
      return cost;
    },
    { msPerIteration: Infinity },
  );
  return block;
}

/** Block lengths: pipelined blocks hold whole 50-iteration windows unless that exceeds the time allowed. */
function blockIterations(msPerIteration: number, mode: 'pipelined' | 'sync', quick: boolean): number {
  const target = quick ? 700 : 1500;
  const fits = Math.max(1, Math.round(target / Math.max(msPerIteration, 1e-3)));
  if (mode === 'sync') return Math.min(fits, 100);
  if (fits < PIPELINED_LOG_EVERY) return fits;
  return PIPELINED_LOG_EVERY * Math.min(4, Math.floor(fits / PIPELINED_LOG_EVERY));
}

function throughput(costs: Cost[], iterationsPerBlock: number, samples: number): Throughput {
  const ms = median(costs.map((c) => c.ms));
  return { itPerSec: 1000 / ms, samplesPerSec: (1000 * samples) / ms, cpuMsPerIteration: median(costs.map((c) => c.cpuMs)), samples: costs, iterationsPerBlock };
}

/** The training rows: every config at two batch sizes (one with --quick). */
export function trainingRows(configs: GanConfig[], batches: (c: GanConfig) => number[]): { label: string; config: GanConfig }[] {
  return configs.flatMap((c) => batches(c).map((batch) => ({ label: `${c.preset} b${batch}`, config: { ...c, batch } })));
}

/** Runs the training rows, printing the throughput and the costs tables. */
export async function benchTraining(rows: { label: string; config: GanConfig }[], options: TrainBenchOptions): Promise<TrainResult[]> {
  const selected = rows.filter((r) => matchesFilter(r.label, options.filter));
  if (!selected.length) return [];
  const tfjs = options.tfjs;
  const cpu = hasCpuClock();
  say(
    `\nTraining throughput: medians of ${options.quick ? 3 : 5} alternating rounds per mode (2 fewer for iterations over 1.5 s); pipelined = metrics read back every ${PIPELINED_LOG_EVERY} iterations ` +
      `(fewer where a block of 50 would take too long: see 'it/block'), sync = every iteration. samples/s counts the real rows D trains on. ` +
      (cpu ? `CPU ms/it: CPU time of the whole process per pipelined iteration (adapter threads included), which other load on the machine does not change. ` : '') +
      (tfjs && options.tfjsCpu ? `tfjs-cpu: not run for GANs that convolve (its JS convolutions take minutes per iteration). ` : '') +
      `load average ${loadAverage()}\n`,
  );
  const header = ['config', 'it/block', 'ours it/s', 'ours samples/s', 'ours sync it/s'];
  if (tfjs) header.push('tfjs-webgpu it/s', 'tfjs sync it/s', 'ours / tfjs', 'sync: ours / tfjs');
  if (tfjs && cpu) header.push('CPU ms/it: ours', 'tfjs', 'tfjs / ours');
  if (tfjs && options.tfjsCpu) header.push('tfjs-cpu it/s', 'ours / tfjs-cpu');
  const table = new Table('training', header);
  const results: TrainResult[] = [];
  let ctx: GpuContext | null = null;
  let ctxConfig = '';
  try {
    for (const row of selected) {
      const config = row.config;
      const fresh = ctxConfig !== config.preset;
      if (fresh) {
        await ctx?.destroy();
        ctx = await options.openContext();
        ctxConfig = config.preset;
      }
      const result = await benchOne(ctx!, row.label, config, fresh, options);
      results.push(result);
      const cells: string[] = [
        row.label,
        `${result.ours.pipelined.iterationsPerBlock}`,
        fmt(result.ours.pipelined.itPerSec),
        fmt(result.ours.pipelined.samplesPerSec, 0),
        fmt(result.ours.sync.itPerSec),
      ];
      if (tfjs) {
        cells.push(
          fmt(result.tfjs?.pipelined.itPerSec),
          fmt(result.tfjs?.sync.itPerSec),
          ratio(result.ours.pipelined.itPerSec, result.tfjs?.pipelined.itPerSec),
          ratio(result.ours.sync.itPerSec, result.tfjs?.sync.itPerSec),
        );
      }
      if (tfjs && cpu) {
        cells.push(
          fmt(result.ours.pipelined.cpuMsPerIteration, 1),
          fmt(result.tfjs?.pipelined.cpuMsPerIteration, 1),
          ratio(result.tfjs?.pipelined.cpuMsPerIteration, result.ours.pipelined.cpuMsPerIteration),
        );
      }
      if (tfjs && options.tfjsCpu) cells.push(fmt(result.tfjsCpu?.pipelined.itPerSec, 3), ratio(result.ours.pipelined.itPerSec, result.tfjsCpu?.pipelined.itPerSec));
      table.row(cells);
    }
  } finally {
    await ctx?.destroy();
  }
  for (const r of results) if (r.tfjsSkipped) say(`${r.label}: the engine alone, ${r.tfjsSkipped}`);
  printCosts(results);
  return results;
}

async function benchOne(ctx: GpuContext, label: string, config: GanConfig, freshContext: boolean, options: TrainBenchOptions): Promise<TrainResult> {
  const { quick, tfjs } = options;
  const samples = samplesPerIteration(config);
  const mnist = config.data.kind === 'mnist' ? await options.mnist() : undefined;

  progress(`training ${label}: building the engine's trainer`);
  const pipelinesBefore = ctx.pipelinesCreated;
  const start = performance.now();
  const trainer = await GanTrainer.create(ctx, config, { mnist });
  const createMs = performance.now() - start;
  await trainer.step();
  const warmupMs = performance.now() - start;
  const firstIterationMs = warmupMs - createMs;
  const pipelinesCreated = ctx.pipelinesCreated - pipelinesBefore;
  let gan: TfjsGan | null = null;
  try {
    const ours = oursBlock(trainer);
    // A few synchronous iterations estimate the pace that sizes the timed blocks (and settle the
    // trainer's own estimate of it, which paces its waits).
    const oursMs = (await ours(Math.max(2, Math.min(10, Math.round(500 / Math.max(firstIterationMs, 1)))), 1)).ms;
    let theirs: (Block & { msPerIteration: number }) | null = null;
    let tfjsWarmupMs = 0;
    const gap = tfjs ? tfjsPeerGap(config) : null;
    if (tfjs && !gap) {
      progress(`training ${label}: building the tfjs GAN`);
      await tfjs.use('webgpu');
      const t0 = performance.now();
      gan = new TfjsGan(config, mnist?.train);
      theirs = tfjsBlock(gan);
      await theirs(1, 1);
      tfjsWarmupMs = performance.now() - t0;
      await theirs(1, 1);
    }
    // Short blocks in several rounds: on a shared machine a median of many short blocks is
    // steadier than a few long ones.
    const rounds = quick ? 3 : 5;
    const sides = { ours: { pipelined: [] as Cost[], sync: [] as Cost[] }, tfjs: { pipelined: [] as Cost[], sync: [] as Cost[] } };
    const n = {
      ours: { pipelined: blockIterations(oursMs, 'pipelined', quick), sync: blockIterations(oursMs, 'sync', quick) },
      tfjs: { pipelined: theirs ? blockIterations(theirs.msPerIteration, 'pipelined', quick) : 0, sync: theirs ? blockIterations(theirs.msPerIteration, 'sync', quick) : 0 },
    };
    // Long iterations: fewer rounds, since a round then lasts many seconds.
    const slow = Math.max(oursMs, theirs?.msPerIteration ?? 0) > 1500;
    for (let r = 0; r < (slow ? rounds - 2 : rounds); r++) {
      progress(`training ${label}: round ${r + 1} of ${slow ? rounds - 2 : rounds}`);
      sides.ours.pipelined.push(await ours(n.ours.pipelined, PIPELINED_LOG_EVERY));
      if (theirs) sides.tfjs.pipelined.push(await theirs(n.tfjs.pipelined, PIPELINED_LOG_EVERY));
      sides.ours.sync.push(await ours(n.ours.sync, 1));
      if (theirs) sides.tfjs.sync.push(await theirs(n.tfjs.sync, 1));
    }
    gan?.dispose();
    gan = null;

    const result: TrainResult = {
      label,
      config: config.preset,
      batch: config.batch,
      samplesPerIteration: samples,
      ours: {
        pipelined: throughput(sides.ours.pipelined, n.ours.pipelined, samples),
        sync: throughput(sides.ours.sync, n.ours.sync, samples),
      },
      costs: {
        dispatchesPerIteration: trainer.program.filter((s) => s.kind === 'dispatch').length,
        copiesPerIteration: trainer.program.filter((s) => s.kind === 'copy').length,
        submitsPerIteration: { pipelined: 1 / PIPELINED_LOG_EVERY, sync: 1 },
        readbackBytesPerIteration: { pipelined: (METRIC_SLOTS * 4) / PIPELINED_LOG_EVERY, sync: METRIC_SLOTS * 4 },
        memoryBytes: trainer.memoryBytes,
        warmupMs,
        createMs,
        firstIterationMs,
        pipelinesCreated,
        freshContext,
      },
      loadAverage: loadAverage(),
    };
    if (gap) result.tfjsSkipped = gap;
    if (theirs) {
      result.tfjs = {
        pipelined: throughput(sides.tfjs.pipelined, n.tfjs.pipelined, samples),
        sync: throughput(sides.tfjs.sync, n.tfjs.sync, samples),
        warmupMs: tfjsWarmupMs,
      };
    }
    // tfjs's CPU backend convolves in plain JS loops: over a minute per dcgan iteration at batch 16.
    if (tfjs && !gap && options.tfjsCpu && !convolves(config)) result.tfjsCpu = await timeTfjsCpu(tfjs, config, mnist, quick, samples);
    return result;
  } finally {
    gan?.dispose();
    trainer.destroy();
  }
}

/** tfjs's pure-JS CPU backend: a warm-up iteration, then one or two blocks (it is slow). */
async function timeTfjsCpu(tfjs: TfjsSide, config: GanConfig, mnist: Mnist | undefined, quick: boolean, samples: number): Promise<NonNullable<TrainResult['tfjsCpu']>> {
  const backend: TfjsBackendName = 'cpu';
  progress(`training ${config.preset} b${config.batch}: tfjs's CPU backend`);
  await tfjs.use(backend);
  const gan = new TfjsGan(config, mnist?.train);
  try {
    const block = tfjsBlock(gan);
    const t0 = performance.now();
    await block(1, 1);
    const warmupMs = performance.now() - t0;
    await block(1, 1);
    const n = blockIterations(block.msPerIteration, 'pipelined', quick);
    const costs: Cost[] = [];
    for (let r = 0; r < (block.msPerIteration > 1500 || quick ? 1 : 2); r++) costs.push(await block(n, PIPELINED_LOG_EVERY));
    return { pipelined: throughput(costs, n, samples), warmupMs };
  } finally {
    gan.dispose();
    await tfjs.use('webgpu');
  }
}

function printCosts(results: TrainResult[]): void {
  say(
    `\nCosts per iteration (engine): one submit and one ${METRIC_SLOTS * 4}-byte readback per window; ` +
      `warm-up = GanTrainer.create until the first iteration's metrics are back, on a fresh pipeline cache for each config's first batch size\n`,
  );
  const table = new Table('costs', ['config', 'dispatches', 'copies', 'submits (pipelined / sync)', 'bytes read back (pipelined / sync)', 'GPU memory MiB', 'warm-up s', 'pipelines created', 'tfjs warm-up s']);
  for (const r of results) {
    const c = r.costs;
    table.row([
      r.label,
      c.dispatchesPerIteration,
      c.copiesPerIteration,
      `${fmt(c.submitsPerIteration.pipelined)} / ${c.submitsPerIteration.sync}`,
      `${fmt(c.readbackBytesPerIteration.pipelined)} / ${c.readbackBytesPerIteration.sync}`,
      fmt(c.memoryBytes / 2 ** 20, 1),
      fmt(c.warmupMs / 1000),
      `${c.pipelinesCreated}${c.freshContext ? '' : ' (cache warm)'}`,
      fmt(r.tfjs ? r.tfjs.warmupMs / 1000 : undefined),
    ]);
  }
}

export interface SeedExperimentResult {
  iterations: number;
  /** GanTrainer.create until the last window's metrics are back. */
  wallMs: number;
  /** The run alone. */
  runMs: number;
  itPerSec: number;
  /** CPU time of the run, every thread of the process: the machine time it needs whatever else runs (NaN without a CPU clock). */
  runCpuMs: number;
  logEvery: number;
  loadAverage: string;
}

/** The whole seed experiment, as `npm run train -- --preset seed` trains it (metrics every logEvery). */
export async function benchSeedExperiment(ctx: GpuContext, mnist: Mnist, iterations: number): Promise<SeedExperimentResult> {
  const config = { ...preset('seed'), iterations };
  say(`\nThe seed experiment: ${iterations} iterations (${config.k} D epoch over 2 x ${config.schedule.kind === 'epoch' ? config.schedule.epochRows : 0} rows + 1 G epoch per iteration, batch ${config.batch}), metrics every ${config.logEvery}; load average ${loadAverage()}`);
  const start = performance.now();
  const trainer = await GanTrainer.create(ctx, config, { mnist });
  try {
    const runStart = performance.now();
    const cpu = platform().cpuMs();
    let shown = runStart;
    await trainer.run(iterations, {
      logEvery: config.logEvery,
      onMetrics: (m) => {
        if (performance.now() - shown > 30_000) {
          shown = performance.now();
          say(`  ${m.iteration} / ${iterations} iterations, ${((shown - start) / 1000).toFixed(0)} s`);
        }
      },
    });
    const end = performance.now();
    const cpuEnd = platform().cpuMs();
    const result = {
      iterations,
      wallMs: end - start,
      runMs: end - runStart,
      itPerSec: (iterations * 1000) / (end - runStart),
      runCpuMs: cpu === null || cpuEnd === null ? NaN : cpuEnd - cpu,
      logEvery: config.logEvery,
      loadAverage: loadAverage(),
    };
    const cpuSeconds = Number.isFinite(result.runCpuMs) ? `, ${(result.runCpuMs / 1000).toFixed(1)} CPU-s` : '';
    say(`  wall ${(result.wallMs / 1000).toFixed(1)} s (run ${(result.runMs / 1000).toFixed(1)} s, ${fmt(result.itPerSec)} it/s${cpuSeconds}); load average ${result.loadAverage}`);
    return result;
  } finally {
    trainer.destroy();
  }
}

export interface ProfileEntry {
  label: string;
  kind: 'dispatch' | 'copy';
  /** Times the step runs per iteration. */
  count: number;
  msEach: number;
  msPerIteration: number;
}

export interface ProfileResult {
  config: string;
  batch: number;
  entries: ProfileEntry[];
  /** Sum of the steps' times alone. */
  stepsMsPerIteration: number;
  /** Measured per iteration in a pipelined run, and synchronous. */
  pipelinedMsPerIteration: number;
  syncMsPerIteration: number;
  dispatchesPerIteration: number;
}

/**
 * Times every distinct step of one iteration alone (back-to-back repetitions; device time where
 * timestamps exist), and sets their sum against whole iterations: the difference is what
 * running them as one program adds (launches, barriers between dependent dispatches), and
 * synchronous minus pipelined is what reading metrics back every iteration costs. Every figure
 * is the fastest of its batches or blocks: on a shared machine that is the one least disturbed,
 * and it is taken the same way on both sides of each comparison.
 */
export async function profileIteration(ctx: GpuContext, config: GanConfig, mnist: () => Promise<Mnist>, quick: boolean): Promise<ProfileResult> {
  progress(`profile of one ${config.preset} b${config.batch} iteration`);
  const trainer = await GanTrainer.create(ctx, config, { mnist: config.data.kind === 'mnist' ? await mnist() : undefined });
  const timer = new GpuTimer(ctx);
  try {
    await trainer.step();
    const block = oursBlock(trainer);
    const est = (await block(5, 1)).ms;
    const [n, ns] = [blockIterations(est, 'pipelined', quick), blockIterations(est, 'sync', quick)];
    const pipelined: number[] = [];
    const sync: number[] = [];
    for (let r = 0; r < (quick ? 3 : 5); r++) {
      pipelined.push((await block(n, PIPELINED_LOG_EVERY)).ms);
      sync.push((await block(ns, 1)).ms);
    }
    const [pipelinedMsPerIteration, syncMsPerIteration] = [Math.min(...pipelined), Math.min(...sync)];

    // Steps that do the same work (same kernel, grid and label; bindings may differ) are timed once.
    const groups = new Map<string, { step: Step; count: number }>();
    for (const step of trainer.program) {
      const key = step.kind === 'dispatch' ? `${step.label}|${step.workgroups.join('x')}` : `${step.label}|${step.size}`;
      const g = groups.get(key);
      if (g) g.count++;
      else groups.set(key, { step, count: 1 });
    }
    const byLabel = new Map<string, ProfileEntry>();
    for (const { step, count } of groups.values()) {
      const t = await timer.time([step], { batches: quick ? 3 : 5, targetBatchMs: quick ? 10 : 25, maxRepsPerBatch: 200 });
      const e = byLabel.get(step.label) ?? { label: step.label, kind: step.kind, count: 0, msEach: 0, msPerIteration: 0 };
      e.count += count;
      e.msPerIteration += count * t.minMs;
      e.msEach = e.msPerIteration / e.count;
      byLabel.set(step.label, e);
    }
    const entries = [...byLabel.values()].sort((a, b) => b.msPerIteration - a.msPerIteration);
    const stepsMsPerIteration = entries.reduce((s, e) => s + e.msPerIteration, 0);
    return {
      config: config.preset,
      batch: config.batch,
      entries,
      stepsMsPerIteration,
      pipelinedMsPerIteration,
      syncMsPerIteration,
      dispatchesPerIteration: trainer.program.filter((s) => s.kind === 'dispatch').length,
    };
  } finally {
    timer.destroy();
    trainer.destroy();
  }
}

export function printProfile(p: ProfileResult, timing: string): void {
  say(`\nProfile of one ${p.config} b${p.batch} iteration: each step alone (${timing}, fastest batch), ${p.dispatchesPerIteration} dispatches\n`);
  const table = new Table('profile', ['step', 'per iteration', 'ms each', 'ms per iteration', 'share']);
  for (const e of p.entries) {
    table.row([e.label, e.count, fmt(e.msEach, 3), fmt(e.msPerIteration, 2), `${((100 * e.msPerIteration) / p.stepsMsPerIteration).toFixed(1)}%`]);
  }
  const overhead = p.pipelinedMsPerIteration - p.stepsMsPerIteration;
  say(`\nsteps alone: ${fmt(p.stepsMsPerIteration)} ms; whole iteration pipelined (fastest block): ${fmt(p.pipelinedMsPerIteration)} ms ` +
    `(difference ${fmt(overhead)} ms = ${fmt((1000 * overhead) / p.dispatchesPerIteration, 1)} µs per dispatch: launches and barriers); ` +
    `synchronous: ${fmt(p.syncMsPerIteration)} ms (readback and the wait for it: ${fmt(p.syncMsPerIteration - p.pipelinedMsPerIteration)} ms per iteration)`);
}
