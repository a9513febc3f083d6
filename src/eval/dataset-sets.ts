// A user's data set as evaluation sets: the rows G never trained on (one in ten, source.ts's
// heldOutRows) for the MMD and as the Parzen estimate's test points, a validation part of the
// training rows for the Parzen window's width (as MNIST's protocol takes training rows
// 50,000-50,999), all in the data's units (what the Sampler returns: bytes as [0, 1]
// intensities, floats as they are in the file). Also: whether the file is still the data the
// checkpoint trained on, the Parzen width grid, and whether 2-D points are a known mixture.

import { columnStats, sampleSize, type Dataset } from '../data/dataset.ts';
import { DataError } from '../data/idx.ts';
import { heldOutRows, trainingRows, type DataSpec } from '../data/source.ts';
import { assignModes, MIXTURES, type Mixture2d } from '../data/toy.ts';
import { PARZEN_SIGMAS } from './parzen.ts';

export type DatasetSpec = Extract<DataSpec, { kind: 'dataset' }>;

/** Training rows the Parzen width is chosen on, at most (MNIST's protocol: 1,000). */
export const VALIDATION_ROWS = 1000;

/**
 * Rows per side of the MMD, at most: the first samples and evenly spaced held-out rows. Its
 * cost grows with the square of the rows (10,000 16x16x3 samples took 44 s on 2 CPU cores;
 * 2,000 take about 2 s), and its spread is set by the smaller side, usually the held-out rows.
 */
export const MMD_MAX_ROWS = 2000;

/** Share of a 2-D data set's rows within 3 std of a mixture's modes that makes it that mixture. */
export const KNOWN_MIXTURE_SHARE = 0.9;

/**
 * The Parzen width grid for data that is not bytes: 15 values log-spaced from 0.001 s to 3.16 s
 * (four per decade), s the root mean column variance of the training rows: the window's best
 * width scales with the data; in few dimensions it lies far below s (thin structures such as
 * the example spiral's arms, 0.05 s wide, want about 0.01 s), in many dimensions near s.
 */
export function scaledParzenSigmas(scale: number): number[] {
  return Array.from({ length: 15 }, (_, i) => scale * 10 ** (-3 + i / 4));
}

export interface DatasetSets {
  dim: number;
  /** Held-out rows, row-major, in the data's units (empty below 20 rows). */
  heldOut: Float32Array;
  heldOutRows: number;
  /** At most MMD_MAX_ROWS of the held-out rows, evenly spaced: the MMD's real side. */
  mmdReal: Float32Array;
  /** Evenly spaced training rows for the Parzen width, in the data's units. */
  validation: Float32Array;
  validationRows: number;
  trainingRows: number;
  /** The Parzen width grid: MNIST's [0.1, 1] for bytes ([0, 1] intensities), else scaled to the data. */
  sigmas: number[];
}

/** The first time the config and the file disagree, as a sentence; null when they agree. */
function mismatch(spec: DatasetSpec, d: Dataset): string | null {
  if (d.format !== spec.format) return `it reads as ${d.format} now, the checkpoint trained on ${spec.format}`;
  if (d.shape.join('x') !== spec.shape.join('x') || d.count !== spec.count) {
    return `it holds ${d.count} samples of ${d.shape.join('x')} now, the checkpoint trained on ${spec.count} samples of ${spec.shape.join('x')}`;
  }
  const s = spec.scaling;
  if (s.kind === 'standardize' && d.values instanceof Float32Array) {
    // The training rows' statistics are recomputed as training computed them (float64, in
    // order), so the same file gives the same numbers exactly; a tiny tolerance spares JSON.
    const dims = sampleSize(d);
    const train = trainingRows(d.values, d.count, dims);
    const { mean, std } = columnStats(train.values, train.count, dims);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
    const column = mean.findIndex((m, c) => !close(m, s.mean[c]) || !close(std[c], s.std[c]));
    if (column >= 0) return `its values changed: column ${column + 1} has mean ${mean[column]} and std ${std[column]} now, the checkpoint standardised by ${s.mean[column]} and ${s.std[column]}`;
  }
  if ((s.kind === 'range') !== d.values instanceof Uint8Array) return `it holds ${d.values instanceof Uint8Array ? 'bytes' : 'floats'} now, the checkpoint's scaling is '${s.kind}'`;
  return null;
}

