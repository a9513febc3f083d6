// `npm run train`: trains a preset (default mnist) and writes config.json, metrics.csv,
// samples.png and checkpoint.safetensors to the output directory, and the run's record: sample
// frames in samples/, samples.gif and report.html (src/report/). Every flag and the output
// directory are checked before the GPU opens; a directory holding another run is not
// overwritten unless --force says so. SIGINT, SIGTERM and SIGHUP save a checkpoint and exit
// (130, 143, 129); a state gone non-finite is never saved.

import { appendFileSync, existsSync, readdirSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NonFiniteStateError, readCheckpoint, restoreCheckpoint, saveCheckpoint, type CheckpointContents } from '../gan/checkpoint.ts';
import { validateConfig, type GanConfig } from '../gan/config.ts';
import { DEFAULT_PRESET, preset, PRESET_NAMES } from '../gan/presets.ts';
import { updatesPerIteration } from '../gan/schedules.ts';
import { GanTrainer, TrainingDivergedError, type MetricsReport } from '../gan/trainer.ts';
import type { Dataset } from '../data/dataset.ts';
import { loadDataset } from '../data/dataset-node.ts';
import { loadHostData } from '../data/datasets-node.ts';
import { defaultPresetFor, presetForData } from '../gan/fit-data.ts';
import { ShapeError } from '../gpu/errors.ts';
import { openNodeContext } from '../gpu/node.ts';
import type { OptimizerSpec } from '../nn/optimizer.ts';
import { previewSamples } from '../viz/samples.ts';
import { exitWithUsage, formatError, parseCount, parseDawnOptions, parsePositiveNumber, UsageError } from './common.ts';
import { readFileOrExplain, removeStaleTempFiles, writeFileAtomic, writePng } from './files.ts';
import { Interrupts } from './interrupts.ts';
import { prepareOutputDirectory } from './paths.ts';
import { Progress } from './progress.ts';
import { FRAMES_DIR } from '../report/frame.ts';
import { RECORD_FILES, removeRecord, RunRecorder } from '../report/recorder-node.ts';

const USAGE = `usage: npm run train -- [options]
  --preset NAME           ${PRESET_NAMES.join(' | ')} (default ${DEFAULT_PRESET}; with --data: dcgan for images, ring8 for points)
  --data PATH             train on your own data: a .npy, a .csv of points, an IDX file or a folder of PNG/JPEG images
  --image-size N          resize (and centre-crop) a folder's images to N x N (default: their own size, which must agree)
  --channels 1|3          gray or RGB images (default: RGB if any image has colour)
  --iters N               train until iteration N (default: the preset's count)
  --batch N               minibatch size
  --k N                   D updates (epochs, for seed) per iteration
  --lr X                  learning rate of both G and D
  --lr-decay N            hold both nets' Adam rates through iteration N, then lower them
                          linearly to 0 at the run's last iteration (--iters or the preset's)
  --seed N                random seed (default 0)
  --log-every N           read metrics back every N iterations
  --checkpoint-every N    save a checkpoint every N iterations (default 10 metric windows)
  --out DIR               output directory (default runs/<preset>)
  --resume DIR            continue the run saved in DIR (its checkpoint and config)
  --force                 start a new run in an --out directory that holds another run, replacing it
  --no-report             keep no sample frames (samples/, samples.gif) and no report.html
  --backend OPT           Dawn option passed through, e.g. backend=vulkan (repeatable)
  -h, --help

The fixed-noise samples are kept every few metrics windows (50-100 frames a run; config.json
says how often) in samples/ and samples.gif, and report.html shows the run; all three are
rewritten at each checkpoint. Ctrl-C, SIGTERM and SIGHUP finish the iterations in flight, save a
checkpoint and exit with status 130, 143 and 129; --resume DIR goes on from there.`;

/**
 * The most iterations a run can reach: the GPU's iteration clock, which keys every random
 * draw, is a 32-bit counter, and after it wraps the noise would repeat.
 */
const MAX_ITERATIONS = 2 ** 32 - 1;

/** The most D updates per iteration: each is recorded into the program, so k costs build time and memory (1000 takes ~20 s on 2 cores). */
const MAX_K = 1000;

