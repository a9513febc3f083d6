// `npm run bench`: the engine's speed on this machine's adapter, side by side with TensorFlow.js
// (WebGPU backend on the same adapter, and its CPU backend for training) in the same run:
//   1. matmul GFLOP/s per kernel strategy, the engine's choice, and ours / tf.matMul;
//   2. training iterations/s and samples/s for every preset and the two benchmark GANs, with
//      metrics read back every 50 iterations and every iteration, ours / tfjs per row;
//   3. what an iteration costs (dispatches, submits, readback, memory, shader warm-up);
//   4. the whole seed experiment's wall time (skipped with --quick);
//   5. with --profile, each step of an iteration timed alone.
// Prints markdown tables and writes every figure to bench/results/<adapter>-<date>.json.

import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { exitWithUsage, formatError } from '../src/cli/common.ts';
import { loadMnist } from '../src/data/mnist-node.ts';
import { setMatmulChoices } from '../src/kernels/autotune.ts';
import { fileStamp, fmt, gitCommit, loadAverage, ratio, slug, writeResults } from './common.ts';
import { allConfigs, batchSizes, large, seedSized } from './configs.ts';
import { benchMatmul, tuneMatmul, type MatmulResult } from './matmul.ts';
import { openBenchGpu } from './tfjs.ts';
import { benchSeedExperiment, benchTraining, printProfile, profileIteration, trainingRows, type ProfileResult, type SeedExperimentResult, type TrainResult } from './train.ts';

const SECTIONS = ['matmul', 'train', 'seed', 'profile'] as const;
type Section = (typeof SECTIONS)[number];

const USAGE = `usage: npm run bench -- [--quick] [--filter TEXT] [--profile] [--sections LIST] [--skip-tfjs] [--skip-cpu] [--retune] [--seed-iterations N]
  --quick              a subset in about a minute on an idle machine: two square matmuls and the
                       seed-sized GAN's products, the seed-sized GAN at batch 100; no seed experiment
  --filter TEXT        only rows whose label contains TEXT (matmul: shape or config, e.g. 1024, seed;
                       training: 'seed-sized b100', 'large', 'mnist b64'; seed experiment: 'seed')
  --profile            also time each step of an iteration alone (seed-sized, large, seed)
  --sections LIST      comma-separated, from ${SECTIONS.join(', ')} (default all but profile, which --profile adds)
  --skip-tfjs          the engine alone
  --skip-cpu           no tfjs CPU-backend training rows (they take minutes)
  --retune             re-measure the matmul strategy choice instead of reading the stored one
  --seed-iterations N  iterations of the seed experiment (default 1500, its length)`;

interface Targets {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        filter: { type: 'string' },
        profile: { type: 'boolean', default: false },
        sections: { type: 'string' },
        'skip-tfjs': { type: 'boolean', default: false },
        'skip-cpu': { type: 'boolean', default: false },
        retune: { type: 'boolean', default: false },
        'seed-iterations': { type: 'string', default: '1500' },
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
  const sections = new Set<Section>();
  for (const s of values.sections?.split(',') ?? ['matmul', 'train', 'seed']) {
    if (!SECTIONS.includes(s as Section)) return exitWithUsage(`unknown section '${s}'`, USAGE);
    sections.add(s as Section);
  }
  if (values.profile) sections.add('profile');
  if (values.quick) sections.delete('seed');
  const seedIterations = Number(values['seed-iterations']);
  if (!Number.isInteger(seedIterations) || seedIterations < 1) return exitWithUsage(`--seed-iterations must be a positive integer`, USAGE);
  const quick = values.quick;
  const filter = values.filter;
  const useTfjs = !values['skip-tfjs'];
  const started = new Date();
  const loadAtStart = loadAverage();

