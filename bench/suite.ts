// The benchmark suite, platform-free: the sections `npm run bench` (bench/index.ts) and the
// page (bench.html, bench/page.ts) both run, the speed targets they settle, and the results
// file's schema. The edges give it a device, tfjs, MNIST, a store for the matmul choices and a
// platform (bench/platform.ts); it gives back every figure.
//
//   1. matmul GFLOP/s per kernel strategy, the engine's choice, and ours / tf.matMul;
//   2. conv GFLOP/s of the dcgan preset's layers (forward and both gradients), ours / tfjs's op;
//   3. training iterations/s and samples/s per config, with metrics read back every 50
//      iterations and every iteration, ours / tfjs per row, and what an iteration costs;
//   4. the whole seed experiment's wall time (not in quick runs);
//   5. each step of an iteration timed alone (when asked for).

import type { Mnist } from '../src/data/mnist.ts';
import type { AdapterSummary, GpuContext } from '../src/gpu/context.ts';
import { setMatmulChoices, type MatmulChoice } from '../src/kernels/autotune.ts';
import { fmt, loadAverage, matchesFilter, ratio, say, Table } from './common.ts';
import { batchSizes, type BenchSubset, type SubsetName } from './configs.ts';
import { benchConv, type ConvResult } from './conv-rows.ts';
import { benchMatmul, tuneMatmul, type MatmulResult, type TuningMode, type TuningPlace } from './matmul-rows.ts';
import { hasCpuClock } from './platform.ts';
import type { TfjsSide } from './tfjs.ts';
import { benchSeedExperiment, benchTraining, printProfile, profileIteration, trainingRows, type ProfileResult, type SeedExperimentResult, type TrainResult } from './train.ts';

export const SECTIONS = ['matmul', 'conv', 'train', 'seed', 'profile'] as const;
export type Section = (typeof SECTIONS)[number];

/** The seed experiment's length: what its wall-time target is stated for. */
export const SEED_EXPERIMENT_ITERATIONS = 1500;

/** What the edge provides. */
export interface BenchEnvironment {
  /** The engine's context: tuning and the matmul rows run on it. */
  ctx: GpuContext;
  /** Opens another context on the same adapter (a fresh pipeline cache per training config). */
  openContext(): Promise<GpuContext>;
  /** tfjs's side, or null to time the engine alone. */
  tfjs: TfjsSide | null;
  /** MNIST, asked for only by rows that train on it. */
  loadMnist(): Promise<Mnist>;
  /** Where the autotuned matmul choices persist. */
  tuning: TuningPlace;
  /** Logical CPU cores, for the targets' idle-machine bounds. */
  cores: number;
}

export interface BenchOptions {
  subset: BenchSubset;
  /** Only rows whose label contains it (alternatives separated by `|`). */
  filter?: string;
  sections: ReadonlySet<Section>;
  /** Also time tfjs's CPU backend in the training rows (needs tfjs). */
  tfjsCpu: boolean;
  /** How the matmul choices are found (tuned, stored, or the heuristic). */
  tuning: TuningMode;
  seedIterations: number;
}

export interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
}

/** Every figure of a run. */
export interface BenchFigures {
  matmulChoices: MatmulChoice[];
  matmul: MatmulResult[];
  conv: ConvResult[];
  training: TrainResult[];
  seedExperiment: SeedExperimentResult | null;
  profiles: ProfileResult[];
  targets: Target[];
}

/** The results file: bench/results/<adapter>-<date>.json in Node, the page's Download JSON. */
export interface BenchResults extends BenchFigures {
  adapter: AdapterSummary & { line: string; features: string[] };
  tfjsAdapter: { line: string; sameAdapter: boolean; version: Record<string, string> } | null;
  /** The commit measured (`+dirty` with uncommitted changes); null where unknown. */
  commit: string | null;
  started: string;
  finished: string;
  config: {
    subset: SubsetName;
    quick: boolean;
    filter: string | null;
    sections: Section[];
    tfjs: boolean;
    tfjsCpu: boolean;
    tuning: TuningMode;
    seedIterations: number;
    /** What the edge knows of the machine: Node's version, cores, CPU model, load; a browser's user agent. */
    [machine: string]: unknown;
  };
}

/**
 * The sections to run from a list (default all but profile, which `profile` adds); quick runs
 * leave the seed experiment out. Throws on an unknown name.
 */
export function resolveSections(list: readonly string[] | undefined, options: { profile: boolean; quick: boolean }): Set<Section> {
  const sections = new Set<Section>();
  for (const s of list ?? ['matmul', 'conv', 'train', 'seed']) {
    if (!SECTIONS.includes(s as Section)) throw new Error(`unknown section '${s}'`);
    sections.add(s as Section);
  }
  if (options.profile) sections.add('profile');
  if (options.quick) sections.delete('seed');
  return sections;
}

