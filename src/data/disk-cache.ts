// The engine's on-disk cache (Node only): node_modules/.cache/webgpu-gan/, or $WEBGPU_GAN_CACHE,
// holding what is slow to rebuild (the evaluation classifiers, converted data sets). Files are
// written whole or not at all: a temporary file, flushed to disk, then renamed over the name,
// so a crash or a concurrent reader never sees half a file.

import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export function engineCacheDir(): string {
  return process.env.WEBGPU_GAN_CACHE || fileURLToPath(new URL('../../node_modules/.cache/webgpu-gan/', import.meta.url));
}

/** Writes `data` to `path` atomically and durably (temporary file, fsync, rename). */
export async function writeCacheFile(path: string, data: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Unique per writer, so processes filling the same cache entry never share a temporary file.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const file = await open(tmp, 'w');
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  // The rename itself reaches the disk when the directory is flushed; not every platform allows it.
  const dir = await open(dirname(path), 'r').catch(() => null);
  await dir?.sync().catch(() => undefined);
  await dir?.close();
}
