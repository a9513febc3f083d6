// The cgan preset does what it is for: a sample's digit is the one asked for. The engine's own
// classifier (97.9% on real test digits) reads 500 samples per requested digit; it must find the
// requested digit in at least 90% of the samples of every digit. At the preset's 4,000
// iterations it measured 0: 100, 1: 100, 2: 100, 3: 99.0, 4: 99.8, 5: 98.0, 6: 99.8, 7: 99.8,
// 8: 98.4, 9: 97.8 (%). Without the matching-aware D the same nets stayed at 78-83% for 5 and 9
// (docs/presets.md). A generator that ignores its label scores about 10% per digit.
//
// Training the preset takes minutes on a software adapter, so the trained generator is a long run
// (test/long-runs.ts): cached by a hash of its config; on a cold cache (a clean clone) the long
// judgement is skipped unless WEBGPU_GAN_LONG_TESTS=1, and a short guard runs instead.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadMnist } from '../src/data/mnist-node.ts';
import type { Mnist } from '../src/data/mnist.ts';
import { argmaxRows } from '../src/eval/classifier.ts';
import { loadOrTrainClassifier, type LoadedClassifier } from '../src/eval/classifier-cache.ts';
import { readCheckpoint, saveCheckpoint, type CheckpointContents } from '../src/gan/checkpoint.ts';
import { preset } from '../src/gan/presets.ts';
import { Sampler } from '../src/gan/sampler.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import { download, downloadU32 } from '../src/tensor/tensor.ts';
import { useGpu } from './gpu.ts';
import { longRun, longRunAvailable } from './long-runs.ts';

const gpu = useGpu();
let mnist: Mnist;
let loaded: LoadedClassifier | undefined;
beforeAll(async () => {
  mnist = await loadMnist();
});
afterAll(() => {
  loaded?.classifier.destroy();
});

test("matching-aware D: its batch is [real | label], [fake | label], [the same real | another label]", async () => {
  const b = 8;
  const base = preset('cgan');
  const config = { ...base, batch: b, iterations: 2, conditional: { ...base.conditional!, mismatch: true } };
  const trainer = await GanTrainer.create(gpu.ctx, config, { mnist });
  const last = (await trainer.run(2))!;
  const draw = async (name: string) => Array.from(await download(gpu.ctx, trainer.draws.get(name)!));
  const labels = async (name: string) => Array.from(await downloadU32(gpu.ctx, trainer.draws.get(name)!));
  const [x, real, wrong, shifts] = [await draw('D1.x'), await labels('D1.real labels'), await labels('D1.mismatched labels'), await labels('D1.label shifts')];
  trainer.destroy();
  const cols = 794;
  const hot = config.conditional.labelScale!;
  expect(x.length).toBe(3 * b * cols);
  for (let i = 0; i < b; i++) {
    expect(wrong[i], `row ${i}`).not.toBe(real[i]);
    expect(wrong[i]).toBe((real[i] + 1 + (shifts[i] % 9)) % 10);
    const realRow = x.slice(i * cols, (i + 1) * cols);
    const mismatched = x.slice((2 * b + i) * cols, (2 * b + i + 1) * cols);
    expect(mismatched.slice(0, 784)).toEqual(realRow.slice(0, 784));
    expect(realRow.slice(784)).toEqual(Array.from({ length: 10 }, (_, c) => (c === real[i] ? hot : 0)));
    expect(mismatched.slice(784)).toEqual(Array.from({ length: 10 }, (_, c) => (c === wrong[i] ? hot : 0)));
  }
  // The metrics score the real and fake rows only: D's means stay probabilities of those halves.
  for (const v of [last.dLoss, last.gLoss, last.dReal, last.dFake]) expect(Number.isFinite(v)).toBe(true);
  expect(last.dReal).toBeGreaterThan(0);
  expect(last.dReal).toBeLessThan(1);
});

const SAMPLES_PER_DIGIT = 500;
const REQUIRED_PER_DIGIT = 0.9;

/** The share of samples per requested digit in which the classifier finds that digit. */
async function requestedDigitRates(ckpt: CheckpointContents, samples: number): Promise<number[]> {
  loaded ??= await loadOrTrainClassifier(gpu.ctx, mnist, { log: (line) => console.log(line) });
  const sampler = new Sampler(gpu.ctx, ckpt);
  const accuracy: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const images = await sampler.sample(samples, 1, digit);
    const predicted = argmaxRows((await loaded.classifier.predict(images)).logits, 10);
    accuracy.push(predicted.filter((p) => p === digit).length / samples);
  }
  sampler.destroy();
  return accuracy;
}

const format = (rates: number[]) => rates.map((a, d) => `${d}: ${(100 * a).toFixed(1)}%`).join(', ');

test.skipIf(!longRunAvailable('cgan', preset('cgan')))('cgan: the classifier recognises the requested digit in >= 90% of the samples of every digit', async () => {
  const run = (await longRun(gpu.ctx, 'cgan', preset('cgan'), { mnist }))!;
  console.log(`cgan: ${run.how}`);
  const accuracy = await requestedDigitRates(run.ckpt, SAMPLES_PER_DIGIT);
  console.log(`cgan: requested digit recognised in ${format(accuracy)}; overall ${(100 * accuracy.reduce((a, b) => a + b, 0) / 10).toFixed(1)}%`);
  accuracy.forEach((a, digit) => expect(a, `digit ${digit}`).toBeGreaterThanOrEqual(REQUIRED_PER_DIGIT));
}, 1_800_000);

// The short guard: GUARD_ITERATIONS of the preset already make the label steer G (250 measured
// 87.2% overall on lavapipe, 42-100% per digit; 500 measured 98.4%). SHORT_FLOOR sits well under
// that and far above the 10% of a generator that ignores its label, or of a D that cannot tell
// the labels apart, which is what the long test would catch.
const GUARD_ITERATIONS = 250;
const SHORT_FLOOR = 0.5;

test(`cgan short guard: after ${GUARD_ITERATIONS} iterations the requested digit is recognised in >= ${100 * SHORT_FLOOR}% of samples overall`, async () => {
  const trainer = await GanTrainer.create(gpu.ctx, { ...preset('cgan'), iterations: GUARD_ITERATIONS }, { mnist });
  await trainer.run(GUARD_ITERATIONS);
  const ckpt = readCheckpoint(await saveCheckpoint(trainer));
  trainer.destroy();
  const rates = await requestedDigitRates(ckpt, 100);
  const overall = rates.reduce((a, b) => a + b, 0) / 10;
  console.log(`cgan after ${GUARD_ITERATIONS} iterations: ${format(rates)}; overall ${(100 * overall).toFixed(1)}%`);
  expect(overall).toBeGreaterThanOrEqual(SHORT_FLOOR);
}, 600_000);