/** Files a run leaves in its directory: any of them means the directory holds a run. */
const RUN_FILES = ['config.json', 'metrics.csv', 'checkpoint.safetensors', 'samples.png', ...RECORD_FILES];

/** Files that belong to a run's checkpoint, removed when --force starts a new run in its place. */
const CHECKPOINT_FILES = ['checkpoint.safetensors', 'samples.png', 'eval.json'];

const CSV_HEADER = 'iteration,d_loss,g_loss,d_real,d_fake,it_per_s\n';

interface Args {
  presetName?: string;
  data?: string;
  imageSize?: number;
  channels?: 1 | 3;
  overrides: (config: GanConfig) => void;
  out?: string;
  resume?: string;
  checkpointEvery?: number;
  force: boolean;
  /** Keep the run's record: frames, samples.gif, report.html. */
  report: boolean;
  /** Flags that changed the preset's (or the checkpoint's) optimisation, for the preset line. */
  changed: string[];
  /** Every config flag given, as written ('--batch 300'), for messages about an invalid config. */
  given: string[];
  batch?: number;
  dawnOptions: string[];
}

function parse(argv: string[]): Args | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string' },
      data: { type: 'string' },
      'image-size': { type: 'string' },
      channels: { type: 'string' },
      iters: { type: 'string' },
      'lr-decay': { type: 'string' },
      batch: { type: 'string' },
      k: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      'log-every': { type: 'string' },
      'checkpoint-every': { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'string' },
      force: { type: 'boolean', default: false },
      'no-report': { type: 'boolean', default: false },
      backend: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (values.resume !== undefined && !values.resume.trim()) throw new UsageError("--resume takes a run directory, got ''");
  if (values.resume && values.preset) throw new UsageError('--resume continues the saved run: it cannot take --preset');
  if (values.resume && values.seed) throw new UsageError('--resume continues the saved run: it cannot change --seed');
  if (values.resume && values.data) throw new UsageError('--resume continues the saved run on its own data: it cannot take --data');
  const presetName = values.preset;
  if (presetName !== undefined && !PRESET_NAMES.includes(presetName as never)) throw new UsageError(`--preset: unknown preset '${presetName}' (expected one of ${PRESET_NAMES.join(', ')})`);
  if (values.data !== undefined && !values.data.trim()) throw new UsageError("--data takes a file or folder, got ''");
  if (values.data === undefined && (values['image-size'] !== undefined || values.channels !== undefined)) throw new UsageError('--image-size and --channels shape the images of --data; give --data too');
  const imageSize = values['image-size'] === undefined ? undefined : parseCount('--image-size', values['image-size'], 1, 4096);
  if (values.channels !== undefined && values.channels !== '1' && values.channels !== '3') throw new UsageError(`--channels must be 1 or 3, got '${values.channels}'`);
  const channels = values.channels === undefined ? undefined : (Number(values.channels) as 1 | 3);
  // Parsed now, so a bad value fails before any GPU or file work.
  const iters = values.iters === undefined ? undefined : parseCount('--iters', values.iters, 0, MAX_ITERATIONS, "the GPU's iteration clock, which keys every random draw, is 32-bit");
  const batch = values.batch === undefined ? undefined : parseCount('--batch', values.batch);
  const k = values.k === undefined ? undefined : parseCount('--k', values.k, 1, MAX_K, "each of the k updates is recorded into the iteration's program");
  const seed = values.seed === undefined ? undefined : parseCount('--seed', values.seed, 0);
  const logEvery = values['log-every'] === undefined ? undefined : parseCount('--log-every', values['log-every']);
  const lr = values.lr === undefined ? undefined : parsePositiveNumber('--lr', values.lr);
  const decayFrom = values['lr-decay'] === undefined ? undefined : parseCount('--lr-decay', values['lr-decay'], 0, MAX_ITERATIONS, "the GPU's iteration clock is 32-bit");
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
    if (decayFrom !== undefined) {
      if (decayFrom >= config.iterations) throw new UsageError(`--lr-decay ${decayFrom} must come before the run's last iteration, ${config.iterations}`);
      // lrDecay counts a net's updates: an iteration's steps of it, by the schedule.
      const per = updatesPerIteration(config);
      const decay = (n: number) => ({ start: decayFrom * n, end: config.iterations * n });
      config.optimizerG = { ...config.optimizerG, lrDecay: decay(per.g) } as OptimizerSpec;
      config.optimizerD = { ...config.optimizerD, lrDecay: decay(per.d) } as OptimizerSpec;
    }
  };
  return {
    presetName,
    data: values.data,
    imageSize,
    channels,
    overrides,
    out: values.out,
    resume: values.resume,
    checkpointEvery: values['checkpoint-every'] === undefined ? undefined : parseCount('--checkpoint-every', values['checkpoint-every']),
    force: values.force,
    report: !values['no-report'],
    changed: (['lr', 'lr-decay', 'batch', 'k'] as const).filter((f) => values[f] !== undefined).map((f) => `--${f}`),
    given: (['iters', 'batch', 'k', 'lr', 'lr-decay', 'seed', 'log-every'] as const).filter((f) => values[f] !== undefined).map((f) => `--${f} ${values[f]}`),
    batch,
    dawnOptions: parseDawnOptions(values.backend),
  };
}

