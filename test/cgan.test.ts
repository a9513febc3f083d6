// The cgan preset does what it is for: a sample's digit is the one asked for. The engine's own
// classifier (97.7% on real test digits) reads 500 samples per requested digit; it must find the
// requested digit in at least 90% of all 5,000, and in at least 60% for every single digit, six
// times chance. At the preset's 4,000 iterations it measured 93.2% overall and per digit 0: 100,
// 1: 99, 2: 98, 3: 98, 4: 94, 5: 82, 6: 99, 7: 93, 8: 91, 9: 78 (%): digits 5 and 9 stay below
// 90%, still rising with training (8,000 iterations at label scale 1 reached 83% for 5 and 91%
// for 9; docs/presets.md). A generator that ignores its label scores about 10% per digit.
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

const SAMPLES_PER_DIGIT = 500;
const REQUIRED_OVERALL = 0.9;
const REQUIRED_PER_DIGIT = 0.6;

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

test('cgan: the classifier recognises the requested digit in >= 90% of samples, and >= 60% for every digit', async () => {
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
  expect(overall).toBeGreaterThanOrEqual(REQUIRED_OVERALL);
  accuracy.forEach((a, digit) => expect(a, `digit ${digit}`).toBeGreaterThanOrEqual(REQUIRED_PER_DIGIT));
}, 1_800_000);
