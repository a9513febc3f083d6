// Matmul throughput: GFLOP/s of every kernel strategy (and of the register strategy's kernel
// without subgroups) on square sizes and on every product the presets and the benchmark GANs
// run per iteration, each in the form it runs in (forward A·B, weight gradients Aᵀ·B, deltas
// A·Bᵀ), with the strategy the engine selects. Kernels are timed on the device (timestamp
// queries where the adapter has them); against tf.matMul both sides are timed the same way,
// wall clock over back-to-back calls ending in one wait, in alternating rounds.
//
// `npm run bench` runs this as its first section (with tfjs); `npm run bench:matmul` runs it
// alone, with a textbook 16 x 16 tiled kernel as a baseline column.

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { exitWithUsage, formatError } from '../src/cli/common.ts';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../src/gpu/context.ts';
import { defineShader } from '../src/gpu/shader.ts';
import { autotuneMatmul, heuristicMatmulStrategy, matmulStrategyFor, type MatmulChoice } from '../src/kernels/autotune.ts';
import { matmul, MATMUL_STRATEGIES, type MatmulOptions, type MatmulShape, type MatmulStrategy } from '../src/kernels/matmul.ts';
import { createTensor, upload, type Tensor } from '../src/tensor/tensor.ts';
import { fileStamp, fileStore, fmt, gitCommit, loadAverage, measure, median, ratio, slug, Table, TUNING_FILE, writeResults, type Cost } from './common.ts';
import { allConfigs, matmulShapesOf } from './configs.ts';
import { awaitAfterIdle, openBenchGpu, timeTfjsOp } from './tfjs.ts';
import { GpuTimer, gflops, type Timing } from './timing.ts';
import textbookSource from './textbook_matmul.wgsl?raw';

const TEXTBOOK: KernelSpec = {
  shader: defineShader('bench/textbook_matmul.wgsl', textbookSource),
  entry: 'main',
  bindings: ['read', 'read', 'write', 'uniform'],
};

export function formName(shape: MatmulShape): string {
  return `${shape.transA ? 'Aᵀ' : 'A'}·${shape.transB ? 'Bᵀ' : 'B'}`;
}

export interface MatmulRow {
  /** `A·Bᵀ 100x784x100` (M x K x N). */
  label: string;
  shape: MatmulShape;
  /** Which configs run it, and as what (empty for the square sizes). */
  uses: string[];
}

/** The rows: squares (all three forms up to 1024), then every config's products, deduplicated. */
export function matmulRows(quick: boolean): MatmulRow[] {
  const rows = new Map<string, MatmulRow>();
  const add = (shape: MatmulShape, use?: string) => {
    const label = `${formName(shape)} ${shape.m}x${shape.k}x${shape.n}`;
    const row = rows.get(label) ?? { label, shape, uses: [] };
    if (use) row.uses.push(use);
    rows.set(label, row);
  };
  for (const s of quick ? [256, 1024] : [256, 512, 1024, 2048]) {
    const forms = quick || s > 1024 ? [{}] : [{}, { transB: true }, { transA: true }];
    for (const f of forms) add({ m: s, k: s, n: s, ...f });
  }
  const configs = allConfigs().filter((c) => !quick || c.preset === 'seed-sized');
  for (const config of configs) for (const u of matmulShapesOf(config)) add(u.shape, `${config.preset}: ${u.role}`);
  return [...rows.values()];
}

/** The presets a row's uses name, for the table (`seed, mnist`). */
function usedBy(row: MatmulRow): string {
  return [...new Set(row.uses.map((u) => u.split(':')[0]))].join(', ') || 'square';
}

/** Autotunes (or reads the stored choice) and says which. */
export async function tuneMatmul(ctx: GpuContext, retune: boolean): Promise<MatmulChoice[]> {
  console.log(`matmul strategy before tuning: ${heuristicMatmulStrategy(ctx)}`);
  const start = performance.now();
  const choices = await autotuneMatmul(ctx, undefined, { store: fileStore(TUNING_FILE), force: retune });
  const how = choices.every((c) => c.source === 'stored') ? 'read from node_modules/.cache/webgpu-gan' : `tuned in ${((performance.now() - start) / 1000).toFixed(1)} s`;
  console.log(`autotuned (${how}): ${choices.map((c) => `${c.shapeClass}=${c.strategy}`).join(' ')}`);
  return choices;
}

