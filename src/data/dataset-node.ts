// The Node edge for users' data: reads a file, or a folder of images, and hands the bytes to the
// platform-free loaders (dataset.ts, image-folder.ts).
//
// A folder: its .png/.jpg/.jpeg files (any case) in code-unit name order. Sub-folders are not
// searched (one folder is one data set; nothing is picked up by surprise); they and every other
// entry (README, .DS_Store) are listed in `skipped` so a front end can warn about them.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { datasetFromFile, type Dataset, type LoadOptions } from './dataset.ts';
import { DataError } from './idx.ts';
import { byName, checkImageOptions, ImageStack, isImageName } from './image-folder.ts';

function cannotRead(path: string, e: unknown): DataError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' ? 'permission denied' : (code ?? (e as Error).message);
  return new DataError(`cannot read ${path}: ${why}`);
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (e) {
    throw cannotRead(path, e);
  }
}

/** Loads a data set from a .npy, .csv or IDX file, or a folder of PNG/JPEG images. */
export async function loadDataset(path: string, opts: LoadOptions = {}): Promise<Dataset> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(path)).isDirectory();
  } catch (e) {
    throw cannotRead(path, e);
  }
  checkImageOptions(opts, path);
  if (isFolder) return loadImageFolder(path, opts);
  for (const [flag, set] of [['--image-size', opts.imageSize !== undefined], ['--channels', opts.channels !== undefined]] as const) {
    if (set) throw new DataError(`${path}: ${flag} applies to folders of images, not to a file`);
  }
  return datasetFromFile(path, await readBytes(path));
}

async function loadImageFolder(path: string, opts: LoadOptions): Promise<Dataset> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (e) {
    throw cannotRead(path, e);
  }
  entries.sort((a, b) => byName(a.name, b.name));
  const stack = new ImageStack(path, opts);
  const skipped: string[] = [];
  for (const entry of entries) {
    // A symbolic link counts as what it points to.
    const isFolder = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(join(path, entry.name)).catch(() => undefined))?.isDirectory());
    if (isFolder) skipped.push(`${entry.name}/`);
    else if (isImageName(entry.name)) {
      const file = join(path, entry.name);
      stack.add(file, await readBytes(file));
    } else skipped.push(entry.name);
  }
  if (stack.count === 0) {
    const held = skipped.length === 0 ? 'it is empty' : `it holds ${listNames(skipped)}; sub-folders are not searched`;
    throw new DataError(`${path}: no .png, .jpg or .jpeg images in this folder (${held})`);
  }
  return stack.finish(skipped);
}

function listNames(names: string[]): string {
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}
