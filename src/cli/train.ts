// `npm run train`: trains a preset (default mnist) and writes config.json, metrics.csv,
// samples.png and checkpoint.safetensors to the output directory. Ctrl-C saves and exits.

import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCheckpoint, restoreCheckpoint, saveCheckpoint, type CheckpointContents } from '../gan/checkpoint.ts';
import { validateConfig, type GanConfig } from '../gan/config.ts';
import { DEFAULT_PRESET, preset, PRESET_NAMES } from '../gan/presets.ts';
import { GanTrainer, TrainingDivergedError, type MetricsReport } from '../gan/trainer.ts';
import { loadMnist } from '../data/mnist-node.ts';
import { openNodeContext } from '../gpu/node.ts';
import { previewSamples } from '../viz/samples.ts';
import { exitWithUsage, formatError, parseCount, parsePositiveNumber, UsageError } from './common.ts';
import { readFileOrExplain, writeFileAtomic, writePng } from './files.ts';
import { Progress } from './progress.ts';

const USAGE = `usage: npm run train -- [options]
  --preset NAME           ${PRESET_NAMES.join(' | ')} (default ${DEFAULT_PRESET})
  --iters N               train until iteration N (default: the preset's count)
  --batch N               minibatch size
  --k N                   D updates (epochs, for seed) per iteration
  --lr X                  learning rate of both G and D
  --seed N                random seed (default 0)
  --log-every N           read metrics back every N iterations
  --checkpoint-every N    save a checkpoint every N iterations (default 10 metric windows)
  --out DIR               output directory (default runs/<preset>)
  --resume DIR            continue the run saved in DIR (its checkpoint and config)
  --backend OPT           Dawn option passed through, e.g. backend=vulkan (repeatable)
  -h, --help`;

const CSV_HEADER = 'iteration,d_loss,g_loss,d_real,d_fake,it_per_s\n';

interface Args {
  presetName: string;
  overrides: (config: GanConfig) => void;
  out?: string;
  resume?: string;
  checkpointEvery?: number;
  dawnOptions: string[];
}

function parse(argv: string[]): Args | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string' },
      iters: { type: 'string' },
      batch: { type: 'string' },
      k: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      'log-every': { type: 'string' },
      'checkpoint-every': { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'string' },
      backend: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (values.resume && values.preset) throw new UsageError('--resume continues the saved run: it cannot take --preset');
  if (values.resume && values.seed) throw new UsageError('--resume continues the saved run: it cannot change --seed');
  const presetName = values.preset ?? DEFAULT_PRESET;
  if (!PRESET_NAMES.includes(presetName as never)) throw new UsageError(`unknown preset '${presetName}' (expected one of ${PRESET_NAMES.join(', ')})`);
  // Parsed now, so a bad value fails before any GPU or file work.
  const iters = values.iters === undefined ? undefined : parseCount('--iters', values.iters, 0);
  const batch = values.batch === undefined ? undefined : parseCount('--batch', values.batch);
  const k = values.k === undefined ? undefined : parseCount('--k', values.k);
  const seed = values.seed === undefined ? undefined : parseCount('--seed', values.seed, 0);
  const logEvery = values['log-every'] === undefined ? undefined : parseCount('--log-every', values['log-every']);
  const lr = values.lr === undefined ? undefined : parsePositiveNumber('--lr', values.lr);
  const overrides = (config: GanConfig) => {
    if (iters !== undefined) config.iterations = iters;
    if (batch !== undefined) config.batch = batch;
    if (k !== undefined) config.k = k;
    if (seed !== undefined) config.seed = seed;
    if (logEvery !== undefined) config.logEvery = logEvery;
    if (lr !== undefined) {
      config.optimizerG = { ...config.optimizerG, lr };
      config.optimizerD = { ...config.optimizerD, lr };
    }
  };
  return {
    presetName,
    overrides,
    out: values.out,
    resume: values.resume,
    checkpointEvery: values['checkpoint-every'] === undefined ? undefined : parseCount('--checkpoint-every', values['checkpoint-every']),
    dawnOptions: values.backend ?? [],
  };
}