/**
 * Refuses a data set that is not the one `spec` (a checkpoint's config) trained on, naming the
 * file and the difference. Same size and shape with other values cannot be told apart (the
 * config keeps no checksum), except edits to points among the training rows, whose
 * standardisation statistics the config keeps.
 */
export function checkDatasetMatches(spec: DatasetSpec, d: Dataset): void {
  const why = mismatch(spec, d);
  if (why) throw new DataError(`${spec.path}: not the data set the checkpoint trained on (${why}); evaluate with the file it trained on`);
}

/** Rows of a data set in the data's units: bytes to [0, 1] intensities (v / 255), floats as they are. */
export function inDataUnits(values: Uint8Array | Float32Array): Float32Array {
  return values instanceof Uint8Array ? Float32Array.from(values, (v) => v / 255) : values;
}

/** At most `max` rows of [count, dim] values at evenly spaced indices floor(i count / k). */
function evenlySpaced<T extends Uint8Array | Float32Array>(values: T, count: number, dim: number, max: number): { values: T; count: number } {
  const k = Math.min(count, max);
  const out = new (values.constructor as new (n: number) => T)(k * dim);
  for (let i = 0; i < k; i++) {
    const r = Math.floor((i * count) / k);
    out.set(values.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return { values: out, count: k };
}

/** The root mean column variance of [count, dim] rows (population, float64): the data's scale. */
function rootMeanVariance(values: Float32Array, count: number, dim: number): number {
  const { std } = columnStats(values, count, dim);
  // columnStats gives a constant column std 1; its true spread is 0.
  const spread = std.map((s, c) => (isConstantColumn(values, count, dim, c) ? 0 : s));
  const scale = Math.sqrt(spread.reduce((a, s) => a + s * s, 0) / dim);
  return scale > 0 ? scale : 1;
}

function isConstantColumn(values: Float32Array, count: number, dim: number, c: number): boolean {
  for (let r = 1; r < count; r++) if (values[r * dim + c] !== values[c]) return false;
  return true;
}

/** The evaluation sets of a loaded data set. */
export function datasetSets(d: Dataset, maxValidation = VALIDATION_ROWS, maxMmdRows = MMD_MAX_ROWS): DatasetSets {
  const dim = sampleSize(d);
  const held = heldOutRows(d.values, d.count, dim);
  const train = trainingRows(d.values, d.count, dim);
  const validation = evenlySpaced(train.values, train.count, dim, maxValidation);
  const trainUnits = inDataUnits(train.values);
  const heldOut = inDataUnits(held.values);
  return {
    dim,
    heldOut,
    heldOutRows: held.count,
    mmdReal: held.count ? evenlySpaced(heldOut, held.count, dim, maxMmdRows).values : heldOut,
    validation: inDataUnits(validation.values),
    validationRows: validation.count,
    trainingRows: train.count,
    sigmas: d.values instanceof Uint8Array ? [...PARZEN_SIGMAS] : scaledParzenSigmas(rootMeanVariance(trainUnits, train.count, dim)),
  };
}

/**
 * The engine's 2-D mixture (ring8, grid25) a data set of 2-D points was drawn from: the one
 * with at least 90% of the rows within 3 std of its modes (a draw puts 98.9% there), or null.
 */
export function knownMixtureOf(d: Dataset): Mixture2d | null {
  if (d.shape.length !== 1 || d.shape[0] !== 2 || !(d.values instanceof Float32Array)) return null;
  for (const mixture of Object.values(MIXTURES)) {
    if (assignModes(d.values, mixture).highQuality >= KNOWN_MIXTURE_SHARE * d.count) return mixture;
  }
  return null;
}