/** Runs the sections, output going to the platform's as it comes; returns every figure. */
export async function runBench(env: BenchEnvironment, options: BenchOptions): Promise<BenchFigures> {
  const { subset, filter, sections } = options;
  const { ctx, tfjs } = env;
  const quick = subset.quick;
  const matmulChoices = await tuneMatmul(ctx, env.tuning, options.tuning);

  let matmul: MatmulResult[] = [];
  if (sections.has('matmul')) matmul = await benchMatmul(ctx, { subset, filter, tfjs: Boolean(tfjs), textbook: false });

  let conv: ConvResult[] = [];
  if (sections.has('conv')) conv = await benchConv(ctx, { subset, filter, tfjs: Boolean(tfjs) });

  let mnist: Promise<Mnist> | null = null;
  const loadMnist = () => (mnist ??= env.loadMnist());
  const openContext = async () => {
    const fresh = await env.openContext();
    setMatmulChoices(fresh, matmulChoices);
    return fresh;
  };

  let training: TrainResult[] = [];
  if (sections.has('train')) {
    training = await benchTraining(trainingRows(subset.training, (c) => batchSizes(c, quick)), {
      quick,
      filter,
      tfjs,
      tfjsCpu: Boolean(tfjs) && options.tfjsCpu,
      openContext,
      mnist: loadMnist,
    });
  }

  let seedExperiment: SeedExperimentResult | null = null;
  if (sections.has('seed') && matchesFilter('seed experiment', filter)) {
    const fresh = await openContext();
    try {
      seedExperiment = await benchSeedExperiment(fresh, await loadMnist(), options.seedIterations);
    } finally {
      await fresh.destroy();
    }
  }

  const profiles: ProfileResult[] = [];
  if (sections.has('profile')) {
    for (const config of subset.profile.filter((c) => matchesFilter(`profile ${c.preset}`, filter))) {
      const fresh = await openContext();
      try {
        const p = await profileIteration(fresh, config, loadMnist, quick);
        printProfile(p, fresh.features.has('timestamp-query') ? 'GPU timestamps' : 'wall clock');
        profiles.push(p);
      } finally {
        await fresh.destroy();
      }
    }
  }

  const targets = checkTargets(matmul, conv, training, seedExperiment, env.cores);
  if (targets.length) {
    say(`\nTargets (ratios within this run; load average ${loadAverage()} at the end)\n`);
    const table = new Table('targets', ['target', 'goal', 'measured', 'met']);
    for (const t of targets) table.row([t.name, t.target, t.measured, t.met === null ? '-' : t.met ? 'yes' : 'no']);
  }
  return { matmulChoices, matmul, conv, training, seedExperiment, profiles, targets };
}

/** The adapter as the results file records it. */
export function adapterRecord(ctx: GpuContext): BenchResults['adapter'] {
  return { line: ctx.adapterLine, ...ctx.adapter, features: [...ctx.features].sort() };
}

/** tfjs's adapter as the results file records it. */
export function tfjsAdapterRecord(tfjs: TfjsSide | null): BenchResults['tfjsAdapter'] {
  return tfjs ? { line: tfjs.adapterLine, sameAdapter: tfjs.sameAdapter, version: tfjs.version } : null;
}

/** The run's settings as the results file records them (the edge adds what it knows of the machine). */
export function configRecord(options: BenchOptions, tfjs: boolean): BenchResults['config'] {
  return {
    subset: options.subset.name,
    quick: options.subset.quick,
    filter: options.filter ?? null,
    sections: [...options.sections],
    tfjs,
    tfjsCpu: tfjs && options.tfjsCpu,
    tuning: options.tuning,
    seedIterations: options.seedIterations,
  };
}

/**
 * The speed targets this benchmark settles, where this run measured what they need: each by
 * wall clock in this run, and (where the platform has a CPU clock) by CPU time (the process's,
 * adapter threads included), which does not depend on what else the machine runs; `cores`
 * turns CPU time into the best an idle machine could do.
 */