/** The run's config: the preset's (fitted to --data) or the checkpoint's, with the command line's overrides, validated. */
function resolveConfig(args: Args, resumed?: CheckpointContents, data?: Dataset): GanConfig {
  let config: GanConfig;
  if (resumed) {
    config = structuredClone(resumed.config);
  } else if (data) {
    try {
      config = presetForData(args.presetName ?? defaultPresetFor(data), data, resolve(args.data!), { imageSize: args.imageSize, channels: args.channels });
    } catch (e) {
      if (e instanceof ShapeError) throw new UsageError(`--data ${args.data}: ${e.message}`);
      throw e;
    }
  } else {
    config = preset(args.presetName ?? DEFAULT_PRESET);
  }
  args.overrides(config);
  try {
    validateConfig(config);
  } catch (e) {
    // The preset (or checkpoint) was valid alone, so the flags made it invalid: name them.
    throw new UsageError(args.given.length ? `${args.given.join(', ')}: ${(e as Error).message}` : (e as Error).message);
  }
  return config;
}

/** The preset's one-line description, with the rates and sizes actually used when flags changed them. */
function presetLine(config: GanConfig, changed: readonly string[]): string {
  const decay = (o: OptimizerSpec) => ('lrDecay' in o && o.lrDecay ? ` (lowered from step ${o.lrDecay.start} to 0 at ${o.lrDecay.end})` : '');
  const asRun = `learning rates G ${config.optimizerG.lr}${decay(config.optimizerG)}, D ${config.optimizerD.lr}${decay(config.optimizerD)}, batch ${config.batch}, k ${config.k}`;
  return `preset ${config.preset}: ${config.description}; ${changed.length ? `as run with ${changed.join(', ')}` : 'as run'}: ${asRun}`;
}

/** Run files already in `dir`. */
function runFilesIn(dir: string): string[] {
  return RUN_FILES.filter((f) => existsSync(join(dir, f)));
}

function csvRow(m: MetricsReport): string {
  return `${m.iteration},${m.dLoss},${m.gLoss},${m.dReal},${m.dFake},${m.itPerSec.toFixed(2)}\n`;
}

/** Keeps the metrics rows a resumed run already has (up to its checkpoint), drops later ones. */
async function prepareCsv(path: string, resumedAt: number | null): Promise<void> {
  if (resumedAt === null || !existsSync(path)) {
    await writeFileAtomic(path, CSV_HEADER);
    return;
  }
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line && Number(line.split(',')[0]) <= resumedAt);
  await writeFileAtomic(path, CSV_HEADER + kept.map((l) => `${l}\n`).join(''));
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
  const interrupts = new Interrupts('finishing the iterations in flight and saving a checkpoint');
  try {
    return await train(args, interrupts);
  } finally {
    interrupts.dispose();
  }
}

