// `npm run eval -- --checkpoint FILE`: the evaluations that apply to the checkpoint's data
// (MNIST and Fashion-MNIST: the Parzen log-likelihood and the classifier score, each with its
// own test split and classifier; the 2-D mixtures: modes captured and high-quality share; the
// 1-D normal: moments; a user's data set: the kernel MMD and the Parzen log-likelihood against
// its held-out rows, and mode counts when its points are a known mixture), printed as a table
// and written as eval.json next to the checkpoint. A user's data set is read again from the
// path in the checkpoint's config, before the GPU opens, and refused if it changed.
// A classifier is trained on first use and cached; `npm run train-classifier [-- --data NAME]`
// (= `npm run eval -- --train-classifier`) retrains one.

import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { IMAGE_DATASET_TITLES, IMAGE_DATASETS, imageClassNames, imageDatasetOfKind, type ImageDataset } from '../data/datasets.ts';
import { loadImageDataset } from '../data/datasets-node.ts';
import type { Dataset } from '../data/dataset.ts';
import { loadDataset } from '../data/dataset-node.ts';
import { DataError } from '../data/idx.ts';
import type { Mnist } from '../data/mnist.ts';
import { readCheckpoint } from '../gan/checkpoint.ts';
import type { GanConfig } from '../gan/config.ts';
import { Sampler, type SampleNormalisation, type SampleWeights } from '../gan/sampler.ts';
import { ShapeError } from '../gpu/errors.ts';
import { openNodeContext } from '../gpu/node.ts';
import { loadOrTrainClassifier, type LoadedClassifier } from '../eval/classifier-cache.ts';
import { checkDatasetMatches } from '../eval/dataset-sets.ts';
import { evaluateGenerator, type EvalReport } from '../eval/evaluate.ts';
import { exitWithUsage, formatError, parseCount, parseDawnOptions, parseNormalisation, parseWeights, UsageError } from './common.ts';
import { readFileOrExplain, removeStaleTempFiles, writeFileAtomic } from './files.ts';
import { prepareOutputDirectory, prepareOutputFile } from './paths.ts';

const USAGE = `usage: npm run eval -- --checkpoint FILE [options]
       npm run train-classifier [-- --data fashion]   (npm run eval -- --train-classifier)
  --checkpoint FILE     a checkpoint.safetensors written by npm run train
  --seed S              noise seed of the generated samples (default 0)
  --samples N           generated samples for images and for --data runs (default 10000, the
                        Parzen protocol's)
  --mode-samples N      generated 2-D samples (default 2500, as PacGAN and VEEGAN)
  --no-parzen           skip the Parzen estimate (the slow evaluation)
  --bn-stats MODE       how G's batch norm normalises the samples: running (default: the
                        statistics kept in training, torch's eval mode) or batch (each pass's
                        own over a training batch of rows, as G trains: torch's train mode)
  --weights W           G's weights: average (default where training kept one: the moving
                        average of optimizerG.average) or trained (as the last update left them)
  --out FILE            the JSON report (default: eval.json next to the checkpoint)
  --train-classifier    (re)train the data set's classifier and cache it, even if cached
  --data NAME           the data set of --train-classifier: mnist (default) or fashion; with
                        --checkpoint, the checkpoint's data decides and NAME must agree
  --cache-dir DIR       where the classifier is cached (default node_modules/.cache/webgpu-gan)
  --backend OPT         Dawn option passed through (repeatable)
  -h, --help`;

interface Args {
  checkpoint?: string;
  seed: number;
  samples: number;
  modeSamples: number;
  parzen: boolean;
  normalisation: SampleNormalisation;
  weights?: SampleWeights;
  out?: string;
  trainClassifier: boolean;
  data?: ImageDataset;
  cacheDir?: string;
  backend: string[];
}

