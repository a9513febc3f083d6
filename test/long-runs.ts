// Long trainings for the tests that judge what a preset reaches: each trained once and cached
// by a hash of its config and the checkpoint format (node_modules/.cache/webgpu-gan/, or
// $WEBGPU_GAN_CACHE), so changing a preset retrains instead of judging a stale generator.
//
// A cold cache trains only when asked (WEBGPU_GAN_LONG_TESTS=1, `npm run test:long`): a clean
// clone's `npm test` (CI) skips the long judgements and runs each one's short guard instead, a
// few hundred iterations that fail when the training is broken in a way the long test would
// catch. With the cache warm (a developer's machine after one long run), both run.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostData } from '../src/data/source.ts';
import { engineCacheDir, writeCacheFile } from '../src/data/disk-cache.ts';
import { CHECKPOINT_FORMAT, readCheckpoint, saveCheckpoint, type CheckpointContents } from '../src/gan/checkpoint.ts';
import type { GanConfig } from '../src/gan/config.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import type { GpuContext } from '../src/gpu/context.ts';

export const LONG_TESTS = process.env.WEBGPU_GAN_LONG_TESTS === '1';

export function longRunPath(name: string, config: GanConfig): string {
  const hash = createHash('sha256').update(`${CHECKPOINT_FORMAT}\n${JSON.stringify(config)}`).digest('hex').slice(0, 12);
  return join(engineCacheDir(), `${name}-${hash}.safetensors`);
}

/** The cached checkpoint of `config` trained to its iterations, if there is one. */
export async function cachedRun(name: string, config: GanConfig): Promise<CheckpointContents | null> {
  const path = longRunPath(name, config);
  try {
    const ckpt = readCheckpoint(new Uint8Array(await readFile(path)), path);
    return ckpt.iteration === config.iterations ? ckpt : null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') console.log(`the cached run ${path} is unusable (${(e as Error).message}); it will be retrained`);
    return null;
  }
}

/**
 * The checkpoint of `config` trained to its iterations: from the cache, or trained now and
 * cached when long tests are on; null when the cache is cold and they are off.
 */
export async function longRun(ctx: GpuContext, name: string, config: GanConfig, host: HostData): Promise<{ ckpt: CheckpointContents; how: string } | null> {
  const path = longRunPath(name, config);
  const cached = await cachedRun(name, config);
  if (cached) return { ckpt: cached, how: `loaded the cached run ${path}` };
  if (!LONG_TESTS) return null;
  const began = performance.now();
  const trainer = await GanTrainer.create(ctx, config, host);
  await trainer.run(config.iterations);
  const bytes = await saveCheckpoint(trainer);
  trainer.destroy();
  await writeCacheFile(path, bytes);
  const seconds = (performance.now() - began) / 1000;
  return { ckpt: readCheckpoint(bytes, path), how: `trained ${name} (${config.iterations} iterations) in ${seconds.toFixed(0)} s and cached it at ${path}` };
}

/** Whether the long judgement of `config` runs: its run is cached, or long tests are on. */
export function longRunAvailable(name: string, config: GanConfig): boolean {
  if (LONG_TESTS || existsSync(longRunPath(name, config))) return true;
  console.log(`${name}: no cached run at ${longRunPath(name, config)}: the long test is skipped (npm run test:long trains and caches it); its short guard runs`);
  return false;
}