function hostData(size: number): Float32Array {
  // Values in [-1, 1) keep every product and sum normal (no denormal slow paths on a CPU).
  return Float32Array.from({ length: size }, (_, i) => ((i * 2654435761) % 1000) / 500 - 1);
}

function operandShapes(shape: MatmulShape): { a: [number, number]; b: [number, number] } {
  const { m, n, k } = shape;
  return { a: shape.transA ? [k, m] : [m, k], b: shape.transB ? [n, k] : [k, n] };
}

function operands(ctx: GpuContext, shape: MatmulShape): [Tensor, Tensor, Tensor] {
  const shapes = operandShapes(shape);
  const a = createTensor(ctx, shapes.a, 'f32', 'a');
  const b = createTensor(ctx, shapes.b, 'f32', 'b');
  const c = createTensor(ctx, [shape.m, shape.n], 'f32', 'c');
  for (const t of [a, b]) upload(ctx, t, hostData(t.size));
  return [a, b, c];
}

function textbook(ctx: GpuContext, a: Tensor, b: Tensor, c: Tensor, shape: MatmulShape): Dispatch {
  return ctx.dispatch(TEXTBOOK, {
    label: 'textbook matmul',
    constants: { TRANS_A: Number(shape.transA ?? false), TRANS_B: Number(shape.transB ?? false) },
    resources: [a.binding(), b.binding(), c.binding(), uniforms([['u32', shape.m], ['u32', shape.n], ['u32', shape.k]])],
    workgroups: [Math.ceil(shape.n / 16), Math.ceil(shape.m / 16), 1],
  });
}

