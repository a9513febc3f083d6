// Matmul throughput: GFLOP/s of every kernel strategy (and of the register strategy's kernel
// without subgroups) on square sizes and on every product the presets and the benchmark GANs
// run per iteration, each in the form it runs in (forward A·B, weight gradients Aᵀ·B, deltas
// A·Bᵀ), with the strategy the engine selects. Kernels are timed on the device (timestamp
// queries where the adapter has them); against tf.matMul both sides are timed the same way,
// wall clock over back-to-back calls ending in one wait, in alternating rounds.
//
// Platform-free: `npm run bench` and the page run it as their first section (with tfjs);
// `npm run bench:matmul` (bench/matmul.ts) runs it alone, with a textbook 16 x 16 tiled
// kernel as a baseline column.

import * as tf from '@tensorflow/tfjs';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../src/gpu/context.ts';
import { defineShader } from '../src/gpu/shader.ts';
import { autotuneMatmul, defaultTuningShapes, heuristicMatmulStrategy, matmulShapeClass, matmulStrategyFor, tuningStoreKey, type MatmulChoice, type TuningStore } from '../src/kernels/autotune.ts';
import { DEFAULT_TILED_SHAPE, matmul, MATMUL_STRATEGIES, TILED_SHAPES, tiledShapeName, tiledShapeProblem, type MatmulOptions, type MatmulShape, type MatmulStrategy } from '../src/kernels/matmul.ts';
import { toF16 } from '../src/kernels/half.ts';
import { createTensor, download, upload, type Tensor } from '../src/tensor/tensor.ts';
import { fmt, loadAverage, matchesFilter, progress, ratio, say, Table } from './common.ts';
import { matmulShapesOf, type BenchSubset } from './configs.ts';
import { hasCpuClock } from './platform.ts';
import { hostData, timeDispatch, versusTfjs, type WallComparison } from './side-by-side.ts';
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

/** The rows: squares (all three forms up to 1024 where the subset asks), then the configs' products, deduplicated. */
export function matmulRows(subset: BenchSubset): MatmulRow[] {
  const rows = new Map<string, MatmulRow>();
  const add = (shape: MatmulShape, use?: string) => {
    const label = `${formName(shape)} ${shape.m}x${shape.k}x${shape.n}`;
    const row = rows.get(label) ?? { label, shape, uses: [] };
    if (use) row.uses.push(use);
    rows.set(label, row);
  };
  for (const s of subset.squares) {
    const forms = !subset.squareForms || s > 1024 ? [{}] : [{}, { transB: true }, { transA: true }];
    for (const f of forms) add({ m: s, k: s, n: s, ...f });
  }
  for (const config of subset.productsOf) for (const u of matmulShapesOf(config)) add(u.shape, `${config.preset}: ${u.role}`);
  return [...rows.values()];
}

/** The presets a row's uses name, for the table (`seed, mnist`). */
function usedBy(row: MatmulRow): string {
  return [...new Set(row.uses.map((u) => u.split(':')[0]))].join(', ') || 'square';
}

/** Whether `row` passes the row filter (its label or the configs that use it). */
export function matmulRowMatches(row: MatmulRow, filter: string | undefined): boolean {
  return matchesFilter(`${row.label} ${usedBy(row)}`, filter);
}

/** Where the autotuned choices persist, and how to name that place. */
export interface TuningPlace {
  store: TuningStore;
  name: string;
}

/**
 * How a run gets its matmul choices: measured again; read from the store, measuring the classes
 * it lacks; or read from the store, the heuristic for the classes it lacks (no measuring: where
 * tuning takes minutes, as on a software adapter in a browser).
 */
export type TuningMode = 'retune' | 'stored-or-tune' | 'stored-or-heuristic';

/** The shape classes `store` holds choices for on this adapter (the engine checks each as it reads it). */
function storedClasses(ctx: GpuContext, store: TuningStore): Set<string> {
  try {
    return new Set(Object.keys(JSON.parse(store.getItem(tuningStoreKey(ctx)) ?? '{}') as object));
  } catch {
    return new Set();
  }
}

