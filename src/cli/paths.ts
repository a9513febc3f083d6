// Output locations, checked before any GPU or training work: a directory a tool writes into
// must exist or be creatable and take new files; a file it writes must not be a directory or a
// device. Directories are created one level at a time, because Node's recursive mkdir never
// returns on some paths (under /proc it loops on ENOENT). Every refusal is a UsageError that
// names the flag.

import { closeSync, mkdirSync, openSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './common.ts';
import { explainCode } from './files.ts';

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is a file; the walk up reaches it and says so.
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
}

/**
 * Makes sure `dir` is a directory this process can write new files in, creating it (and
 * missing parents) if needed. `flag` names the option the path came from, for the message.
 * With `writable: false` an existing directory is only required to exist (a cache read from);
 * `forFile` is the file the directory is for, named in messages instead of the directory.
 */
export function prepareOutputDirectory(flag: string, dir: string, options: { writable?: boolean; forFile?: string } = {}): void {
  if (dir.trim() === '') throw new UsageError(`${flag} takes a directory, got ''`);
  const shown = options.forFile ?? dir;
  const target = resolve(dir);
  const missing: string[] = [];
  let at = target;
  try {
    for (;;) {
      const info = statOrNull(at);
      if (info) {
        if (!info.isDirectory()) {
          throw new UsageError(at === target && !options.forFile ? `${flag} ${dir} is an existing file, not a directory` : `${flag} ${shown}: ${at} is a file, not a directory`);
        }
        break;
      }
      missing.unshift(at);
      const parent = dirname(at);
      if (parent === at) break;
      at = parent;
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${flag} ${shown}: cannot look at ${at}: ${explainCode(e)}`);
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statOrNull(d)?.isDirectory()) continue;
      throw new UsageError(`${flag} ${shown}: cannot create the directory ${d}: ${explainCode(e)}`);
    }
  }
  if (options.writable === false && !missing.length) return;
  // A probe file named like writeFileAtomic's temporaries, so a kill right here leaves nothing
  // that the next run's clean-up does not remove.
  const probe = join(target, `.probe.${process.pid}.${Date.now()}.tmp`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    throw new UsageError(`${flag} ${shown}: cannot write files in ${options.forFile ? target : 'it'}: ${explainCode(e)}`);
  }
}

/**
 * Makes sure `path` can be written as a file: its directory is prepared as above, and the path
 * is not a directory or anything but a regular file (writing over a device or a pipe is refused).
 */
export function prepareOutputFile(flag: string, path: string): void {
  if (path.trim() === '') throw new UsageError(`${flag} takes a file name, got ''`);
  let info: Stats | null;
  try {
    info = statOrNull(path);
  } catch (e) {
    throw new UsageError(`${flag} ${path}: cannot look at it: ${explainCode(e)}`);
  }
  if (info?.isDirectory()) throw new UsageError(`${flag} ${path} is an existing directory, not a file`);
  if (info && !info.isFile()) throw new UsageError(`${flag} ${path} exists and is not a regular file (a device, a pipe or a socket)`);
  prepareOutputDirectory(flag, dirname(path), { forFile: path });
}
