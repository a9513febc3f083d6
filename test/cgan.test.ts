// The cgan preset does what it is for: a sample's digit is the one asked for. The engine's own
// classifier (97.9% on real test digits) reads 500 samples per requested digit; it must find the
// requested digit in at least 90% of the samples of every digit. At the preset's 4,000
// iterations it measured 0: 100, 1: 100, 2: 100, 3: 99.0, 4: 99.8, 5: 98.0, 6: 99.8, 7: 99.8,
// 8: 98.4, 9: 97.8 (%). Without the matching-aware D the same nets stayed at 78-83% for 5 and 9
// (docs/presets.md). A generator that ignores its label scores about 10% per digit.
//
// Training the preset takes minutes on a software adapter, so the trained generator is cached
// like the classifier (node_modules/.cache/webgpu-gan/, or $WEBGPU_GAN_CACHE), named by a hash of
// the preset's config and the checkpoint format: changing the preset retrains instead of
// loading a stale generator. On a cache miss the test trains the preset and says so.

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadMnist } from '../src/data/mnist-node.ts';
import type { Mnist } from '../src/data/mnist.ts';
import { argmaxRows } from '../src/eval/classifier.ts';
import { defaultClassifierCacheDir, loadOrTrainClassifier, type LoadedClassifier } from '../src/eval/classifier-cache.ts';
import { CHECKPOINT_FORMAT, readCheckpoint, saveCheckpoint, type CheckpointContents } from '../src/gan/checkpoint.ts';
import { preset } from '../src/gan/presets.ts';
import { Sampler } from '../src/gan/sampler.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import { download, downloadU32 } from '../src/tensor/tensor.ts';
import { useGpu } from './gpu.ts';

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

/** The trained cgan checkpoint for the preset as it is now: from the cache, or trained and cached. */
async function cganCheckpoint(): Promise<{ ckpt: CheckpointContents; how: string }> {
  const config = preset('cgan');
  const hash = createHash('sha256').update(`${CHECKPOINT_FORMAT}\n${JSON.stringify(config)}`).digest('hex').slice(0, 12);
  const path = join(defaultClassifierCacheDir(), `cgan-${hash}.safetensors`);
  try {
    const ckpt = readCheckpoint(new Uint8Array(await readFile(path)), path);
    if (ckpt.iteration === config.iterations) return { ckpt, how: `loaded the cached generator ${path}` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') console.log(`the cached generator ${path} is unusable (${(e as Error).message}); retraining`);
  }
  const began = performance.now();
  const trainer = await GanTrainer.create(gpu.ctx, config, { mnist });
  await trainer.run(config.iterations);
  const bytes = await saveCheckpoint(trainer);
  trainer.destroy();
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  const seconds = (performance.now() - began) / 1000;
  return { ckpt: readCheckpoint(bytes, path), how: `no cached generator: trained the cgan preset (${config.iterations} iterations) in ${seconds.toFixed(0)} s and cached it at ${path}` };
}

test('cgan: the classifier recognises the requested digit in >= 90% of the samples of every digit', async () => {
  const { ckpt, how } = await cganCheckpoint();
  console.log(`cgan: ${how}`);
  loaded = await loadOrTrainClassifier(gpu.ctx, mnist, { log: (line) => console.log(line) });
  const sampler = new Sampler(gpu.ctx, ckpt);
  const accuracy: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const images = await sampler.sample(SAMPLES_PER_DIGIT, 1, digit);
    const { logits } = await loaded.classifier.predict(images);
    const predicted = argmaxRows(logits, 10);
    accuracy.push(predicted.filter((p) => p === digit).length / SAMPLES_PER_DIGIT);
  }
  sampler.destroy();
  console.log(`cgan: requested digit recognised in ${accuracy.map((a, d) => `${d}: ${(100 * a).toFixed(1)}%`).join(', ')}`);
  const overall = accuracy.reduce((a, b) => a + b, 0) / accuracy.length;
  console.log(`cgan: overall ${(100 * overall).toFixed(1)}%`);
  accuracy.forEach((a, digit) => expect(a, `digit ${digit}`).toBeGreaterThanOrEqual(REQUIRED_PER_DIGIT));
}, 1_800_000);