async function train(args: Args, interrupts: Interrupts): Promise<number> {
  // Everything that can be refused is checked before the GPU opens and before any file changes.
  let resumed: CheckpointContents | undefined;
  let config: GanConfig;
  let out: string;
  let replacing: string[] = [];
  let data: Dataset | undefined;
  /** Whether this run made the output directory (removed again if it fails before writing to it). */
  let createdOut = false;
  let wrote = false;
  try {
    if (args.resume) {
      const path = join(args.resume, 'checkpoint.safetensors');
      resumed = readCheckpoint(await readFileOrExplain(path, 'checkpoint', '--resume'), path);
    }
    if (args.data) {
      data = await loadDataset(args.data, { imageSize: args.imageSize, channels: args.channels });
      const n = data.skipped?.length ?? 0;
      if (n) console.log(`--data ${args.data}: skipped ${n} ${n === 1 ? 'entry that is' : 'entries that are'} not images: ${data.skipped!.slice(0, 5).join(', ')}${n > 5 ? ', ...' : ''}`);
    }
    config = resolveConfig(args, resumed, data);
    out = args.out ?? args.resume ?? join('runs', args.data ? basename(args.data).replace(/\.[^.]*$/, '') || config.preset : config.preset);
    const outFlag = args.out === undefined && args.resume !== undefined ? '--resume' : '--out';
    createdOut = !existsSync(out);
    prepareOutputDirectory(outFlag, out);
    const continuing = args.resume !== undefined && resolve(args.resume) === resolve(out);
    const found = continuing ? [] : runFilesIn(out);
    if (found.length && !args.force) {
      throw new UsageError(
        `${outFlag} ${out} already holds a run (${found.join(', ')}); continue it with --resume ${out}, or pass --force to start this run there, replacing it`,
      );
    }
    replacing = found;
  } catch (e) {
    if (e instanceof UsageError) return exitWithUsage(e.message, USAGE);
    throw e;
  }
  const removed = [...removeStaleTempFiles(out), ...removeStaleTempFiles(join(out, FRAMES_DIR)).map((f) => `${FRAMES_DIR}/${f}`)];
  if (removed.length) console.log(`removed ${removed.length} temporary file(s) left in ${out} by interrupted writes: ${removed.join(', ')}`);
  const checkpointEvery = args.checkpointEvery ?? 10 * config.logEvery;
  const ctx = await openNodeContext({ dawnOptions: args.dawnOptions });
  let trainer: GanTrainer | null = null;
  try {
    console.log(`adapter: ${ctx.adapterLine}`);
    console.log(presetLine(config, args.changed));
    const host = data ? { dataset: data } : await loadHostData(config.data);
    // A scatter of 2-D samples is drawn over the data's own points.
    const dataPoints = host.dataset && host.dataset.values instanceof Float32Array && host.dataset.shape.length === 1 ? host.dataset.values : undefined;
    // Every tensor of a batch holds at least one value per row: a batch past that bound is
    // refused before the trainer builds host arrays of its size.
    const maxRows = Math.floor(ctx.limits.maxStorageBufferBindingSize / 4);
    if (args.batch !== undefined && args.batch > maxRows) {
      return exitWithUsage(`--batch ${args.batch} is more rows than this adapter's storage bindings hold (${maxRows} rows of one value)`, USAGE);
    }
    try {
      trainer = await GanTrainer.create(ctx, config, host);
    } catch (e) {
      // A buffer the adapter cannot hold: with --batch given, that flag is the one to change.
      if (e instanceof ShapeError && args.batch !== undefined) return exitWithUsage(`--batch ${args.batch}: ${e.message}`, USAGE);
      throw e;
    }
    const checkpointPath = join(out, 'checkpoint.safetensors');
    const resumedAt = resumed ? resumed.iteration : null;
    if (resumed) {
      await restoreCheckpoint(trainer, resumed);
      console.log(`resumed from ${args.resume} at iteration ${resumed.iteration}`);
    }
    if (interrupts.requested) {
      console.log(`${interrupts.signal} before training began: nothing written`);
      return interrupts.exitCode;
    }
    // From here the directory is this run's.
    if (replacing.length) {
      for (const f of CHECKPOINT_FILES) if (existsSync(join(out, f))) unlinkSync(join(out, f));
      await removeRecord(out);
      console.log(`--force: replacing the run in ${out} (it held ${replacing.join(', ')})`);
    }
    /** The iteration of the checkpoint file in `out` that belongs to this run, if there is one. */
    let lastSaved = resumed && resolve(args.resume!) === resolve(out) ? resumed.iteration : null;
    wrote = true;
    // The record goes on from this run's own frames, if it continues in its directory.
    const record = args.report ? await RunRecorder.open({ dir: out, trainer, dataPoints, continuing: lastSaved !== null, writeFile: writeFileAtomic }) : null;
    await writeFileAtomic(join(out, 'config.json'), JSON.stringify(record ? { ...config, frames: record.schedule } : config, null, 2) + '\n');
    const csvPath = join(out, 'metrics.csv');
    await prepareCsv(csvPath, resumedAt);

    // A state holding NaN or infinity throws NonFiniteStateError before any file is touched,
    // so the previous checkpoint stays.
    const save = async () => {
      const bytes = await saveCheckpoint(trainer!);
      await writeFileAtomic(checkpointPath, bytes);
      await writePng(join(out, 'samples.png'), (await previewSamples(trainer!, { dataPoints })).image);
      lastSaved = trainer!.iteration;
      record?.checkpoint(lastSaved);
    };

    const progress = new Progress(trainer.iteration, config.iterations);
    const started = performance.now();
    const startIteration = trainer.iteration;
    let diverged: TrainingDivergedError | NonFiniteStateError | null = null;
    try {
      while (trainer.iteration < config.iterations && !interrupts.requested) {
        const checkpointAt = Math.min(config.iterations, (Math.floor(trainer.iteration / checkpointEvery) + 1) * checkpointEvery);
        await trainer.run(checkpointAt - trainer.iteration, {
          shouldStop: () => interrupts.requested,
          afterWindow: record?.afterWindow,
          onMetrics: (m) => {
            appendFileSync(csvPath, csvRow(m));
            progress.update(m);
          },
        });
        const stopping = interrupts.requested || trainer.iteration >= config.iterations;
        record?.frame(stopping);
        // Divergence shows in the state before it shows in the metrics (an optimizer's
        // moments overflow first), so every checkpoint is also a check of the state.
        if (trainer.iteration === checkpointAt || stopping) await save();
      }
      // A signal that came while a checkpoint was saved ends the run there: its last frame.
      record?.frame(true);
      if (trainer.iteration === startIteration) await save();
    } catch (e) {
      if (!(e instanceof TrainingDivergedError || e instanceof NonFiniteStateError)) throw e;
      diverged = e;
    }
    progress.finish();
    await record?.finish();
    const seconds = (performance.now() - started) / 1000;
    const done = trainer.iteration - startIteration;
    if (diverged) {
      console.error(`error: ${diverged instanceof NonFiniteStateError ? `training diverged: ${diverged.message}` : diverged.message}`);
      console.error(
        lastSaved === null
          ? 'no checkpoint was saved before the divergence'
          : `the last good checkpoint (iteration ${lastSaved}) is kept in ${checkpointPath}; --resume ${out} with a lower --lr goes on from it`,
      );
      return 1;
    }
    // A signal that came after the last iteration interrupted nothing.
    const stopped = interrupts.requested && trainer.iteration < config.iterations;
    console.log(
      `${stopped ? 'stopped' : 'trained'} ${done} iterations in ${seconds.toFixed(1)} s (${(done / seconds || 0).toFixed(1)} it/s); ` +
        `iteration ${trainer.iteration}/${config.iterations}; wrote ${out}/{config.json,metrics.csv,samples.png,checkpoint.safetensors${record ? `,${FRAMES_DIR}/,${RECORD_FILES.join(',')}` : ''}}` +
        (stopped ? `; exiting with status ${interrupts.exitCode} (${interrupts.signal})` : ''),
    );
    return stopped ? interrupts.exitCode : 0;
  } finally {
    trainer?.destroy();
    await ctx.destroy();
    // A run refused before its first write leaves no directory it made behind.
    if (createdOut && !wrote && existsSync(out) && readdirSync(out).length === 0) rmdirSync(out);
  }
}

process.exitCode = await main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError) return exitWithUsage(e.message, USAGE);
  console.error(`error: ${formatError(e)}`);
  return 1;
});
