// Users' own data as the engine holds it before upload: one sample shape, a count, and the
// samples row-major, bytes kept as bytes. Platform-free: the Node edge (dataset-node.ts) reads
// files and folders and hands their bytes to the parsers here; a browser can do the same with
// picked files.
//
// Formats, by path: a folder is a folder of images (image-folder.ts); a file ending in .npy is
// NumPy (io/npy.ts), in .csv a CSV of points (csv.ts); a file named like MNIST's
// (`...-idx3-ubyte`, `...idx1-ubyte`, `.idx`) or starting with an IDX magic number is IDX.

import { parseNpy } from '../io/npy.ts';
import { parseCsvPoints } from './csv.ts';
import { DataError, parseIdx } from './idx.ts';

export type DatasetFormat = 'npy' | 'csv' | 'idx' | 'images';

export interface Dataset {
  /** The file or folder it came from, for messages. */
  source: string;
  format: DatasetFormat;
  /** One sample's shape: [features] for points, [height, width, channels] for images (NHWC). */
  shape: number[];
  count: number;
  /** Row-major samples: data that came as bytes stays u8 (images, uint8 .npy, IDX); the rest f32. */
  values: Uint8Array | Float32Array;
  /** Image folders: entries that were not read (other files; sub-folders, with a trailing '/'). */
  skipped?: string[];
  /** CSV with a header: the column names. */
  columns?: string[];
}

export interface LoadOptions {
  /** Image folders: crop each picture to its centred square and scale it to imageSize x imageSize. */
  imageSize?: number;
  /** Image folders: 1 (gray) or 3 (RGB); by default 3 if any picture has colour, else 1. */
  channels?: 1 | 3;
}

/** Values per sample. */
export function sampleSize(d: Pick<Dataset, 'shape'>): number {
  return d.shape.reduce((a, b) => a * b, 1);
}

/** The sample shape of an N x ... array: [D] stays, [H, W] gains one channel, [H, W, C] stays. */
function sampleShape(dims: number[], source: string, what: string): number[] {
  const [count, ...rest] = dims;
  if (count < 1) throw new DataError(`${source}: ${what} holds no samples (shape ${dims.join('x')})`);
  if (rest.length > 3) throw new DataError(`${source}: ${what} has ${dims.length} dimensions; expected N x D, N x H x W or N x H x W x C`);
  if (rest.some((d) => d < 1)) throw new DataError(`${source}: ${what} has empty samples (shape ${dims.join('x')})`);
  if (rest.length === 0) return [1];
  return rest.length === 2 ? [...rest, 1] : rest;
}

/** The first non-finite value, as a message naming its sample, or null. */
function firstNonFinite(values: Float32Array, perSample: number): string | null {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return `sample ${Math.floor(i / perSample)} (0-based; value ${i % perSample} of it) is ${values[i]}`;
  }
  return null;
}

/**
 * A .npy array as samples: shape (N,) is N one-feature points, (N, D) points, (N, H, W) gray
 * images and (N, H, W, C) images. uint8 stays bytes; float32 (and float64, converted) must be finite.
 */
export function datasetFromNpy(bytes: Uint8Array, source: string): Dataset {
  const array = parseNpy(bytes, source);
  if (array.shape.length === 0) throw new DataError(`${source}: a scalar (shape ()), not an array of samples`);
  const shape = sampleShape(array.shape, source, 'the array');
  if (array.dtype === 'float32') {
    const bad = firstNonFinite(array.data, sampleSize({ shape }));
    if (bad) throw new DataError(`${source}: ${bad}; NaN and infinities are not data`);
  }
  return { source, format: 'npy', shape, count: array.shape[0], values: array.data };
}

/** A CSV of points: [dims] features per sample, float32, in the data's own units. */
export function datasetFromCsv(text: string, source: string): Dataset {
  const csv = parseCsvPoints(text, source);
  return { source, format: 'csv', shape: [csv.dims], count: csv.count, values: csv.values, ...(csv.columns ? { columns: csv.columns } : {}) };
}

/** An unsigned-byte IDX file of N samples; a 1-D file (labels) is refused. */
export function datasetFromIdx(bytes: Uint8Array, source: string): Dataset {
  const idx = parseIdx(bytes, source);
  if (idx.shape.length === 1) {
    throw new DataError(`${source}: a 1-D IDX file (${idx.shape[0]} values) holds labels, not samples; pass the images file (e.g. ...-idx3-ubyte)`);
  }
  const shape = sampleShape(idx.shape, source, 'the IDX file');
  return { source, format: 'idx', shape, count: idx.shape[0], values: idx.data };
}

const IDX_NAME = /([.-]idx\d-ubyte|\.idx)$/i;