function parse(argv: string[]): Args | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      checkpoint: { type: 'string' },
      seed: { type: 'string', default: '0' },
      samples: { type: 'string', default: '10000' },
      'mode-samples': { type: 'string', default: '2500' },
      'no-parzen': { type: 'boolean', default: false },
      'bn-stats': { type: 'string' },
      weights: { type: 'string' },
      out: { type: 'string' },
      'train-classifier': { type: 'boolean', default: false },
      data: { type: 'string' },
      'cache-dir': { type: 'string' },
      backend: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (!values.checkpoint && !values['train-classifier']) throw new UsageError('--checkpoint FILE is required (or --train-classifier)');
  if (values.out !== undefined && !values.out.endsWith('.json')) throw new UsageError(`--out must name a .json file, got '${values.out}'`);
  // Output locations are checked now, before the GPU opens (the report's, even by default).
  if (values.checkpoint) {
    const out = values.out ?? join(dirname(values.checkpoint), 'eval.json');
    prepareOutputFile('--out', out);
    removeStaleTempFiles(dirname(out), basename(out));
  }
  if (values['cache-dir'] !== undefined) prepareOutputDirectory('--cache-dir', values['cache-dir'], { writable: false });
  const data = values.data === undefined ? undefined : imageDatasetOfKind(values.data);
  if (values.data !== undefined && !data) throw new UsageError(`--data must be one of ${IMAGE_DATASETS.join(', ')}, got '${values.data}'`);
  return {
    checkpoint: values.checkpoint,
    seed: parseCount('--seed', values.seed, 0),
    // Two rows at least: the Fréchet distance needs a covariance.
    samples: parseCount('--samples', values.samples, 2),
    modeSamples: parseCount('--mode-samples', values['mode-samples']),
    parzen: !values['no-parzen'],
    normalisation: parseNormalisation(values['bn-stats']),
    weights: parseWeights(values.weights),
    out: values.out,
    trainClassifier: values['train-classifier'],
    data,
    cacheDir: values['cache-dir'],
    backend: parseDawnOptions(values.backend),
  };
}

const f = (x: number, digits = 2) => x.toFixed(digits);
/** Three significant digits, in exponent form when small or large. */
const g = (x: number) => (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5) ? x.toExponential(2) : x.toPrecision(3));

/** One row per evaluation: name, result, wall time. */
function reportRows(r: EvalReport): string[][] {
  const names = imageClassNames(r.dataset ?? 'mnist');
  const rows: string[][] = [['sampling', `${r.sampling.samples} samples, seed ${r.seed}${r.sampling.weights === 'average' ? ", G's weight average" : ''}${r.sampling.normalisation === 'batch' ? ', batch norm on batch statistics' : ''}`, `${f(r.sampling.seconds, 1)} s`]];
  if (r.data) {
    const d = r.data;
    const mixture = d.mixture ? `; its points are the ${d.mixture} mixture` : '';
    rows.push(['data', `${d.path} (${d.format}, ${d.rows} samples of ${d.shape.join('x')}; ${d.heldOutRows} held out${mixture})`, '']);
  }
  if (r.mmd) {
    const m = r.mmd;
    rows.push([
      'mmd',
      `MMD^2 ${g(m.mmd2)} (unbiased; biased ${g(m.mmd2Biased)}), MMD ${g(m.mmd)}; Gaussian kernel, sigma ${g(m.sigma)} (${m.sigmaFrom}); ${m.samples} samples vs ${m.realRows} held-out rows`,
      `${f(m.seconds, 1)} s`,
    ]);
  }
  if (r.parzen) {
    const p = r.parzen;
    const test = r.data ? 'held-out rows' : 'test images';
    const sigma = r.data ? g(p.sigma) : f(p.sigma, 3);
    rows.push(['parzen', `log-likelihood ${f(p.mean)} ± ${f(p.stderr)} nats (sigma ${sigma}; ${p.samples} samples, ${p.testPoints} ${test})`, `${f(p.seconds, 1)} s`]);
  }
  if (r.classifier) {
    const c = r.classifier;
    rows.push(['classifier', `${c.classesCovered}/10 classes >= 5%, KL from uniform ${f(c.klFromUniform, 3)}, Fréchet distance ${f(c.frechetDistance)}`, `${f(c.seconds, 1)} s`]);
    rows.push(['  histogram', c.histogram.map((n, d) => `${names[d]}:${n}`).join(' '), '']);
  }
  if (r.modes) {
    const m = r.modes;
    const kl = m.reverseKl === null ? 'n/a' : f(m.reverseKl, 3);
    rows.push([`modes (${m.mixture})`, `${m.modesCaptured}/${m.modes} modes captured, ${f(100 * m.highQualityShare, 1)}% high quality, reverse KL ${kl} (${m.samples} samples)`, `${f(m.seconds, 2)} s`]);
  }
  if (r.moments) {
    const m = r.moments;
    rows.push(['moments', `mean ${f(m.mean, 3)} (target ${m.targetMean}), std ${f(m.std, 3)} (target ${m.targetStd}), ${m.samples} samples`, `${f(m.seconds, 2)} s`]);
    rows.push(['W1 to the target normal', f(m.w1, 4), '']);
  }
  for (const note of r.notes ?? []) rows.push(['note', note, '']);
  return rows;
}

