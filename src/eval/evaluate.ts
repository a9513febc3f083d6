// The evaluations that apply to a generator's data, run on one set of generated samples:
// images (MNIST, Fashion-MNIST): the Parzen-window log-likelihood and the classifier score,
// both against the data set's own test split and with its own classifier; the 2-D mixtures:
// modes captured and high-quality share; the 1-D normal: the samples' moments; a user's data
// set (images or points): the kernel MMD between samples and its held-out rows, the Parzen
// log-likelihood of the held-out rows (width chosen on training rows), and the mode counts
// when its points are one of the engine's 2-D mixtures. Each is timed.

import type { GanConfig } from '../gan/config.ts';
import type { SampleNormalisation, SampleWeights, Sampler } from '../gan/sampler.ts';
import { IMAGE_DATASET_TITLES, imageDatasetOfKind, type ImageDataset } from '../data/datasets.ts';
import { MNIST_PIXELS, type Mnist } from '../data/mnist.ts';
import { MIXTURES } from '../data/toy.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import type { Dataset } from '../data/dataset.ts';
import type { MnistClassifier } from './classifier.ts';
import { classifierScore, realFeatureStats, type ClassifierScore } from './classifier-score.ts';
import type { GaussianStats } from './frechet.ts';
import { mixtureModes, MODE_SAMPLES, type ModeReport } from './modes.ts';
import { checkDatasetMatches, datasetSets, knownMixtureOf, MMD_MAX_ROWS, VALIDATION_ROWS, type DatasetSpec } from './dataset-sets.ts';
import { gaussianMmd, type MmdResult } from './mmd.ts';
import { wasserstein1ToNormal } from './normal.ts';
import { mnistParzenSets, parzenEvaluate, PARZEN_SAMPLES, type ParzenResult } from './parzen.ts';

/** An evaluation's result with its wall time (seconds, host clock, GPU work included). */
export type Timed<T> = T & { seconds: number };

export interface MomentsReport {
  samples: number;
  mean: number;
  std: number;
  targetMean: number;
  targetStd: number;
  /** The Wasserstein-1 distance of the samples to N(targetMean, targetStd^2), in the data's units (src/eval/normal.ts). */
  w1: number;
}

/** What a user's data set gave the evaluation. */
export interface DataSetSummary {
  path: string;
  format: string;
  /** One sample's shape. */
  shape: number[];
  rows: number;
  /** Rows G never trained on: the MMD's real rows and the Parzen estimate's test points. */
  heldOutRows: number;
  /** Training rows the Parzen width was chosen on. */
  validationRows: number;
  /** The Parzen widths tried (in the data's units). */
  parzenSigmas: number[];
  /** The engine's 2-D mixture the points were drawn from, when they are one. */
  mixture?: string;
}

export interface EvalReport {
  preset: string;
  iteration: number;
  adapter: string;
  /** The noise seed of the generated samples. */
  seed: number;
  /** The image data set the generator was scored against (absent for the toy distributions). */
  dataset?: ImageDataset;
  /** Drawing the generated samples (shared by the evaluations below), and how G's batch norm normalised them (src/gan/sampler.ts). */
  sampling: Timed<{ samples: number; normalisation: SampleNormalisation; weights: SampleWeights }>;
  /** A user's data set (config data kind 'dataset'). */
  data?: DataSetSummary;
  /** Kernel MMD between the samples and the data set's held-out rows. */
  mmd?: Timed<MmdResult>;
  parzen?: Timed<ParzenResult>;
  classifier?: Timed<ClassifierScore & { testAccuracy?: number }>;
  modes?: Timed<ModeReport>;
  moments?: Timed<MomentsReport>;
  /** Evaluations left out, and why. */
  notes?: string[];
}

