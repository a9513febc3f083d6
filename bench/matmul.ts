// `npm run bench:matmul`: GFLOP/s of both matmul strategies (and of the register strategy's
// kernel without subgroups) and of a textbook 16 x 16 tiled kernel, measured side by side in one
// run, on square sizes and on the GAN's shapes in the three forms backprop uses; prints the ratio
// to the textbook kernel per row and the strategy the engine selects. Writes the figures as JSON
// under bench/results/ (not committed).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exitWithUsage, formatError } from '../src/cli/common.ts';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../src/gpu/context.ts';
import { openNodeContext } from '../src/gpu/node.ts';
import { defineShader } from '../src/gpu/shader.ts';
import { autotuneMatmul, heuristicMatmulStrategy, matmulStrategyFor, type TuningStore } from '../src/kernels/autotune.ts';
import { matmul, MATMUL_STRATEGIES, type MatmulOptions, type MatmulShape, type MatmulStrategy } from '../src/kernels/matmul.ts';
import { createTensor, upload, type Tensor } from '../src/tensor/tensor.ts';
import { GpuTimer, gflops, TIMING_DAWN_OPTIONS, type Timing } from './timing.ts';
import textbookSource from './textbook_matmul.wgsl?raw';

const USAGE = `usage: npm run bench:matmul -- [--quick] [--filter TEXT] [--retune]
  --quick          fewer shapes (no 2048^3) and shorter timing
  --filter TEXT    only rows whose label contains TEXT (e.g. 1024, "A·Bᵀ", 100x784)
  --retune         re-measure the strategy choice instead of reading the stored one`;

const TEXTBOOK: KernelSpec = {
  shader: defineShader('bench/textbook_matmul.wgsl', textbookSource),
  entry: 'main',
  bindings: ['read', 'read', 'write', 'uniform'],
};

const FORMS = [
  { name: 'A·B', transA: false, transB: false },
  { name: 'A·Bᵀ', transA: false, transB: true },
  { name: 'Aᵀ·B', transA: true, transB: false },
] as const;

interface Row {
  label: string;
  shape: MatmulShape;
}

function rows(quick: boolean): Row[] {
  const out: Row[] = [];
  for (const s of quick ? [256, 512, 1024] : [256, 512, 1024, 2048]) {
    out.push({ label: `A·B ${s}x${s}x${s}`, shape: { m: s, k: s, n: s } });
  }
  // M x K x N of the seed experiment's layers (batch 100 or 128, fake+real batches of 1000 rows
  // in some passes), forward and both gradients.
  const gan: [number, number, number][] = quick
    ? [[100, 100, 784], [100, 784, 100], [1000, 784, 100]]
    : [[100, 100, 784], [100, 784, 100], [1000, 784, 100], [128, 784, 1024], [128, 1024, 784], [100, 256, 512], [1000, 100, 1]];
  for (const [m, k, n] of gan) {
    for (const f of FORMS) out.push({ label: `${f.name} ${m}x${k}x${n}`, shape: { m, k, n, transA: f.transA, transB: f.transB } });
  }
  return out;
}

/** A JSON file store for the autotuned choices (Node only; the engine takes any TuningStore). */
function fileStore(path: string): TuningStore {
  const read = (): Record<string, string> => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  };
  return {
    getItem: (key) => read()[key] ?? null,
    setItem: (key, value) => {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, JSON.stringify({ ...read(), [key]: value }, null, 2));
    },
  };
}

/** The 1-minute load average: how much other work shared the machine (0 where unknown). */
function loadAverage(): string {
  return os.loadavg()[0].toFixed(2);
}

