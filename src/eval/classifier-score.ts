// Scores generated images with the data set's classifier (MNIST's digits, Fashion-MNIST's
// garments): which classes the generator produces (the class histogram, how many classes get
// a fair share, its KL divergence from uniform) and how close its samples' features are to
// real test images' (a Fréchet distance on the classifier's last hidden layer).

import { MNIST_CLASSES, type MnistSplit } from '../data/mnist.ts';
import { argmaxRows, type MnistClassifier } from './classifier.ts';
import { featureStats, frechetDistance, type GaussianStats } from './frechet.ts';
import { mnistPixels } from './parzen.ts';

/** A class counts as produced when it receives at least this share of the samples. */
export const CLASS_SHARE_THRESHOLD = 0.05;

export interface ClassifierScore {
  samples: number;
  /** Samples per predicted class 0..9. */
  histogram: number[];
  /** Classes with at least 5% of the samples (10 for a uniform generator, 1 when collapsed). */
  classesCovered: number;
  /** KL(histogram || uniform) in nats: 0 for uniform, log 10 = 2.303 for a single class. */
  klFromUniform: number;
  /** Squared Fréchet distance between generated and real-test features. */
  frechetDistance: number;
  featureSize: number;
}

/** Counts of each class among predictions. */
export function classHistogram(predicted: ArrayLike<number>, classes = MNIST_CLASSES): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < predicted.length; i++) counts[predicted[i]]++;
  return counts;
}

/** KL(p || uniform) = sum p log(p K) of a histogram (empty classes contribute 0). */
export function klFromUniform(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  let kl = 0;
  for (const c of counts) if (c > 0) kl += (c / total) * Math.log((c / total) * counts.length);
  return kl;
}

/** Classes whose share of the histogram is at least `threshold`. */
export function classesCovered(counts: readonly number[], threshold = CLASS_SHARE_THRESHOLD): number {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.filter((c) => c >= threshold * total).length;
}

/** Feature statistics of real images (the test split): the reference of the Fréchet distance. */
export async function realFeatureStats(classifier: MnistClassifier, split: MnistSplit): Promise<GaussianStats> {
  const { features } = await classifier.predict(mnistPixels(split));
  return featureStats(features, classifier.featureSize);
}

/** Scores generated images ([n, 784] f32 in [0, 1]) against real feature statistics. */
export async function classifierScore(classifier: MnistClassifier, generated: Float32Array, real: GaussianStats): Promise<ClassifierScore> {
  const { logits, features } = await classifier.predict(generated);
  const histogram = classHistogram(argmaxRows(logits, MNIST_CLASSES));
  return {
    samples: histogram.reduce((a, b) => a + b, 0),
    histogram,
    classesCovered: classesCovered(histogram),
    klFromUniform: klFromUniform(histogram),
    frechetDistance: frechetDistance(featureStats(features, classifier.featureSize), real),
    featureSize: classifier.featureSize,
  };
}