/** Whether bytes start like an IDX file: two zero bytes, a known element type, 1-4 dimensions. */
export function looksLikeIdx(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 8 && bytes[0] === 0 && bytes[1] === 0 && [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e].includes(bytes[2]) && bytes[3] >= 1 && bytes[3] <= 4;
}

/** Which loader reads a file, from its name and (for IDX without an IDX name) its first bytes. */
export function fileFormat(name: string, head: Uint8Array): Exclude<DatasetFormat, 'images'> {
  const lower = name.toLowerCase();
  if (lower.endsWith('.npy')) return 'npy';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.gz')) throw new DataError(`${name}: a compressed file; decompress it first (gunzip)`);
  if (lower.endsWith('.npz')) throw new DataError(`${name}: an .npz archive; save the one array to train on with np.save(path, arr) as .npy`);
  if (/\.(png|jpe?g)$/.test(lower)) throw new DataError(`${name}: a single image; pass the folder that holds the images`);
  if (IDX_NAME.test(lower) || looksLikeIdx(head)) return 'idx';
  throw new DataError(`${name}: cannot tell the format; expected a folder of .png/.jpg images, a .npy file, a .csv file or an IDX file (...-idx3-ubyte)`);
}

/** Parses a file's bytes by its format (image folders are read by ImageStack). */
export function datasetFromFile(name: string, bytes: Uint8Array): Dataset {
  switch (fileFormat(name, bytes)) {
    case 'npy':
      return datasetFromNpy(bytes, name);
    case 'csv':
      return datasetFromCsv(new TextDecoder('utf-8').decode(bytes), name);
    case 'idx':
      return datasetFromIdx(bytes, name);
  }
}

/**
 * Mean and population standard deviation of each column of [count, dims] values, in float64
 * over the rows in order. A constant column (every value equal) gets std 1, so dividing by the
 * std when standardising leaves it at 0 instead of dividing by zero.
 */
export function columnStats(values: ArrayLike<number>, count: number, dims: number): { mean: number[]; std: number[] } {
  if (!(count >= 1 && dims >= 1) || values.length !== count * dims) {
    throw new DataError(`columnStats: ${values.length} values are not ${count} rows of ${dims} columns`);
  }
  const mean = new Array<number>(dims).fill(0);
  const std = new Array<number>(dims).fill(0);
  const constant = new Array<boolean>(dims).fill(true);
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < dims; c++) {
      const v = values[r * dims + c];
      mean[c] += v;
      if (v !== values[c]) constant[c] = false;
    }
  }
  for (let c = 0; c < dims; c++) mean[c] /= count;
  // Two passes: squared deviations from the mean, not E[x^2] - E[x]^2, which cancels badly.
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < dims; c++) {
      const d = values[r * dims + c] - mean[c];
      std[c] += d * d;
    }
  }
  for (let c = 0; c < dims; c++) {
    if (constant[c]) {
      mean[c] = values[c];
      std[c] = 1;
    } else std[c] = Math.sqrt(std[c] / count);
  }
  return { mean, std };
}

/** Bytes the samples take as the engine uploads them (u8 as bytes, f32 as 4 bytes each). */
export function datasetBytes(d: Pick<Dataset, 'values'>): number {
  return d.values.byteLength;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/**
 * Null when the data fits in one buffer of `limitBytes` (the adapter's
 * maxStorageBufferBindingSize), else a message naming the data's size, the limit and what to do.
 */
export function sizeLimitMessage(d: Dataset, limitBytes: number): string | null {
  const bytes = datasetBytes(d);
  if (bytes <= limitBytes) return null;
  const perSample = sampleSize(d) * d.values.BYTES_PER_ELEMENT;
  const fit = Math.floor(limitBytes / perSample);
  const kind = d.values instanceof Uint8Array ? 'bytes' : 'float32 values';
  const head =
    `${d.source}: the data is ${formatBytes(bytes)} (${d.count} samples of ${d.shape.join('x')} ${kind}), ` +
    `more than this adapter's limit of ${formatBytes(limitBytes)} for one storage buffer (maxStorageBufferBindingSize); `;
  const fewer = fit >= 1 ? `use fewer samples (at most ${fit} fit)` : 'use smaller samples (not even one fits)';
  if (d.format === 'images') {
    const gray = d.shape[2] === 3 ? ', one channel (--channels 1)' : '';
    return `${head}${fewer}, smaller images (--image-size N)${gray}, or an adapter with a larger limit`;
  }
  if (d.shape.length === 3) {
    return `${head}${fewer}, smaller images or fewer channels (resave the array), or an adapter with a larger limit`;
  }
  return `${head}${fewer} (a random subset of rows), fewer features, or an adapter with a larger limit`;
}