function printTable(rows: string[][]): void {
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(`${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(widths[2])}`);
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
  // The checkpoint is read before any GPU work, so a bad file fails fast.
  const ckpt = args.checkpoint ? readCheckpoint(await readFileOrExplain(args.checkpoint, 'checkpoint', '--checkpoint'), args.checkpoint) : null;
  // The checkpoint's image data set, if it trained on one.
  const ckptDataset = ckpt ? imageDatasetOfKind(ckpt.config.data.kind) : undefined;
  if (ckpt && args.data && ckptDataset !== args.data) {
    return exitWithUsage(`--data ${args.data} does not match the checkpoint's data ('${ckpt.config.data.kind}')`, USAGE);
  }
  const dataset = ckpt ? ckptDataset : (args.data ?? 'mnist');
  // A user's data set, read again from the config's path and checked to be the one it trained on.
  const ownData = ckpt ? await loadTrainedDataset(ckpt.config.data, args.checkpoint!) : undefined;
  const ctx = await openNodeContext({ dawnOptions: args.backend });
  let loaded: LoadedClassifier | null = null;
  let sampler: Sampler | null = null;
  try {
    console.log(`adapter: ${ctx.adapterLine}`);
    const images: Mnist | undefined = dataset ? await loadImageDataset(dataset, { fashion: { log: (line) => console.error(line) } }) : undefined;
    if (images && dataset) {
      loaded = await loadOrTrainClassifier(ctx, images, { dataset, retrain: args.trainClassifier, cacheDir: args.cacheDir, log: (line) => console.error(line) });
      const how = loaded.trained ? `trained in ${f(loaded.trainingSeconds, 1)} s` : 'cached';
      console.log(`classifier (${IMAGE_DATASET_TITLES[dataset]}): ${loaded.path} (${how}), test accuracy ${f(100 * loaded.testAccuracy)}%`);
    }
    if (!ckpt || !args.checkpoint) return 0;
    console.log(`checkpoint: ${args.checkpoint} (${ckpt.config.preset}, iteration ${ckpt.iteration})`);
    sampler = new Sampler(ctx, ckpt, { normalisation: args.normalisation, weights: args.weights });
    const began = performance.now();
    const report = await evaluateGenerator(ctx, sampler, {
      seed: args.seed,
      dataset,
      images,
      data: ownData,
      classifier: loaded?.classifier,
      classifierAccuracy: loaded?.testAccuracy,
      samples: args.samples,
      modeSamples: args.modeSamples,
      skipParzen: !args.parzen,
      log: (line) => console.error(line),
    }).catch((e) => {
      // The checkpoint built its generator, so a shape refused now is one the sample count made.
      if (!(e instanceof ShapeError)) throw e;
      const flag = ckpt.config.data.kind === 'mixture' ? `--mode-samples ${args.modeSamples}` : `--samples ${args.samples}`;
      throw new UsageError(`${flag}: ${e.message}`);
    });
    printTable(reportRows(report));
    if (report.parzen && dataset === 'mnist') console.log('(Goodfellow et al. 2014, Table 1, MNIST Parzen: GAN 225 ± 2, DBN 138 ± 2, stacked CAE 121 ± 1.6, deep GSN 214 ± 1.1)');
    if (report.modes) console.log('(PacGAN Table 1, vanilla GAN: ring 6.3/8 modes, 98.2% high quality; grid 17.3/25 modes, 94.8%)');
    const out = args.out ?? join(dirname(args.checkpoint), 'eval.json');
    await writeFileAtomic(out, JSON.stringify({ checkpoint: args.checkpoint, ...report, totalSeconds: (performance.now() - began) / 1000 }, null, 2) + '\n');
    console.log(`wrote ${out}`);
    return 0;
  } finally {
    sampler?.destroy();
    loaded?.classifier.destroy();
    await ctx.destroy();
  }
}

/** The data set a 'dataset' checkpoint trained on, loaded from its config's path; undefined for the other kinds. */
async function loadTrainedDataset(spec: GanConfig['data'], checkpoint: string): Promise<Dataset | undefined> {
  if (spec.kind !== 'dataset') return undefined;
  try {
    const d = await loadDataset(spec.path, { imageSize: spec.imageSize, channels: spec.channels });
    checkDatasetMatches(spec, d);
    return d;
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    throw new DataError(`${e.message} (${checkpoint} trained on this data set; eval measures against its held-out rows)`);
  }
}

process.exitCode = await main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError) return exitWithUsage(e.message, USAGE);
  console.error(`error: ${formatError(e)}`);
  return 1;
});