/** Device time of one dispatch; one that takes over a second is timed once, not in batches. */
async function timeDispatch(timer: GpuTimer, d: Dispatch, quick: boolean): Promise<Timing> {
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

export interface MatmulResult {
  label: string;
  shape: MatmulShape;
  uses: string[];
  /** Device-time GFLOP/s per kernel: median and fastest batch. */
  gflops: Record<string, number>;
  bestGflops: Record<string, number>;
  engineUses: MatmulStrategy;
  /**
   * Wall-clock GFLOP/s of the engine's choice and of tf.matMul, medians of alternating rounds,
   * and GFLOP per CPU-second (every thread of the process: host and adapter workers alike).
   */
  wall?: {
    ours: number;
    tfjs: number;
    oursPerCpuSecond: number;
    tfjsPerCpuSecond: number;
    oursSamples: Cost[];
    tfjsSamples: Cost[];
    repsOurs: number;
    repsTfjs: number;
  };
}

export interface MatmulBenchOptions {
  quick: boolean;
  filter?: string;
  /** Compare with tf.matMul (tfjs's WebGPU backend must be active). */
  tfjs: boolean;
  /** Add the textbook kernel as a baseline column. */
  textbook: boolean;
}

/** Runs the matmul rows, printing a table row as each finishes. */
export async function benchMatmul(ctx: GpuContext, options: MatmulBenchOptions): Promise<MatmulResult[]> {
  const rows = matmulRows(options.quick).filter((r) => !options.filter || `${r.label} ${usedBy(r)}`.includes(options.filter));
  if (!rows.length) return [];
  const timer = new GpuTimer(ctx);
  const kernels: { name: string; options: MatmulOptions }[] = MATMUL_STRATEGIES.map((strategy) => ({ name: strategy, options: { strategy } }));
  if (ctx.features.has('subgroups')) kernels.splice(1, 0, { name: 'register plain', options: { strategy: 'register', subgroups: false } });
  const names = [...(options.textbook ? ['textbook'] : []), ...kernels.map((k) => k.name)];
  console.log(`\nGFLOP/s per kernel: ${timer.method === 'timestamp' ? 'GPU timestamps' : 'wall clock over one submit'}, median batch` +
    (options.tfjs ? '; ours vs tf.matMul: wall clock, median of alternating rounds; per CPU-s: GFLOP per CPU-second of the whole process (adapter threads included), which other load on the machine does not change' : '') +
    `; load average ${loadAverage()}\n`);
  const header = ['shape (MxKxN)', 'used by', ...names.map((n) => `${n}`), 'engine uses'];
  if (options.tfjs) header.push('ours (wall)', 'tf.matMul (wall)', 'ours / tfjs', 'per CPU-s: ours', 'tfjs', 'ours / tfjs');
  const table = new Table(header);
  const results: MatmulResult[] = [];
  try {
    for (const row of rows) {
      const { m, n, k } = row.shape;
      const flops = 2 * m * n * k;
      const [a, b, c] = operands(ctx, row.shape);
      const gf: Record<string, number> = {};
      const best: Record<string, number> = {};
      const msPer: Record<string, number> = {};
      const record = (name: string, t: Timing) => {
        gf[name] = gflops(flops, t.medianMs);
        best[name] = gflops(flops, t.minMs);
        msPer[name] = t.medianMs;
      };
      if (options.textbook) record('textbook', await timeDispatch(timer, textbook(ctx, a, b, c, row.shape), options.quick));
      for (const kernel of kernels) {
        const d = matmul(ctx, a, b, c, { ...kernel.options, transA: row.shape.transA, transB: row.shape.transB });
        record(kernel.name, await timeDispatch(timer, d, options.quick));
      }
      const engineUses = matmulStrategyFor(ctx, row.shape);
      const result: MatmulResult = { label: row.label, shape: row.shape, uses: row.uses, gflops: gf, bestGflops: best, engineUses };
      if (options.tfjs) {
        const ours = matmul(ctx, a, b, c, { transA: row.shape.transA, transB: row.shape.transB });
        result.wall = await versusTfjs(ctx, ours, row.shape, msPer[engineUses], options.quick);
      }
      await ctx.flush();
      for (const t of [a, b, c]) t.buffer.destroy();
      const cells = [row.label, usedBy(row), ...names.map((nm) => fmt(gf[nm])), engineUses];
      if (result.wall) {
        const w = result.wall;
        cells.push(fmt(w.ours), fmt(w.tfjs), ratio(w.ours, w.tfjs), fmt(w.oursPerCpuSecond), fmt(w.tfjsPerCpuSecond), ratio(w.oursPerCpuSecond, w.tfjsPerCpuSecond));
      }
      table.row(cells);
      results.push(result);
    }
  } finally {
    timer.destroy();
  }
  return results;
}

/** The engine's matmul and tf.matMul on the same operands, wall clock, in alternating rounds. */
async function versusTfjs(ctx: GpuContext, ours: Dispatch, shape: MatmulShape, oursDeviceMs: number, quick: boolean): Promise<NonNullable<MatmulResult['wall']>> {
  const flops = 2 * shape.m * shape.n * shape.k;
  const shapes = operandShapes(shape);
  const ta = tf.tensor2d(hostData(shapes.a[0] * shapes.a[1]), shapes.a);
  const tb = tf.tensor2d(hostData(shapes.b[0] * shapes.b[1]), shapes.b);
  const op = () => tf.matMul(ta, tb, shape.transA ?? false, shape.transB ?? false);
  try {
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
  } finally {
    ta.dispose();
    tb.dispose();
  }
}

const USAGE = `usage: npm run bench:matmul -- [--quick] [--filter TEXT] [--retune] [--tfjs]
  --quick          fewer shapes and shorter timing
  --filter TEXT    only rows whose label or configs contain TEXT (e.g. 1024, "A·Bᵀ", 100x784, seed)
  --retune         re-measure the strategy choice instead of reading the stored one
  --tfjs           add tf.matMul (tfjs's WebGPU backend on the same adapter) side by side`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        filter: { type: 'string' },
        retune: { type: 'boolean', default: false },
        tfjs: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return exitWithUsage((e as Error).message, USAGE);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!matmulRows(values.quick).some((r) => !values.filter || `${r.label} ${usedBy(r)}`.includes(values.filter))) {
    return exitWithUsage(`no row matches --filter '${values.filter}'`, USAGE);
  }
  const { ctx, tfjs } = await openBenchGpu({ tfjs: values.tfjs });
  try {
    console.log(`adapter: ${ctx.adapterLine}`);
    if (tfjs) console.log(`tfjs adapter: ${tfjs.adapterLine}${tfjs.sameAdapter ? ' (the same adapter)' : ' (A DIFFERENT ADAPTER)'}`);
    const choices = await tuneMatmul(ctx, values.retune);
    const results = await benchMatmul(ctx, { quick: values.quick, filter: values.filter, tfjs: values.tfjs, textbook: true });
    const file = writeResults(`matmul-${slug(ctx.adapterLine)}-${fileStamp()}.json`, {
      adapter: ctx.adapterLine,
      tfjsAdapter: tfjs?.adapterLine ?? null,
      commit: gitCommit(),
      loadAverage: loadAverage(),
      quick: values.quick,
      choices,
      results,
    });
    console.log(`\nwrote ${file}`);
  } finally {
    await ctx.destroy();
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main().catch((e) => {
    console.error(formatError(e));
    return 1;
  });
}
