// The evaluations that apply to a generator's data, run on one set of generated samples:
// images (MNIST, Fashion-MNIST): the Parzen-window log-likelihood and the classifier score,
// both against the data set's own test split and with its own classifier; the 2-D mixtures:
// modes captured and high-quality share; the 1-D normal: the samples' moments. Each is timed.

import type { GanConfig } from '../gan/config.ts';
import type { Sampler } from '../gan/sampler.ts';
import { IMAGE_DATASET_TITLES, imageDatasetOfKind, type ImageDataset } from '../data/datasets.ts';
import { MNIST_PIXELS, type Mnist } from '../data/mnist.ts';
import { MIXTURES } from '../data/toy.ts';
import type { GpuContext } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import type { MnistClassifier } from './classifier.ts';
import { classifierScore, realFeatureStats, type ClassifierScore } from './classifier-score.ts';
import type { GaussianStats } from './frechet.ts';
import { mixtureModes, MODE_SAMPLES, type ModeReport } from './modes.ts';
import { mnistParzenSets, parzenEvaluate, PARZEN_SAMPLES, type ParzenResult } from './parzen.ts';

/** An evaluation's result with its wall time (seconds, host clock, GPU work included). */
export type Timed<T> = T & { seconds: number };

export interface MomentsReport {
  samples: number;
  mean: number;
  std: number;
  targetMean: number;
  targetStd: number;
}

export interface EvalReport {
  preset: string;
  iteration: number;
  adapter: string;
  /** The noise seed of the generated samples. */
  seed: number;
  /** The image data set the generator was scored against (absent for the toy distributions). */
  dataset?: ImageDataset;
  /** Drawing the generated samples (shared by the evaluations below). */
  sampling: Timed<{ samples: number }>;
  parzen?: Timed<ParzenResult>;
  classifier?: Timed<ClassifierScore & { testAccuracy?: number }>;
  modes?: Timed<ModeReport>;
  moments?: Timed<MomentsReport>;
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
  /** Generated image samples (default 10,000, the Parzen protocol's). */
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
  if (dataset && sampler.dim !== MNIST_PIXELS) {
    throw new ShapeError(`evaluating '${config.preset}' as ${IMAGE_DATASET_TITLES[dataset]}: its generator makes ${sampler.dim} values per sample, not ${MNIST_PIXELS} pixels`);
  }
  const count = !dataset && data.kind === 'mixture' ? (opts.modeSamples ?? MODE_SAMPLES) : (opts.samples ?? PARZEN_SAMPLES);
  let samples: Float32Array = new Float32Array(0);
  const sampling = await timed(async () => {
    samples = await sampler.sample(count, seed);
    return { samples: count };
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
        return { samples: samples.length, mean, std: Math.sqrt(sq / samples.length), targetMean: data.mean, targetStd: data.std };
      });
      break;
    }
  }
  return report;
}