/** The run's config: the preset's or the checkpoint's, with the command line's overrides, validated. */
function resolveConfig(args: Args, resumed?: CheckpointContents): GanConfig {
  const config = resumed ? structuredClone(resumed.config) : preset(args.presetName);
  args.overrides(config);
  try {
    validateConfig(config);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return config;
}

function csvRow(m: MetricsReport): string {
  return `${m.iteration},${m.dLoss},${m.gLoss},${m.dReal},${m.dFake},${m.itPerSec.toFixed(2)}\n`;
}

/** Keeps the metrics rows a resumed run already has (up to its checkpoint), drops later ones. */
function prepareCsv(path: string, resumedAt: number | null): void {
  if (resumedAt === null || !existsSync(path)) {
    writeFileSync(path, CSV_HEADER);
    return;
  }
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line && Number(line.split(',')[0]) <= resumedAt);
  writeFileSync(path, CSV_HEADER + kept.map((l) => `${l}\n`).join(''));
}

async function main(argv: string[]): Promise<number> {
  let args: Args | 'help';
  try {
    args = parse(argv);
  } catch (e) {
    return exitWithUsage((e as Error).message, USAGE);
  }
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  let resumed: CheckpointContents | undefined;
  let config: GanConfig;
  try {
    if (args.resume) {
      const path = join(args.resume, 'checkpoint.safetensors');
      resumed = readCheckpoint(await readFileOrExplain(path, 'checkpoint'), path);
    }
    config = resolveConfig(args, resumed);
  } catch (e) {
    if (e instanceof UsageError) return exitWithUsage(e.message, USAGE);
    throw e;
  }
  const out = args.out ?? args.resume ?? join('runs', config.preset);
  const checkpointEvery = args.checkpointEvery ?? 10 * config.logEvery;
  const ctx = await openNodeContext({ dawnOptions: args.dawnOptions });
  let trainer: GanTrainer | null = null;
  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    process.stderr.write('\ninterrupted: finishing the iterations in flight and saving a checkpoint (Ctrl-C again to quit now)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    console.log(`adapter: ${ctx.adapterLine}`);
    console.log(`preset ${config.preset}: ${config.description}`);
    const mnist = config.data.kind === 'mnist' ? await loadMnist() : undefined;
    trainer = await GanTrainer.create(ctx, config, { mnist });
    const checkpointPath = join(out, 'checkpoint.safetensors');
    const resumedAt = resumed ? resumed.iteration : null;
    if (resumed) {
      await restoreCheckpoint(trainer, resumed);
      console.log(`resumed from ${args.resume} at iteration ${resumed.iteration}`);
    }
    await writeFileAtomic(join(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    const csvPath = join(out, 'metrics.csv');
    prepareCsv(csvPath, resumedAt);

    const save = async () => {
      await writeFileAtomic(checkpointPath, await saveCheckpoint(trainer!));
      await writePng(join(out, 'samples.png'), (await previewSamples(trainer!)).image);
    };

    const progress = new Progress(trainer.iteration, config.iterations);
    const started = performance.now();
    const startIteration = trainer.iteration;
    let diverged: TrainingDivergedError | null = null;
    while (trainer.iteration < config.iterations && !stopRequested) {
      const next = Math.min(config.iterations, (Math.floor(trainer.iteration / checkpointEvery) + 1) * checkpointEvery);
      try {
        await trainer.run(next - trainer.iteration, {
          shouldStop: () => stopRequested,
          onMetrics: (m) => {
            appendFileSync(csvPath, csvRow(m));
            progress.update(m);
          },
        });
      } catch (e) {
        if (!(e instanceof TrainingDivergedError)) throw e;
        diverged = e;
        break;
      }
      await save();
    }
    progress.finish();
    const seconds = (performance.now() - started) / 1000;
    const done = trainer.iteration - startIteration;
    if (diverged) {
      console.error(`error: ${diverged.message}`);
      console.error(existsSync(checkpointPath) ? `the last good checkpoint is kept in ${checkpointPath}` : 'no checkpoint was saved before the divergence');
      return 1;
    }
    if (trainer.iteration === startIteration) await save();
    console.log(
      `${stopRequested ? 'stopped' : 'trained'} ${done} iterations in ${seconds.toFixed(1)} s (${(done / seconds || 0).toFixed(1)} it/s); ` +
        `iteration ${trainer.iteration}/${config.iterations}; wrote ${out}/{config.json,metrics.csv,samples.png,checkpoint.safetensors}`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    trainer?.destroy();
    await ctx.destroy();
  }
}

process.exitCode = await main(process.argv.slice(2)).catch((e) => {
  console.error(`error: ${formatError(e)}`);
  return 1;
});
