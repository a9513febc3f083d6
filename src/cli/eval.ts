// `npm run eval -- --checkpoint FILE`: the evaluations that apply to the checkpoint's data
// (MNIST and Fashion-MNIST: the Parzen log-likelihood and the classifier score, each with its
// own test split and classifier; the 2-D mixtures: modes captured and high-quality share; the
// 1-D normal: moments), printed as a table and written as eval.json next to the checkpoint.
// A classifier is trained on first use and cached; `npm run train-classifier [-- --data NAME]`
// (= `npm run eval -- --train-classifier`) retrains one.

import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { IMAGE_DATASET_TITLES, IMAGE_DATASETS, imageClassNames, imageDatasetOfKind, type ImageDataset } from '../data/datasets.ts';
import { loadImageDataset } from '../data/datasets-node.ts';
import type { Mnist } from '../data/mnist.ts';
import { readCheckpoint } from '../gan/checkpoint.ts';
import { Sampler } from '../gan/sampler.ts';
import { ShapeError } from '../gpu/errors.ts';
import { openNodeContext } from '../gpu/node.ts';
import { loadOrTrainClassifier, type LoadedClassifier } from '../eval/classifier-cache.ts';
import { evaluateGenerator, type EvalReport } from '../eval/evaluate.ts';
import { exitWithUsage, formatError, parseCount, parseDawnOptions, UsageError } from './common.ts';
import { readFileOrExplain, removeStaleTempFiles, writeFileAtomic } from './files.ts';
import { prepareOutputDirectory, prepareOutputFile } from './paths.ts';

const USAGE = `usage: npm run eval -- --checkpoint FILE [options]
       npm run train-classifier [-- --data fashion]   (npm run eval -- --train-classifier)
  --checkpoint FILE     a checkpoint.safetensors written by npm run train
  --seed S              noise seed of the generated samples (default 0)
  --samples N           generated image samples (default 10000, the Parzen protocol's)
  --mode-samples N      generated 2-D samples (default 2500, as PacGAN and VEEGAN)
  --no-parzen           skip the Parzen estimate (the slow evaluation)
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
    out: values.out,
    trainClassifier: values['train-classifier'],
    data,
    cacheDir: values['cache-dir'],
    backend: parseDawnOptions(values.backend),
  };
}

const f = (x: number, digits = 2) => x.toFixed(digits);

/** One row per evaluation: name, result, wall time. */
function reportRows(r: EvalReport): string[][] {
  const names = imageClassNames(r.dataset ?? 'mnist');
  const rows: string[][] = [['sampling', `${r.sampling.samples} samples, seed ${r.seed}`, `${f(r.sampling.seconds, 1)} s`]];
  if (r.parzen) {
    const p = r.parzen;
    rows.push(['parzen', `log-likelihood ${f(p.mean)} ± ${f(p.stderr)} nats (sigma ${f(p.sigma, 3)}; ${p.samples} samples, ${p.testPoints} test images)`, `${f(p.seconds, 1)} s`]);
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
  }
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
    sampler = new Sampler(ctx, ckpt);
    const began = performance.now();
    const report = await evaluateGenerator(ctx, sampler, {
      seed: args.seed,
      dataset,
      images,
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

process.exitCode = await main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError) return exitWithUsage(e.message, USAGE);
  console.error(`error: ${formatError(e)}`);
  return 1;
});