export interface EvaluateOptions {
  /** Noise seed of the generated samples (default 0). */
  seed?: number;
  /**
   * The image data set the generator learned: 'mnist' or 'fashion'. Default: the config's data
   * kind when it names one. The images, the classifier and the real statistics must be its.
   */
  dataset?: ImageDataset;
  /** That data set, for image generators (Parzen's validation and test images, the classifier's real images). */
  images?: Mnist;
  /** The data set's classifier, for the classifier score; without one that evaluation is skipped. */
  classifier?: MnistClassifier;
  /** Its test accuracy, reported alongside. */
  classifierAccuracy?: number;
  /** Real-image feature statistics, if already computed (else from images.test). */
  realStats?: GaussianStats;
  /**
   * The data set a 'dataset' config trained on, loaded from its path (Node: loadDataset with
   * the config's imageSize and channels); refused unless it is that data set.
   */
  data?: Dataset;
  /** Rows per side of a user's data set's MMD: the first samples, evenly spaced held-out rows (default 2,000). */
  mmdRows?: number;
  /** Generated samples for images and for users' data sets (default 10,000, the Parzen protocol's). */
  samples?: number;
  /** Generated 2-D samples (default 2,500, the papers'). */
  modeSamples?: number;
  /** Leave the Parzen estimate out (it is the slow one). */
  skipParzen?: boolean;
  log?: (line: string) => void;
}

async function timed<T extends object>(work: () => Promise<T> | T): Promise<Timed<T>> {
  const began = performance.now();
  const result = await work();
  return { ...result, seconds: (performance.now() - began) / 1000 };
}

/** Evaluates `sampler`'s generator (whose training config is `sampler.config`). */
export async function evaluateGenerator(ctx: GpuContext, sampler: Sampler, opts: EvaluateOptions = {}): Promise<EvalReport> {
  const config: GanConfig = sampler.config;
  const seed = opts.seed ?? 0;
  const log = opts.log ?? (() => undefined);
  const data = config.data;
  const dataset = opts.dataset ?? imageDatasetOfKind(data.kind);
  if (data.kind === 'dataset') return evaluateOnDataset(ctx, sampler, data, opts);
  if (dataset && sampler.dim !== MNIST_PIXELS) {
    throw new ShapeError(`evaluating '${config.preset}' as ${IMAGE_DATASET_TITLES[dataset]}: its generator makes ${sampler.dim} values per sample, not ${MNIST_PIXELS} pixels`);
  }
  const count = !dataset && data.kind === 'mixture' ? (opts.modeSamples ?? MODE_SAMPLES) : (opts.samples ?? PARZEN_SAMPLES);
  let samples: Float32Array = new Float32Array(0);
  const sampling = await timed(async () => {
    samples = await sampler.sample(count, seed);
    return { samples: count, normalisation: sampler.normalisation, weights: sampler.weights };
  });
  const report: EvalReport = { preset: config.preset, iteration: sampler.iteration, adapter: ctx.adapterLine, seed, sampling };

  if (dataset) {
    report.dataset = dataset;
    const title = IMAGE_DATASET_TITLES[dataset];
    const images = opts.images;
    if (!images) throw new ShapeError(`evaluating '${config.preset}' (${title}) needs the ${title} data`);
    if (!opts.skipParzen) {
      log(`parzen: ${count} samples, sigma chosen on 1,000 ${title} validation images, ${images.test.count} test images`);
      const { validation, test } = mnistParzenSets(images);
      report.parzen = await timed(() => parzenEvaluate(ctx, samples, validation, test, sampler.dim));
    }
    const classifier = opts.classifier;
    if (classifier) {
      log(`classifier score: ${count} samples, ${title} classifier`);
      report.classifier = await timed(async () => {
        const real = opts.realStats ?? (await realFeatureStats(classifier, images.test));
        const score = await classifierScore(classifier, samples, real);
        return opts.classifierAccuracy === undefined ? score : { ...score, testAccuracy: opts.classifierAccuracy };
      });
    }
    return report;
  }
  switch (data.kind) {
    case 'mixture': {
      const mixture = MIXTURES[data.name];
      report.modes = await timed(() => mixtureModes(samples, mixture));
      break;
    }
    case 'normal': {
      report.moments = await timed(() => {
        let sum = 0;
        for (const v of samples) sum += v;
        const mean = sum / samples.length;
        let sq = 0;
        for (const v of samples) sq += (v - mean) ** 2;
        return { samples: samples.length, mean, std: Math.sqrt(sq / samples.length), targetMean: data.mean, targetStd: data.std, w1: wasserstein1ToNormal(samples, data.mean, data.std) };
      });
      break;
    }
  }
  return report;
}