function operands(ctx: GpuContext, shape: MatmulShape): [Tensor, Tensor, Tensor] {
  const { m, n, k } = shape;
  const a = createTensor(ctx, shape.transA ? [k, m] : [m, k], 'f32', 'a');
  const b = createTensor(ctx, shape.transB ? [n, k] : [k, n], 'f32', 'b');
  const c = createTensor(ctx, [m, n], 'f32', 'c');
  // Values in [-1, 1) keep every product and sum normal (no denormal slow paths on a CPU).
  for (const t of [a, b]) upload(ctx, t, Float32Array.from({ length: t.size }, (_, i) => ((i * 2654435761) % 1000) / 500 - 1));
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

/** Times one dispatch; a dispatch that takes over a second is timed once, not in batches. */
async function timeDispatch(timer: GpuTimer, d: Dispatch, quick: boolean): Promise<Timing> {
  const once = await timer.time([d], { repsPerBatch: 1, batches: 1, warmupBatches: 1 });
  if (once.medianMs > 1000) return once;
  return timer.time([d], { batches: quick ? 5 : 9, targetBatchMs: quick ? 40 : 80 });
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        filter: { type: 'string' },
        retune: { type: 'boolean', default: false },
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
  const selected = rows(values.quick).filter((r) => !values.filter || r.label.includes(values.filter));
  if (!selected.length) return exitWithUsage(`no row matches --filter '${values.filter}'`, USAGE);

  const ctx = await openNodeContext({ dawnOptions: TIMING_DAWN_OPTIONS });
  const timer = new GpuTimer(ctx);
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  try {
    console.log(`adapter: ${ctx.adapterLine}`);
    console.log(`timing: ${timer.method === 'timestamp' ? 'GPU timestamps (unquantized)' : 'wall clock over one submit'}`);
    console.log(`strategy before tuning: ${heuristicMatmulStrategy(ctx)}`);
    const tuneStart = performance.now();
    const store = fileStore(join(root, 'node_modules/.cache/webgpu-gan/matmul-tuning.json'));
    const choices = await autotuneMatmul(ctx, undefined, { store, force: values.retune });
    const how = choices.every((c) => c.source === 'stored') ? 'read from node_modules/.cache/webgpu-gan' : `tuned in ${((performance.now() - tuneStart) / 1000).toFixed(1)} s`;
    console.log(`autotuned (${how}): ${choices.map((c) => `${c.shapeClass}=${c.strategy}`).join(' ')}\n`);

    // Both strategies, and the register strategy's kernel without subgroups where it differs.
    const kernels: { name: string; options: MatmulOptions }[] = MATMUL_STRATEGIES.map((strategy) => ({ name: strategy, options: { strategy } }));
    if (ctx.features.has('subgroups')) kernels.splice(1, 0, { name: 'register plain', options: { strategy: 'register', subgroups: false } });
    console.log(`GFLOP/s of each kernel's fastest batch; load average at start ${loadAverage()}\n`);
    const header = ['shape (MxKxN)', 'textbook GFLOP/s', ...kernels.flatMap((k) => [`${k.name} GFLOP/s`, `${k.name} / textbook`]), 'engine uses'];
    console.log(`| ${header.join(' | ')} |`);
    console.log(`|${header.map(() => '---').join('|')}|`);
    const results = [];
    for (const row of selected) {
      const { m, n, k } = row.shape;
      const flops = 2 * m * n * k;
      const [a, b, c] = operands(ctx, row.shape);
      // The table shows each kernel's fastest batch: on a machine shared with other work the
      // slowest batches measure the neighbours. The JSON keeps the medians too.
      const figures: Record<string, number> = {};
      const medians: Record<string, number> = {};
      const record = (name: string, t: Timing) => {
        figures[name] = gflops(flops, t.minMs);
        medians[name] = gflops(flops, t.medianMs);
      };
      record('textbook', await timeDispatch(timer, textbook(ctx, a, b, c, row.shape), values.quick));
      for (const k of kernels) {
        const d = matmul(ctx, a, b, c, { ...k.options, transA: row.shape.transA, transB: row.shape.transB });
        record(k.name, await timeDispatch(timer, d, values.quick));
      }
      await ctx.flush();
      for (const t of [a, b, c]) t.buffer.destroy();
      const uses: MatmulStrategy = matmulStrategyFor(ctx, row.shape);
      const cells = [
        row.label,
        figures.textbook.toFixed(2),
        ...kernels.flatMap((k) => [figures[k.name].toFixed(2), `${(figures[k.name] / figures.textbook).toFixed(1)}x`]),
        uses,
      ];
      console.log(`| ${cells.join(' | ')} |`);
      results.push({ label: row.label, shape: row.shape, gflops: figures, medianGflops: medians, uses });
    }
    const dir = join(root, 'bench/results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `matmul-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ adapter: ctx.adapterLine, timing: timer.method, loadAverage: loadAverage(), quick: values.quick, choices, results }, null, 2));
    console.log(`\nwrote ${file}`);
  } finally {
    timer.destroy();
    await ctx.destroy();
  }
  return 0;
}

process.exitCode = await main().catch((e) => {
  console.error(formatError(e));
  return 1;
});
