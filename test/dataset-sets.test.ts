// A user's data set as evaluation sets (no GPU): the held-out rows (one in each block of ten) and the Parzen validation
// rows in the data's units, the width grids, the check that a file is still the one a
// checkpoint trained on, and the recognition of the engine's 2-D mixtures.

import { describe, expect, test } from 'vitest';
import { columnStats, type Dataset } from '../src/data/dataset.ts';
import { DataError } from '../src/data/idx.ts';
import { defaultScaling, isHeldOut, trainingRows } from '../src/data/source.ts';
import { GRID25, RING8 } from '../src/data/toy.ts';
import { checkDatasetMatches, datasetSets, knownMixtureOf, scaledParzenSigmas, type DatasetSpec } from '../src/eval/dataset-sets.ts';
import { PARZEN_SIGMAS } from '../src/eval/parzen.ts';

/** Points whose row r is [r, 2r]: a row's index is readable from its values. */
function indexedPoints(count: number): Dataset {
  return { source: 'p.csv', format: 'csv', shape: [2], count, values: Float32Array.from({ length: count * 2 }, (_, i) => (i % 2 ? 2 : 1) * Math.floor(i / 2)) };
}

function specOf(d: Dataset): DatasetSpec {
  return { kind: 'dataset', path: d.source, format: d.format, shape: d.shape, count: d.count, scaling: defaultScaling(d) };
}

describe('evaluation sets', () => {
  test('one row in every block of ten is held out; validation rows are evenly spaced training rows; floats stay as they are', () => {
    const d = indexedPoints(3000);
    const s = datasetSets(d, 1000, 100);
    expect(s).toMatchObject({ dim: 2, heldOutRows: 300, validationRows: 1000, trainingRows: 2700 });
    const held = Array.from({ length: 3000 }, (_, r) => r).filter((r) => isHeldOut(r, 3000));
    expect(held).toHaveLength(300);
    // One row in each block of ten, at a place that varies from block to block.
    expect(held.map((r) => Math.floor(r / 10))).toEqual(Array.from({ length: 300 }, (_, b) => b));
    expect(new Set(held.map((r) => r % 10)).size).toBe(10);
    expect([...s.heldOut]).toEqual(held.flatMap((r) => [r, 2 * r]));
    // Validation row i is training row floor(i * 2700 / 1000).
    const train = trainingRows(d.values as Float32Array, 3000, 2).values;
    for (const i of [0, 1, 2, 999]) {
      const r = Math.floor((i * 2700) / 1000);
      expect([s.validation[2 * i], s.validation[2 * i + 1]]).toEqual([train[2 * r], train[2 * r + 1]]);
    }
    // The MMD's real side: 100 of the 300 held-out rows, every third.
    expect([...s.mmdReal]).toEqual(held.filter((_, i) => i % 3 === 0).flatMap((r) => [r, 2 * r]));
  });

  test('bytes become [0, 1] intensities and get MNIST\'s width grid; floats a grid scaled to their spread', () => {
    const bytes: Dataset = { source: 'pics/', format: 'images', shape: [2, 2, 1], count: 40, values: Uint8Array.from({ length: 160 }, (_, i) => (i * 7) % 256) };
    const s = datasetSets(bytes);
    const first = Array.from({ length: 40 }, (_, r) => r).find((r) => isHeldOut(r, 40))!;
    expect(s.heldOut[0]).toBe(Math.fround(((first * 4 * 7) % 256) / 255));
    expect(s.sigmas).toEqual([...PARZEN_SIGMAS]);
    const points = indexedPoints(200);
    const { std } = columnStats(trainingRows(points.values as Float32Array, 200, 2).values, 180, 2);
    const scale = Math.sqrt((std[0] ** 2 + std[1] ** 2) / 2);
    const sigmas = datasetSets(points).sigmas;
    expect(sigmas).toEqual(scaledParzenSigmas(scale));
    expect(sigmas).toHaveLength(15);
    expect(sigmas[0]).toBeCloseTo(0.001 * scale, 12);
    expect(sigmas[12]).toBeCloseTo(scale, 12);
  });

  test('fewer than 20 rows hold nothing out', () => {
    expect(datasetSets(indexedPoints(19))).toMatchObject({ heldOutRows: 0, trainingRows: 19 });
  });
});

describe('is it the data set the checkpoint trained on?', () => {
  test('the same file passes; a different count, shape, format or (for points) other values is refused by name', () => {
    const d = indexedPoints(100);
    const spec = specOf(d);
    expect(() => checkDatasetMatches(spec, d)).not.toThrow();
    const refused = (other: Dataset, message: RegExp) => {
      expect(() => checkDatasetMatches(spec, other)).toThrow(DataError);
      expect(() => checkDatasetMatches(spec, other)).toThrow(message);
    };
    refused(indexedPoints(99), /^p\.csv: not the data set the checkpoint trained on \(it holds 99 samples of 2 now, the checkpoint trained on 100 samples of 2\); evaluate with the file it trained on$/);
    refused({ ...d, format: 'npy' }, /it reads as npy now, the checkpoint trained on csv/);
    refused({ ...d, shape: [1, 2, 1] }, /it holds 100 samples of 1x2x1 now/);
    const edited = Float32Array.from(d.values);
    edited[3] += 1;
    refused({ ...d, values: edited }, /its values changed: column 2 has mean \S+ and std \S+ now, the checkpoint standardised by \S+ and \S+\)/);
    refused({ ...d, values: new Uint8Array(200) }, /it holds bytes now, the checkpoint's scaling is 'standardize'/);
  });
});

describe('known mixtures', () => {
  test('points drawn from ring8 or grid25 are that mixture; others are none', () => {
    const draw = (centers: [number, number][], std: number, n: number) => Float32Array.from({ length: 2 * n }, (_, i) => centers[Math.floor(i / 2) % centers.length][i % 2] + (((i * 7919) % 13) / 13 - 0.5) * std);
    const of = (values: Float32Array): Dataset => ({ source: 'm.csv', format: 'csv', shape: [2], count: values.length / 2, values });
    expect(knownMixtureOf(of(draw(RING8.centers, RING8.std, 400)))?.name).toBe('ring8');
    expect(knownMixtureOf(of(draw(GRID25.centers, GRID25.std, 500)))?.name).toBe('grid25');
    expect(knownMixtureOf(indexedPoints(100))).toBeNull();
    expect(knownMixtureOf({ source: 'x.csv', format: 'csv', shape: [3], count: 1, values: new Float32Array(3) })).toBeNull();
  });
});