/** A generator trained on a user's data set, against the rows it never saw. */
async function evaluateOnDataset(ctx: GpuContext, sampler: Sampler, spec: DatasetSpec, opts: EvaluateOptions): Promise<EvalReport> {
  const config = sampler.config;
  const log = opts.log ?? (() => undefined);
  const seed = opts.seed ?? 0;
  const d = opts.data;
  if (!d) throw new ShapeError(`evaluating '${config.preset}' needs the data set it trained on (${spec.path}) loaded: pass { data }`);
  checkDatasetMatches(spec, d);
  const sets = datasetSets(d, VALIDATION_ROWS, opts.mmdRows ?? MMD_MAX_ROWS);
  if (sampler.dim !== sets.dim) {
    throw new ShapeError(`evaluating '${config.preset}' on ${spec.path}: its generator makes ${sampler.dim} values per sample, the data's samples hold ${sets.dim}`);
  }
  const count = opts.samples ?? PARZEN_SAMPLES;
  let samples: Float32Array = new Float32Array(0);
  const sampling = await timed(async () => {
    samples = await sampler.sample(count, seed);
    return { samples: count, normalisation: sampler.normalisation, weights: sampler.weights };
  });
  const mixture = knownMixtureOf(d);
  const report: EvalReport = {
    preset: config.preset,
    iteration: sampler.iteration,
    adapter: ctx.adapterLine,
    seed,
    sampling,
    data: {
      path: spec.path,
      format: d.format,
      shape: d.shape,
      rows: d.count,
      heldOutRows: sets.heldOutRows,
      validationRows: sets.validationRows,
      parzenSigmas: sets.sigmas,
      ...(mixture ? { mixture: mixture.name } : {}),
    },
  };
  const notes: string[] = [];
  if (sets.heldOutRows < 2) {
    notes.push(`${spec.path} has ${d.count} rows: below 20 nothing is held out from training, so there is nothing unseen to measure the MMD and Parzen estimates against`);
  } else if (count < 2) {
    notes.push(`the MMD and Parzen estimates need at least 2 samples, got ${count}`);
  } else {
    const mmdSamples = samples.subarray(0, Math.min(count, opts.mmdRows ?? MMD_MAX_ROWS) * sets.dim);
    const mmdReal = sets.mmdReal.length / sets.dim;
    log(`mmd: ${mmdSamples.length / sets.dim} samples against ${mmdReal} held-out rows, Gaussian kernel, median-heuristic width`);
    report.mmd = await timed(() => gaussianMmd(ctx, mmdSamples, sets.mmdReal, sets.dim));
    if (!opts.skipParzen) {
      log(`parzen: ${count} samples, sigma chosen on ${sets.validationRows} training rows, ${sets.heldOutRows} held-out rows`);
      report.parzen = await timed(() => parzenEvaluate(ctx, samples, sets.validation, sets.heldOut, sets.dim, { sigmas: sets.sigmas }));
    }
  }
  if (mixture) {
    // The papers' count on the papers' sample size, from the same draw.
    const n = Math.min(count, opts.modeSamples ?? MODE_SAMPLES);
    report.modes = await timed(() => mixtureModes(samples.subarray(0, n * 2), mixture));
  }
  if (notes.length) report.notes = notes;
  return report;
}