export function checkTargets(matmul: MatmulResult[], conv: ConvResult[], training: TrainResult[], seed: SeedExperimentResult | null, cores: number): Target[] {
  const out: Target[] = [];
  const cpu = hasCpuClock();
  const train = (label: string, goal: number) => {
    const r = training.find((t) => t.label === label);
    if (!r?.tfjs) return;
    const [ours, theirs] = [r.ours.pipelined, r.tfjs.pipelined];
    out.push({ name: `${label} training vs tfjs-webgpu (it/s)`, target: `>= ${goal}x`, measured: `${ratio(ours.itPerSec, theirs.itPerSec)} (${fmt(ours.itPerSec)} vs ${fmt(theirs.itPerSec)} it/s)`, met: ours.itPerSec / theirs.itPerSec >= goal });
    if (!cpu) return;
    out.push({
      name: `${label} training vs tfjs-webgpu (CPU time per iteration)`,
      target: `>= ${goal}x`,
      measured: `${ratio(theirs.cpuMsPerIteration, ours.cpuMsPerIteration)} (${fmt(ours.cpuMsPerIteration, 1)} vs ${fmt(theirs.cpuMsPerIteration, 1)} CPU-ms)`,
      met: theirs.cpuMsPerIteration / ours.cpuMsPerIteration >= goal,
    });
  };
  train('seed-sized b100', 5);
  train('large b512', 3);
  train('dcgan b64', 3);
  // Launches per iteration: where each costs ~10-18 us all-in (a GPU), they bound the small presets.
  const launches = (label: string, goal: number) => {
    const r = training.find((t) => t.label === label);
    if (r) out.push({ name: `${label} dispatches per iteration`, target: `<= ${goal}`, measured: `${r.costs.dispatchesPerIteration}`, met: r.costs.dispatchesPerIteration <= goal });
  };
  launches('seed b100', 120);
  launches('mnist b64', 24);
  launches('seed-sized b100', 14);
  // Each convolution layer's passes against tfjs's ops: every one at 2x or more.
  for (const layer of new Set(conv.filter((r) => r.wall).map((r) => r.layer))) {
    const rows = conv.filter((r) => r.layer === layer && r.wall);
    const name = `conv ${layer} (${rows.map((r) => r.label.slice(layer.length + 1)).join(' / ')}) vs tfjs`;
    const check = (how: string, ratios: number[]) =>
      out.push({ name: `${name} (${how})`, target: '>= 2x each', measured: ratios.map((v) => `${v.toFixed(2)}x`).join(' / '), met: ratios.every((v) => v >= 2) });
    check('wall', rows.map((r) => r.wall!.ours / r.wall!.tfjs));
    if (cpu) check('per CPU-second', rows.map((r) => r.wall!.oursPerCpuSecond / r.wall!.tfjsPerCpuSecond));
  }
  const m = matmul.find((r) => r.label === 'A·B 1024x1024x1024');
  if (m) {
    const device = m.gflops[m.engineUses];
    out.push({ name: '1024^3 matmul GFLOP/s (engine choice, device time)', target: '>= 15', measured: fmt(device), met: device >= 15 });
    if (m.wall) {
      const w = m.wall;
      const ceiling = w.oursPerCpuSecond * cores;
      if (cpu) out.push({ name: `1024^3 matmul GFLOP/s on an idle machine at best (GFLOP per CPU-second x ${cores} cores)`, target: '>= 15', measured: fmt(ceiling), met: ceiling >= 15 });
      out.push({ name: '1024^3 matmul vs tf.matMul (wall)', target: '>= 3x', measured: `${ratio(w.ours, w.tfjs)} (${fmt(w.ours)} vs ${fmt(w.tfjs)} GFLOP/s)`, met: w.ours / w.tfjs >= 3 });
      if (cpu) out.push({ name: '1024^3 matmul vs tf.matMul (per CPU-second)', target: '>= 3x', measured: `${ratio(w.oursPerCpuSecond, w.tfjsPerCpuSecond)} (${fmt(w.oursPerCpuSecond)} vs ${fmt(w.tfjsPerCpuSecond)})`, met: w.oursPerCpuSecond / w.tfjsPerCpuSecond >= 3 });
    }
  }
  if (seed) {
    const scale = SEED_EXPERIMENT_ITERATIONS / seed.iterations;
    const setup = seed.wallMs - seed.runMs;
    const projected = seed.runMs * scale + setup;
    const idle = (seed.runCpuMs * scale) / cores + setup;
    const from = seed.iterations === SEED_EXPERIMENT_ITERATIONS ? '' : `, projected from ${seed.iterations}`;
    out.push({ name: `seed experiment (1,500 iterations) wall time${from}`, target: '< 180 s', measured: `${fmt(projected / 1000, 1)} s`, met: projected < 180_000 });
    if (cpu) out.push({ name: `seed experiment on an idle machine at best (CPU time / ${cores} cores${from})`, target: '< 180 s', measured: `${fmt(idle / 1000, 1)} s`, met: idle < 180_000 });
  }
  return out;
}
