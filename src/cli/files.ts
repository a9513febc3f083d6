// Node-side file output for the command-line tools: atomic writes, CSV appends, pictures.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { encodePng } from '../io/png.ts';
import type { Rgba } from '../viz/image.ts';

/** Writes via a temporary file and a rename, so a reader never sees half a file. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export function writePng(path: string, img: Rgba): Promise<void> {
  return writeFileAtomic(path, encodePng(img));
}

export async function readFileOrExplain(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message}`);
  }
}
