// What the convolutional presets reach, judged by the engine's own classifiers as `npm run eval`
// does (classes with >= 5% of 10,000 samples, KL of the class histogram from uniform, Fréchet
// distance of the classifier's features against the test images). Each preset's full training is
// a long run (test/long-runs.ts): judged when cached or when WEBGPU_GAN_LONG_TESTS=1; a short
// guard trains a few hundred iterations on every `npm test` and must beat an untrained G by the
// margin a working training shows, so a broken layer, loss or schedule fails here first.

import { afterAll, describe, expect, test } from 'vitest';
import type { ImageDataset } from '../src/data/datasets.ts';
import { loadImageDataset } from '../src/data/datasets-node.ts';
import type { Mnist } from '../src/data/mnist.ts';
import { loadOrTrainClassifier, type LoadedClassifier } from '../src/eval/classifier-cache.ts';
import { evaluateGenerator } from '../src/eval/evaluate.ts';
import { gaussianMmd } from '../src/eval/mmd.ts';
import { readCheckpoint, saveCheckpoint, type CheckpointContents } from '../src/gan/checkpoint.ts';
import type { GanConfig } from '../src/gan/config.ts';
import { preset } from '../src/gan/presets.ts';
import { Sampler } from '../src/gan/sampler.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import { useGpu } from './gpu.ts';
import { longRun, longRunAvailable } from './long-runs.ts';

const gpu = useGpu();
const data = new Map<ImageDataset, Mnist>();
const classifiers = new Map<ImageDataset, LoadedClassifier>();
afterAll(() => {
  for (const c of classifiers.values()) c.classifier.destroy();
});

async function imagesOf(dataset: ImageDataset): Promise<Mnist> {
  if (!data.has(dataset)) data.set(dataset, await loadImageDataset(dataset));
  return data.get(dataset)!;
}

/** The classifier score of a checkpoint's generator: `samples` samples against the test images. */
async function score(ckpt: CheckpointContents, dataset: ImageDataset, samples: number) {
  const images = await imagesOf(dataset);
  if (!classifiers.has(dataset)) classifiers.set(dataset, await loadOrTrainClassifier(gpu.ctx, images, { dataset, log: (l) => console.log(l) }));
  const loaded = classifiers.get(dataset)!;
  const sampler = new Sampler(gpu.ctx, ckpt);
  const report = await evaluateGenerator(gpu.ctx, sampler, { dataset, images, classifier: loaded.classifier, samples, skipParzen: true });
  sampler.destroy();
  const c = report.classifier!;
  console.log(`${ckpt.config.preset} at iteration ${ckpt.iteration}: ${c.classesCovered}/10 classes >= 5%, KL ${c.klFromUniform.toFixed(3)}, FD ${c.frechetDistance.toFixed(2)} (${samples} samples)`);
  return c;
}

/** Checkpoints of G untrained and after `iterations` of `config`'s training. */
async function shortRun(config: GanConfig, dataset: ImageDataset, iterations: number): Promise<[CheckpointContents, CheckpointContents]> {
  const trainer = await GanTrainer.create(gpu.ctx, { ...config, iterations }, { [dataset]: await imagesOf(dataset) });
  const before = readCheckpoint(await saveCheckpoint(trainer));
  await trainer.run(iterations);
  const after = readCheckpoint(await saveCheckpoint(trainer));
  trainer.destroy();
  return [before, after];
}

/**
 * Pixel-space MMD^2 of `n` samples of G's trained weights against the first `n` test images, at
 * a given kernel width. The trained weights, not the average: a guard's few iterations move the
 * average of a preset's ~1,000 updates little from the untrained G (whether it averages right is
 * the whole-iteration check's, test/gan-reference.test.ts).
 */