/** Autotunes (or reads the stored choice) and says which. */
export async function tuneMatmul(ctx: GpuContext, place: TuningPlace, mode: TuningMode): Promise<MatmulChoice[]> {
  const heuristic = heuristicMatmulStrategy(ctx);
  say(`matmul strategy before tuning: ${heuristic}`);
  let shapes = defaultTuningShapes();
  if (mode === 'stored-or-heuristic') {
    const stored = storedClasses(ctx, place.store);
    shapes = shapes.filter((s) => stored.has(matmulShapeClass(s)));
    if (!shapes.length) {
      say(`not tuned: ${heuristic} everywhere (no choice stored in ${place.name}, and tuning was not asked for)`);
      return [];
    }
  }
  progress(mode === 'stored-or-heuristic' ? 'reading the stored matmul choices' : 'autotuning the matmul strategy (or reading the stored choice)');
  const start = performance.now();
  const choices = await autotuneMatmul(ctx, shapes, { store: place.store, force: mode === 'retune' });
  const how = choices.every((c) => c.source === 'stored') ? `read from ${place.name}` : `tuned in ${((performance.now() - start) / 1000).toFixed(1)} s`;
  say(`autotuned (${how}): ${choices.map((c) => `${c.shapeClass}=${c.strategy}`).join(' ')}`);
  return choices;
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

export interface MatmulResult {
  label: string;
  shape: MatmulShape;
  uses: string[];
  /** Device-time GFLOP/s per kernel: median and fastest batch. */
  gflops: Record<string, number>;
  bestGflops: Record<string, number>;
  engineUses: MatmulStrategy;
  /** The engine's choice against tf.matMul, wall clock (side-by-side.ts). */
  wall?: WallComparison;
  /** On GPU adapters: every tiled shape that fits the adapter (benchTiledShapes). */
  tiledShapes?: TiledShapeResult[];
}

export interface TiledShapeResult {
  name: string;
  gflops: number;
  bestGflops: number;
  /** Whether C has the default shape's bits (every shape sums each output's k in one chain in order). */
  sameBits: boolean;
}

export interface MatmulBenchOptions {
  /** Which rows, and quick (shorter) timing or not. */
  subset: BenchSubset;
  filter?: string;
  /** Compare with tf.matMul (tfjs's WebGPU backend must be active). */
  tfjs: boolean;
  /** Add the textbook kernel as a baseline column. */
  textbook: boolean;
}

/** Runs the matmul rows, printing a table row as each finishes. */
export async function benchMatmul(ctx: GpuContext, options: MatmulBenchOptions): Promise<MatmulResult[]> {
  const rows = matmulRows(options.subset).filter((r) => matmulRowMatches(r, options.filter));
  const quick = options.subset.quick;
  const cpu = hasCpuClock();
  if (!rows.length) return [];
  const timer = new GpuTimer(ctx);
  const kernels: { name: string; options: MatmulOptions }[] = MATMUL_STRATEGIES.map((strategy) => ({ name: strategy, options: { strategy } }));
  if (ctx.features.has('subgroups')) kernels.splice(1, 0, { name: 'register plain', options: { strategy: 'register', subgroups: false } });
  // f16 operands (an option, not what training runs): the engine's strategy on the square rows.
  const F16 = 'engine, f16 operands';
  const names = [...(options.textbook ? ['textbook'] : []), ...kernels.map((k) => k.name), F16];
  say(`\nGFLOP/s per kernel: ${timer.method === 'timestamp' ? 'GPU timestamps' : 'wall clock over one submit'}, median batch` +
    (options.tfjs ? '; ours vs tf.matMul: wall clock, median of alternating rounds' : '') +
    (options.tfjs && cpu ? '; per CPU-s: GFLOP per CPU-second of the whole process (adapter threads included), which other load on the machine does not change' : '') +
    `; load average ${loadAverage()}\n`);
  const header = ['shape (MxKxN)', 'used by', ...names.map((n) => `${n}`), 'engine uses'];
  if (options.tfjs) header.push('ours (wall)', 'tf.matMul (wall)', 'ours / tfjs');
  if (options.tfjs && cpu) header.push('per CPU-s: ours', 'tfjs', 'ours / tfjs');
  const table = new Table('matmul', header);
  const results: MatmulResult[] = [];
  try {
    for (const row of rows) {
      progress(`matmul ${row.label}`);
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
      if (options.textbook) record('textbook', await timeDispatch(timer, textbook(ctx, a, b, c, row.shape), quick));
      for (const kernel of kernels) {
        const d = matmul(ctx, a, b, c, { ...kernel.options, transA: row.shape.transA, transB: row.shape.transB });
        record(kernel.name, await timeDispatch(timer, d, quick));
      }
      const engineUses = matmulStrategyFor(ctx, row.shape);
      if (!row.uses.length) {
        const [a16, b16] = [a, b].map((t) => createTensor(ctx, t.shape, 'f16', `${t.label} as f16`));
        ctx.run([toF16(ctx, a, a16), toF16(ctx, b, b16)]);
        record(F16, await timeDispatch(timer, matmul(ctx, a16, b16, c, { transA: row.shape.transA, transB: row.shape.transB }), quick));
        for (const t of [a16, b16]) t.buffer.destroy();
      }
      const result: MatmulResult = { label: row.label, shape: row.shape, uses: row.uses, gflops: gf, bestGflops: best, engineUses };
      if (!ctx.adapter.isCpu) result.tiledShapes = await benchTiledShapes(ctx, timer, a, b, c, row.shape, quick);
      if (options.tfjs) {
        const ours = matmul(ctx, a, b, c, { transA: row.shape.transA, transB: row.shape.transB });
        result.wall = await matmulVersusTfjs(ctx, ours, row.shape, msPer[engineUses], quick);
      }
      await ctx.flush();
      for (const t of [a, b, c]) t.buffer.destroy();
      const cells = [row.label, usedBy(row), ...names.map((nm) => fmt(gf[nm])), engineUses];
      if (result.wall) {
        const w = result.wall;
        cells.push(fmt(w.ours), fmt(w.tfjs), ratio(w.ours, w.tfjs));
        if (cpu) cells.push(fmt(w.oursPerCpuSecond), fmt(w.tfjsPerCpuSecond), ratio(w.oursPerCpuSecond, w.tfjsPerCpuSecond));
      }
      table.row(cells);
      results.push(result);
    }
  } finally {
    timer.destroy();
  }
  const swept = results.filter((r) => r.tiledShapes?.length);
  if (swept.length) {
    const shapes = swept[0].tiledShapes!.map((t) => t.name);
    say(`\nThe tiled kernel's shapes (block of C / per invocation / slab depth), GFLOP/s by device time, median batch; * = C's bits differ from ${tiledShapeName(DEFAULT_TILED_SHAPE)}'s\n`);
    const table = new Table('tiled shapes', ['shape (MxKxN)', ...shapes]);
    for (const r of swept) table.row([r.label, ...shapes.map((name) => {
      const t = r.tiledShapes!.find((x) => x.name === name);
      return t ? `${fmt(t.gflops)}${t.sameBits ? '' : '*'}` : '-';
    })]);
  }
  return results;
}

/**
 * Times every tiled shape (gemm.ts's TILED_SHAPES) that fits the adapter on one product, the
 * default first, and checks each one's C against the default's bits.
 */
async function benchTiledShapes(ctx: GpuContext, timer: GpuTimer, a: Tensor, b: Tensor, c: Tensor, shape: MatmulShape, quick: boolean): Promise<TiledShapeResult[]> {
  const flops = 2 * shape.m * shape.n * shape.k;
  const out: TiledShapeResult[] = [];
  let reference: Float32Array | null = null;
  for (const tiled of TILED_SHAPES) {
    if (tiledShapeProblem(ctx, tiled)) continue;
    const name = tiledShapeName(tiled);
    progress(`matmul ${formName(shape)} ${shape.m}x${shape.k}x${shape.n} tiled ${name}`);
    const d = matmul(ctx, a, b, c, { strategy: 'tiled', tiled, transA: shape.transA, transB: shape.transB });
    const t = await timeDispatch(timer, d, quick);
    ctx.run([d]);
    const got = await download(ctx, c);
    reference ??= got;
    out.push({ name, gflops: gflops(flops, t.medianMs), bestGflops: gflops(flops, t.minMs), sameBits: sameBits(got, reference) });
  }
  return out;
}

function sameBits(x: Float32Array, y: Float32Array): boolean {
  const [u, v] = [new Uint32Array(x.buffer, x.byteOffset, x.length), new Uint32Array(y.buffer, y.byteOffset, y.length)];
  return u.length === v.length && u.every((w, i) => w === v[i]);
}

/** The engine's matmul and tf.matMul on the same operands, wall clock, in alternating rounds. */
async function matmulVersusTfjs(ctx: GpuContext, ours: Dispatch, shape: MatmulShape, oursDeviceMs: number, quick: boolean): Promise<WallComparison> {
  const shapes = operandShapes(shape);
  const ta = tf.tensor2d(hostData(shapes.a[0] * shapes.a[1]), shapes.a);
  const tb = tf.tensor2d(hostData(shapes.b[0] * shapes.b[1]), shapes.b);
  try {
    return await versusTfjs(ctx, ours, () => tf.matMul(ta, tb, shape.transA ?? false, shape.transB ?? false), 2 * shape.m * shape.n * shape.k, oursDeviceMs, quick);
  } finally {
    ta.dispose();
    tb.dispose();
  }
}
