// `npm run sample`: N samples from a checkpoint's generator as a NumPy .npy float32 array in the
// data's units, and with --grid a PNG picture of them next to it. The array keeps the data's
// shape: N x H x W x C for images and N x D for points of a user's data set, N x H x W x C for a
// convolutional generator (dcgan on MNIST: N x 28 x 28 x 1), and N x 784 for the dense MNIST
// presets, as before. The picture of 2-D points of a user's data set is a scatter over the data
// set's own rows, read again from the config's path. The flags, the checkpoint, the data set and
// the output paths are checked before the GPU opens; samples that are not all finite are refused.

import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDataset } from '../data/dataset-node.ts';
import { DataError } from '../data/idx.ts';
import { readCheckpoint } from '../gan/checkpoint.ts';
import type { GanConfig } from '../gan/config.ts';
import { Sampler, type SampleNormalisation, type SampleWeights } from '../gan/sampler.ts';
import { ShapeError } from '../gpu/errors.ts';
import { openNodeContext } from '../gpu/node.ts';
import { encodeNpy } from '../io/npy.ts';
import { checkDatasetMatches, inDataUnits } from '../eval/dataset-sets.ts';
import { renderSamples } from '../viz/samples.ts';
import { exitWithUsage, formatError, parseCount, parseDawnOptions, parseNormalisation, parseWeights, UsageError } from './common.ts';
import { readFileOrExplain, removeStaleTempFiles, writeFileAtomic, writePng } from './files.ts';
import { prepareOutputFile } from './paths.ts';

const USAGE = `usage: npm run sample -- --checkpoint FILE [--n N] [--out FILE.npy] [--grid] [--seed S] [--digit D]
  --checkpoint FILE   a checkpoint.safetensors written by npm run train
  --n N               number of samples (default 100)
  --digit D           the digit to draw (conditional presets such as cgan; default: one row per digit)
  --out FILE          the .npy to write (default samples.npy): float32 in the data's units, shaped
                      N x H x W x C for images (N x 784 for the dense MNIST presets), N x D for points
  --grid              also write the picture of the samples as FILE with .png (an image grid, or
                      for 2-D points of --data runs a scatter over the data set's rows)
  --seed S            noise seed (default 0)
  --bn-stats MODE     how G's batch norm normalises: running (default: the statistics kept in
                      training, torch's eval mode) or batch (each pass's own over a training
                      batch of rows, as G trains: torch's train mode)
  --weights W         G's weights: average (default where training kept one: the moving
                      average of optimizerG.average) or trained (as the last update left them)
  --backend OPT       Dawn option passed through (repeatable)`;

interface Args {
  checkpoint: string;
  n: number;
  out: string;
  png: string | null;
  seed: number;
  digit?: number;
  normalisation: SampleNormalisation;
  weights?: SampleWeights;
  backend: string[];
}

function parse(argv: string[]): Args | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      checkpoint: { type: 'string' },
      n: { type: 'string', default: '100' },
      out: { type: 'string', default: 'samples.npy' },
      grid: { type: 'boolean', default: false },
      seed: { type: 'string', default: '0' },
      digit: { type: 'string' },
      'bn-stats': { type: 'string' },
      weights: { type: 'string' },
      backend: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (!values.checkpoint) throw new UsageError('--checkpoint FILE is required');
  if (!values.out.endsWith('.npy')) throw new UsageError(`--out must name a .npy file, got '${values.out}'`);
  const args: Args = {
    checkpoint: values.checkpoint,
    n: parseCount('--n', values.n),
    out: values.out,
    png: values.grid ? values.out.replace(/\.npy$/, '.png') : null,
    seed: parseCount('--seed', values.seed, 0),
    digit: values.digit === undefined ? undefined : parseCount('--digit', values.digit, 0),
    normalisation: parseNormalisation(values['bn-stats']),
    weights: parseWeights(values.weights),
    backend: parseDawnOptions(values.backend),
  };
  prepareOutputFile('--out', args.out);
  if (args.png) prepareOutputFile('--grid', args.png);
  for (const file of [args.out, args.png ?? '']) if (file) removeStaleTempFiles(dirname(file), basename(file));
  return args;
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
  const ckpt = readCheckpoint(await readFileOrExplain(args.checkpoint, 'checkpoint', '--checkpoint'), args.checkpoint);
  const classes = ckpt.config.conditional?.classes ?? 0;
  const { digit, n } = args;
  if (digit !== undefined && !classes) return exitWithUsage(`--digit: preset '${ckpt.config.preset}' is not conditional (train --preset cgan)`, USAGE);
  if (digit !== undefined && digit >= classes) return exitWithUsage(`--digit must be below ${classes}, got ${digit}`, USAGE);
  // The data's own points, for the scatter behind 2-D samples of a user's data set.
  const dataPoints = args.png ? await scatterBackdrop(ckpt.config.data, args.checkpoint) : undefined;
  const ctx = await openNodeContext({ dawnOptions: args.backend });
  let sampler: Sampler | null = null;
  try {
    sampler = new Sampler(ctx, ckpt, { normalisation: args.normalisation, weights: args.weights });
    let samples: Float32Array;
    try {
      samples = await sampler.sample(n, args.seed, digit);
    } catch (e) {
      // The checkpoint built its generator, so a shape refused now is one --n made (more rows than the adapter holds).
      if (e instanceof ShapeError) return exitWithUsage(`--n ${n}: ${e.message}`, USAGE);
      throw e;
    }
    let nonFinite = 0;
    for (const v of samples) if (!Number.isFinite(v)) nonFinite++;
    if (nonFinite) throw new Error(`${args.checkpoint}: the generator gave ${nonFinite} non-finite values of ${samples.length}; nothing written`);
    const shape = sampler.sampleShape;
    await writeFileAtomic(args.out, encodeNpy(samples, [n, ...shape]));
    let wrote = args.out;
    if (args.png) {
      await writePng(args.png, renderSamples(ckpt.config.data, samples, { dataPoints }));
      wrote += ` and ${args.png}`;
    }
    console.log(`wrote ${n} samples of ${shape.join('x')} from ${ckpt.config.preset} at iteration ${ckpt.iteration} to ${wrote}`);
    return 0;
  } finally {
    sampler?.destroy();
    await ctx.destroy();
  }
}

/** A user's 2-D (or wider) points in their units, read from the config's path; undefined for any other data. */
async function scatterBackdrop(spec: GanConfig['data'], checkpoint: string): Promise<Float32Array | undefined> {
  if (spec.kind !== 'dataset' || spec.shape.length !== 1) return undefined;
  try {
    const d = await loadDataset(spec.path, { imageSize: spec.imageSize, channels: spec.channels });
    checkDatasetMatches(spec, d);
    return inDataUnits(d.values);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    throw new DataError(`${e.message} (${checkpoint} trained on this data set; --grid draws the samples over its points)`);
  }
}

process.exitCode = await main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError) return exitWithUsage(e.message, USAGE);
  console.error(`error: ${formatError(e)}`);
  return 1;
});