async function pixelMmd(ckpt: CheckpointContents, dataset: ImageDataset, n: number, sigma: number): Promise<number> {
  const images = await imagesOf(dataset);
  const real = Float32Array.from(images.test.images.subarray(0, n * 784), (v) => v / 255);
  const sampler = new Sampler(gpu.ctx, ckpt, { weights: 'trained' });
  const samples = await sampler.sample(n, 7);
  sampler.destroy();
  return (await gaussianMmd(gpu.ctx, samples, real, 784, { sigma })).mmd2;
}

interface Judged {
  name: string;
  dataset: ImageDataset;
  /**
   * The short guard: after `guard.iterations`, pixel MMD^2 at most `guard.ratio` of the untrained
   * G's. Measured on lavapipe after 100: 0.037 (dcgan) and 0.079 (dcgan-fashion); after 150, 0.013
   * and 0.046 (before G's 3x3 conv, 0.010 and 0.020; with G at the paper's 2e-4, 0.112 and 0.098),
   * and 0.65 for dcgan after 50 before that conv. 100 rather than 150 keeps the two guards at the
   * time they took before G's conv made an iteration a third dearer (77 s against 100 s).
   */
  guard: { iterations: number; ratio: number };
  /**
   * What the preset's full run must keep reaching: classes covered, KL from uniform and (when set)
   * an FD bound, each a little below the measured run (docs/presets.md) so a regression fails
   * while another adapter's rounding does not. Of dcgan's aims (10/10, KL < 0.03, FD <= 5) only
   * the classes are reached at the preset's size: measured 10/10 (5s 5.5%, so the bound keeps 9),
   * KL 0.042, FD 16.8 at 4,000 iterations. dcgan-fashion meets its aims (10/10, KL < 0.05):
   * measured 10/10, KL 0.018, FD 35.5.
   */
  classes: number;
  kl: number;
  fd?: number;
}

const JUDGED: Judged[] = [
  { name: 'dcgan', dataset: 'mnist', guard: { iterations: 100, ratio: 0.3 }, classes: 9, kl: 0.06, fd: 19 },
  { name: 'dcgan-fashion', dataset: 'fashion', guard: { iterations: 100, ratio: 0.3 }, classes: 10, kl: 0.05, fd: 38 },
];

/** The kernel width of the guard's MMD: about the median distance between two images (28 x 28 in [0, 1]). */
const GUARD_SIGMA = 10;
const GUARD_SAMPLES = 1000;

describe.each(JUDGED)('$name', ({ name, dataset, guard, classes, kl, fd }) => {
  test(`short guard: ${guard.iterations} iterations take pixel MMD^2 to at most ${guard.ratio} of the untrained G's`, async () => {
    const [before, after] = await shortRun(preset(name), dataset, guard.iterations);
    const untrained = await pixelMmd(before, dataset, GUARD_SAMPLES, GUARD_SIGMA);
    const trained = await pixelMmd(after, dataset, GUARD_SAMPLES, GUARD_SIGMA);
    console.log(`${name}: pixel MMD^2 ${untrained.toFixed(4)} untrained, ${trained.toFixed(4)} after ${guard.iterations} iterations (ratio ${(trained / untrained).toFixed(3)})`);
    expect(trained).toBeLessThanOrEqual(guard.ratio * untrained);
  }, 900_000);

  test.skipIf(!longRunAvailable(name, preset(name)))(`trained to its iterations: ${classes}/10 classes, KL < ${kl}${fd ? `, FD <= ${fd}` : ''}`, async () => {
    const run = (await longRun(gpu.ctx, name, preset(name), { [dataset]: await imagesOf(dataset) }))!;
    console.log(`${name}: ${run.how}`);
    const c = await score(run.ckpt, dataset, 10_000);
    expect(c.classesCovered).toBeGreaterThanOrEqual(classes);
    expect(c.klFromUniform).toBeLessThan(kl);
    if (fd !== undefined) expect(c.frechetDistance).toBeLessThanOrEqual(fd);
  }, 3_600_000);
});
