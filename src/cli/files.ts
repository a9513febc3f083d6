// Node-side file output for the command-line tools: durable atomic writes, the temporary files
// interrupted writes leave behind, pictures, and reading files with a plain-words reason.

import { readdirSync, unlinkSync } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { encodePng } from '../io/png.ts';
import type { Rgba } from '../viz/image.ts';

/** A temporary file of writeFileAtomic: `.NAME.PID.MILLISECONDS.tmp` (older ones: `.PID.MILLISECONDS.tmp`). */
const TEMP_FILE = /^\.(?:.+\.)?(\d+)\.\d+\.tmp$/;

/** An errno code in words, with the code kept for searching. */
export function explainCode(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    ENOTDIR: 'a part of the path is a file, not a directory',
    EISDIR: 'it is a directory',
    EEXIST: 'it already exists',
    ENAMETOOLONG: 'the name is too long',
    ELOOP: 'too many symbolic links',
    EIO: 'input/output error',
  };
  if (code && words[code]) return `${words[code]} (${code})`;
  return code ?? (e as Error).message;
}

/**
 * Writes via a temporary file in the same directory, flushed to the disk before it is renamed
 * over `path`: a reader (or a crash) sees the old file or the new one, never half of one. The
 * directory must exist (the CLIs check and create their output directories up front).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new Error(`cannot write ${path}: ${explainCode(e)}`);
  }
  await syncDirectory(dir);
}

/** Flushes a directory's entries (the rename) to the disk, where the platform allows it. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms and file systems cannot open or sync a directory; the data itself is synced.
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the temporary files that writes interrupted by a kill or a crash left in `dir`:
 * those whose writing process is gone, and with `forFile` only the temporaries of that file
 * (in a directory the tools do not own). Returns their names.
 */
export function removeStaleTempFiles(dir: string, forFile?: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (forFile !== undefined && !name.startsWith(`.${forFile}.`)) continue;
    const pid = Number(TEMP_FILE.exec(name)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // Gone already, or not ours to delete: leave it.
    }
  }
  return removed;
}

export function writePng(path: string, img: Rgba): Promise<void> {
  return writeFileAtomic(path, encodePng(img));
}

/**
 * The bytes of a regular file, or an error that says in words why not (a pipe or a device is
 * refused, not waited on). `flag`, when given, starts the message.
 */
export async function readFileOrExplain(path: string, what: string, flag?: string): Promise<Uint8Array> {
  const prefix = flag ? `${flag}: ` : '';
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new Error(`${prefix}cannot read ${what} ${path}: it is a directory`);
    if (!info.isFile()) throw new Error(`${prefix}cannot read ${what} ${path}: not a regular file`);
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if (!(e as NodeJS.ErrnoException).code) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${prefix}cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : explainCode(e)}`);
  }
}