  const { ctx, tfjs, gpu } = await openBenchGpu({ tfjs: useTfjs });
  try {
    console.log(`adapter: ${ctx.adapterLine}`);
    if (tfjs) console.log(`tfjs adapter: ${tfjs.adapterLine} — ${tfjs.sameAdapter ? 'the same adapter' : 'A DIFFERENT ADAPTER: the ratios compare different hardware'} (one Dawn instance, a device each)`);
    console.log(`machine: ${os.cpus().length} cores, load average ${loadAtStart} at start; commit ${gitCommit() ?? 'unknown'}`);
    const choices = await tuneMatmul(ctx, values.retune);

    let matmul: MatmulResult[] = [];
    if (sections.has('matmul')) matmul = await benchMatmul(ctx, { quick, filter, tfjs: Boolean(tfjs), textbook: false });

    const needMnist = sections.has('train') || sections.has('seed') || sections.has('profile');
    const mnist = needMnist ? await loadMnist() : null;
    const openContext = async () => {
      const fresh = await gpu.open();
      setMatmulChoices(fresh, choices);
      return fresh;
    };

    let training: TrainResult[] = [];
    if (sections.has('train')) {
      const configs = quick ? [seedSized()] : allConfigs();
      training = await benchTraining(trainingRows(configs, (c) => batchSizes(c, quick)), {
        quick,
        filter,
        tfjs,
        tfjsCpu: Boolean(tfjs) && !values['skip-cpu'],
        openContext,
        mnist: mnist!,
      });
    }

    let seed: SeedExperimentResult | null = null;
    if (sections.has('seed') && (!filter || 'seed experiment'.includes(filter))) {
      const fresh = await openContext();
      try {
        seed = await benchSeedExperiment(fresh, mnist!, seedIterations);
      } finally {
        await fresh.destroy();
      }
    }

    const profiles: ProfileResult[] = [];
    if (sections.has('profile')) {
      const configs = quick ? [seedSized()] : [seedSized(), large(), allConfigs().find((c) => c.preset === 'seed')!];
      for (const config of configs.filter((c) => !filter || `profile ${c.preset}`.includes(filter))) {
        const fresh = await openContext();
        try {
          const p = await profileIteration(fresh, config, mnist!, quick);
          printProfile(p, fresh.features.has('timestamp-query') ? 'GPU timestamps' : 'wall clock');
          profiles.push(p);
        } finally {
          await fresh.destroy();
        }
      }
    }

    const targets = checkTargets(matmul, training, seed, os.cpus().length);
    if (targets.length) {
      console.log(`\nTargets (ratios within this run; load average ${loadAverage()} at the end)\n`);
      console.log('| target | goal | measured | met |\n|---|---|---|---|');
      for (const t of targets) console.log(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met === null ? '-' : t.met ? 'yes' : 'no'} |`);
    }

    const file = writeResults(`${slug(ctx.adapterLine)}-${fileStamp(started)}.json`, {
      adapter: { line: ctx.adapterLine, ...ctx.adapter, features: [...ctx.features].sort() },
      tfjsAdapter: tfjs ? { line: tfjs.adapterLine, sameAdapter: tfjs.sameAdapter, version: tf.version } : null,
      commit: gitCommit(),
      started: started.toISOString(),
      finished: new Date().toISOString(),
      config: {
        quick,
        filter: filter ?? null,
        sections: [...sections],
        tfjs: Boolean(tfjs),
        tfjsCpu: Boolean(tfjs) && !values['skip-cpu'],
        seedIterations,
        node: process.version,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? null,
        loadAverage: { start: loadAtStart, end: loadAverage() },
      },
      matmulChoices: choices,
      matmul,
      training,
      seedExperiment: seed,
      profiles,
      targets,
    });
    console.log(`\nwrote ${file}`);
  } finally {
    await ctx.destroy();
  }
  return 0;
}

/**
 * The speed targets this benchmark settles, where this run measured what they need: each by
 * wall clock in this run, and by CPU time (the process's, adapter threads included), which
 * does not depend on what else the machine runs; `cores` turns CPU time into the best an idle
 * machine could do.
 */
function checkTargets(matmul: MatmulResult[], training: TrainResult[], seed: SeedExperimentResult | null, cores: number): Targets[] {
  const out: Targets[] = [];
  const train = (label: string, goal: number) => {
    const r = training.find((t) => t.label === label);
    if (!r?.tfjs) return;
    const [ours, theirs] = [r.ours.pipelined, r.tfjs.pipelined];
    out.push({ name: `${label} training vs tfjs-webgpu (it/s)`, target: `>= ${goal}x`, measured: `${ratio(ours.itPerSec, theirs.itPerSec)} (${fmt(ours.itPerSec)} vs ${fmt(theirs.itPerSec)} it/s)`, met: ours.itPerSec / theirs.itPerSec >= goal });
    out.push({
      name: `${label} training vs tfjs-webgpu (CPU time per iteration)`,
      target: `>= ${goal}x`,
      measured: `${ratio(theirs.cpuMsPerIteration, ours.cpuMsPerIteration)} (${fmt(ours.cpuMsPerIteration, 1)} vs ${fmt(theirs.cpuMsPerIteration, 1)} CPU-ms)`,
      met: theirs.cpuMsPerIteration / ours.cpuMsPerIteration >= goal,
    });
  };
  train('seed-sized b100', 5);
  train('large b512', 3);
  const m = matmul.find((r) => r.label === 'A·B 1024x1024x1024');
  if (m) {
    const device = m.gflops[m.engineUses];
    out.push({ name: '1024^3 matmul GFLOP/s (engine choice, device time)', target: '>= 15', measured: fmt(device), met: device >= 15 });
    if (m.wall) {
      const w = m.wall;
      const ceiling = w.oursPerCpuSecond * cores;
      out.push({ name: `1024^3 matmul GFLOP/s on an idle machine at best (GFLOP per CPU-second x ${cores} cores)`, target: '>= 15', measured: fmt(ceiling), met: ceiling >= 15 });
      out.push({ name: '1024^3 matmul vs tf.matMul (wall)', target: '>= 3x', measured: `${ratio(w.ours, w.tfjs)} (${fmt(w.ours)} vs ${fmt(w.tfjs)} GFLOP/s)`, met: w.ours / w.tfjs >= 3 });
      out.push({ name: '1024^3 matmul vs tf.matMul (per CPU-second)', target: '>= 3x', measured: `${ratio(w.oursPerCpuSecond, w.tfjsPerCpuSecond)} (${fmt(w.oursPerCpuSecond)} vs ${fmt(w.tfjsPerCpuSecond)})`, met: w.oursPerCpuSecond / w.tfjsPerCpuSecond >= 3 });
    }
  }
  if (seed) {
    const scale = 1500 / seed.iterations;
    const setup = seed.wallMs - seed.runMs;
    const projected = seed.runMs * scale + setup;
    const idle = (seed.runCpuMs * scale) / cores + setup;
    const from = seed.iterations === 1500 ? '' : `, projected from ${seed.iterations}`;
    out.push({ name: `seed experiment (1,500 iterations) wall time${from}`, target: '< 180 s', measured: `${fmt(projected / 1000, 1)} s`, met: projected < 180_000 });
    out.push({ name: `seed experiment on an idle machine at best (CPU time / ${cores} cores${from})`, target: '< 180 s', measured: `${fmt(idle / 1000, 1)} s`, met: idle < 180_000 });
  }
  return out;
}

process.exitCode = await main().catch((e) => {
  console.error(formatError(e));
  return 1;
});
