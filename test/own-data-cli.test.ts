// Users' own data from the command line: train on the examples (a CSV spiral, a folder of RGB
// shapes) for a few iterations, then sample (samples.npy in the data's shape, the picture) and
// evaluate (MMD and Parzen against the held-out rows) each; a CSV drawn from ring8 gets the
// mode counts; a data file that changed or went away after training is refused by name; and
// every bad input the training tool can meet is one clear message, exit status 1 or 2, and no
// run files in --out.

import { copyFileSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { EXAMPLES_DIR } from '../scripts/make-examples.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { DataError } from '../src/data/idx.ts';
import { createRealSource, isHeldOut, type DataSpec } from '../src/data/source.ts';
import { RING8 } from '../src/data/toy.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { decodeNpy } from '../src/io/npy.ts';
import type { TensorPool } from '../src/tensor/pool.ts';
import { runCli, tempDir, type CliResult } from './cli-process.ts';

const SPIRAL = join(EXAMPLES_DIR, 'spiral.csv');
const SHAPES = join(EXAMPLES_DIR, 'shapes');
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];

function ok(r: CliResult, what: string): void {
  expect(r.hung, `${what} hung`).toBe(false);
  expect(r.code, `${what}: ${r.stderr}`).toBe(0);
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const npyAt = (path: string) => decodeNpy(new Uint8Array(readFileSync(path)));
const isPng = (path: string) => PNG_MAGIC.every((b, i) => readFileSync(path)[i] === b);

/** Trains on `data` from the command line into a fresh directory and returns it. */
async function trainOn(data: string, extra: string[]): Promise<string> {
  const out = tempDir('own-data-');
  ok(await runCli('train', ['--data', data, ...extra, '--out', out], { deadlineMs: 120_000 }), `train --data ${data}`);
  return out;
}

describe('train, sample and eval on the examples', () => {
  test('spiral.csv: N x 2 samples in the data\'s units, a scatter over the data, MMD and Parzen on 200 held-out rows', async () => {
    const dir = await trainOn(SPIRAL, ['--iters', '20', '--log-every', '10']);
    expect(readJson(join(dir, 'config.json')).data).toMatchObject({ kind: 'dataset', format: 'csv', shape: [2], count: 2000, scaling: { kind: 'standardize' } });
    const checkpoint = join(dir, 'checkpoint.safetensors');

    const npy = join(dir, 'samples.npy');
    ok(await runCli('sample', ['--checkpoint', checkpoint, '--n', '50', '--grid', '--out', npy]), 'sample');
    const { data, shape } = npyAt(npy);
    expect(shape).toEqual([50, 2]);
    expect(data.every(Number.isFinite)).toBe(true);
    expect(isPng(join(dir, 'samples.png'))).toBe(true);

    const r = await runCli('eval', ['--checkpoint', checkpoint, '--samples', '500']);
    ok(r, 'eval');
    expect(r.stdout).toMatch(/data\s+\S*spiral\.csv \(csv, 2000 samples of 2; 200 held out\)/);
    expect(r.stdout).toMatch(/mmd\s+MMD\^2 \S+ \(unbiased; biased \S+\), MMD \S+; Gaussian kernel, sigma \S+ \(median heuristic\); 500 samples vs 200 held-out rows/);
    expect(r.stdout).toMatch(/parzen\s+log-likelihood -?[\d.]+ ± [\d.]+ nats \(sigma \S+; 500 samples, 200 held-out rows\)/);
    const report = readJson(join(dir, 'eval.json'));
    expect(report.data).toMatchObject({ format: 'csv', shape: [2], rows: 2000, heldOutRows: 200, validationRows: 1000 });
    expect(report.data.mixture).toBeUndefined();
    expect(report.mmd).toMatchObject({ estimator: 'unbiased', kernel: 'gaussian', samples: 500, realRows: 200, sigmaFrom: 'median heuristic', medianPoints: 700 });
    expect(report.mmd.mmd).toBe(Math.sqrt(Math.max(report.mmd.mmd2, 0)));
    expect(report.parzen).toMatchObject({ samples: 500, testPoints: 200, validationPoints: 1000 });
    expect(report.parzen.validation).toHaveLength(15);
    expect(report.modes).toBeUndefined();
    // The same seed gives the same figures, bit for bit.
    const again = join(dir, 'again.json');
    ok(await runCli('eval', ['--checkpoint', checkpoint, '--samples', '500', '--out', again]), 'eval again');
    const second = readJson(again);
    expect([second.mmd.mmd2, second.mmd.sigma, second.parzen.mean]).toEqual([report.mmd.mmd2, report.mmd.sigma, report.parzen.mean]);
  });

  test('shapes/: N x 16 x 16 x 3 samples in [0, 1], an RGB grid, MMD and Parzen on 30 held-out pictures', async () => {
    const dir = await trainOn(SHAPES, ['--iters', '2', '--batch', '16', '--log-every', '1']);
    expect(readJson(join(dir, 'config.json')).data).toMatchObject({ kind: 'dataset', format: 'images', shape: [16, 16, 3], count: 300 });
    const checkpoint = join(dir, 'checkpoint.safetensors');

    const npy = join(dir, 'samples.npy');
    ok(await runCli('sample', ['--checkpoint', checkpoint, '--n', '20', '--grid', '--out', npy]), 'sample');
    const { data, shape } = npyAt(npy);
    expect(shape).toEqual([20, 16, 16, 3]);
    expect(data.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(isPng(join(dir, 'samples.png'))).toBe(true);

    const r = await runCli('eval', ['--checkpoint', checkpoint, '--samples', '300'], { deadlineMs: 120_000 });
    ok(r, 'eval');
    expect(r.stdout).toMatch(/mmd\s+MMD\^2 .*300 samples vs 30 held-out rows/);
    const report = readJson(join(dir, 'eval.json'));
    expect(report.data).toMatchObject({ format: 'images', shape: [16, 16, 3], rows: 300, heldOutRows: 30, validationRows: 270 });
    // Bytes are scored as [0, 1] intensities on MNIST's width grid.
    expect(report.data.parzenSigmas[0]).toBeCloseTo(0.1, 12);
    expect(report.mmd).toMatchObject({ samples: 300, realRows: 30 });
    expect(report.parzen).toMatchObject({ samples: 300, testPoints: 30, validationPoints: 270 });
  });

  test('points drawn from ring8 are known as that mixture: the mode counts join the MMD and Parzen', async () => {
    const data = join(tempDir('own-data-'), 'ring.csv');
    let seed = 12345;
    const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) + 0.5) / 2 ** 31;
    const lines = Array.from({ length: 400 }, (_, i) => {
      const [cx, cy] = RING8.centers[i % 8];
      const r = Math.sqrt(-2 * Math.log(uniform())) * RING8.std;
      const a = 2 * Math.PI * uniform();
      return `${(cx + r * Math.cos(a)).toFixed(6)},${(cy + r * Math.sin(a)).toFixed(6)}`;
    });
    writeFileSync(data, lines.join('\n') + '\n');
    const dir = await trainOn(data, ['--iters', '2', '--log-every', '1']);
    const checkpoint = join(dir, 'checkpoint.safetensors');
    const r = await runCli('eval', ['--checkpoint', checkpoint, '--samples', '300', '--no-parzen']);
    ok(r, 'eval');
    expect(r.stdout).toMatch(/its points are the ring8 mixture/);
    expect(r.stdout).toMatch(/modes \(ring8\)\s+\d\/8 modes captured/);
    const report = readJson(join(dir, 'eval.json'));
    expect(report.data.mixture).toBe('ring8');
    expect(report.modes).toMatchObject({ mixture: 'ring8', samples: 300, modes: 8 });
    expect(report.parzen).toBeUndefined();

    // The file changed since training: refused by name, nothing written.
    unlinkSync(join(dir, 'eval.json'));
    writeFileSync(data, lines.slice(1).join('\n') + '\n');
    const shorter = await runCli('eval', ['--checkpoint', checkpoint]);
    expect(shorter.code).toBe(1);
    expect(shorter.stderr).toMatch(/ring\.csv: not the data set the checkpoint trained on \(it holds 399 samples of 2 now, the checkpoint trained on 400 samples of 2\)/);
    // A training row edited in place moves the standardisation statistics the config keeps.
    const trainingRow = lines.findIndex((_, r) => !isHeldOut(r, lines.length));
    writeFileSync(data, lines.map((line, r) => (r === trainingRow ? '0.5,0.5' : line)).join('\n') + '\n');
    const edited = await runCli('eval', ['--checkpoint', checkpoint]);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(/ring\.csv: not the data set the checkpoint trained on \(its values changed: column 1 has mean/);
    unlinkSync(data);
    const gone = await runCli('eval', ['--checkpoint', checkpoint]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/cannot read \S*ring\.csv: no such file or folder \(\S*checkpoint\.safetensors trained on this data set/);
    expect(existsSync(join(dir, 'eval.json'))).toBe(false);
    // Samples need no data; the scatter behind them does.
    const npy = join(dir, 'pts.npy');
    const grid = await runCli('sample', ['--checkpoint', checkpoint, '--grid', '--out', npy]);
    expect(grid.code).toBe(1);
    expect(grid.stderr).toMatch(/cannot read \S*ring\.csv.*--grid draws the samples over its points/);
    expect(existsSync(npy)).toBe(false);
    ok(await runCli('sample', ['--checkpoint', checkpoint, '--n', '7', '--out', npy]), 'sample without --grid');
    expect(npyAt(npy).shape).toEqual([7, 2]);
  });

  test('MNIST presets keep their layout: N x 784 from the dense mnist, N x 28 x 28 x 1 from the convolutional dcgan', async () => {
    for (const [name, shape] of [['mnist', [3, 784]], ['dcgan', [3, 28, 28, 1]]] as const) {
      const dir = tempDir('own-data-');
      ok(await runCli('train', ['--preset', name, '--iters', '0', '--out', dir]), `train ${name}`);
      const npy = join(dir, 's.npy');
      ok(await runCli('sample', ['--checkpoint', join(dir, 'checkpoint.safetensors'), '--n', '3', '--out', npy]), `sample ${name}`);
      expect(npyAt(npy).shape, name).toEqual(shape);
    }
  });
});

/** The files a bad input must not leave in --out. */
const RUN_FILES = ['config.json', 'metrics.csv', 'checkpoint.safetensors', 'samples.png'];

/** A .npy file whose header dict is `header`, padded as NumPy pads it. */
function npyWithHeader(header: string, data: Uint8Array): Uint8Array {
  const text = header + ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(new TextEncoder().encode(text), 10);
  out.set(data, 10 + text.length);
  return out;
}

describe('bad input to npm run train -- --data', () => {
  const root = tempDir('own-data-bad-');
  const at = (name: string) => join(root, name);
  const folder = (name: string, files: Record<string, Uint8Array | string>) => {
    mkdirSync(at(name));
    for (const [file, bytes] of Object.entries(files)) writeFileSync(join(at(name), file), bytes);
    return at(name);
  };
  const shape = (i: number) => readFileSync(join(SHAPES, `shape-${String(i).padStart(4, '0')}.png`));

  const cases: [string, () => Promise<string> | string, RegExp][] = [
    ['an empty folder', () => folder('empty', {}), /empty: no \.png, \.jpg or \.jpeg images in this folder \(it is empty\)/],
    ['a folder of only other files', () => folder('notes', { 'README.txt': 'hello' }), /notes: no \.png, \.jpg or \.jpeg images in this folder \(it holds README\.txt; sub-folders are not searched\)/],
    [
      'images of mixed sizes without --image-size',
      async () => {
        const { encode } = await import('fast-png');
        return folder('mixed', { 'a.png': shape(0), 'b.png': shape(1), 'c.png': encode({ width: 12, height: 12, data: new Uint8Array(12 * 12 * 3), channels: 3, depth: 8 }) });
      },
      /mixed: images differ in size: \S*a\.png is 16x16, \S*c\.png is 12x12; pass --image-size N to crop and scale every image to N x N/,
    ],
    // Refused rather than skipped: it claims to be a picture, so it is most likely a damaged one.
    ['a file named .png that is not a picture', () => folder('broken', { 'a.png': shape(0), 'b.png': 'not a png' }), /broken\/b\.png: not a PNG or JPEG file \(its first bytes are neither signature\)/],
    ['a CSV with a NaN', () => (writeFileSync(at('nan.csv'), 'x,y\n1,2\n3,NaN\n'), at('nan.csv')), /nan\.csv, line 3, column 2: 'NaN' is not a number \(NaN and infinities are not data/],
    ['a CSV with a ragged row', () => (writeFileSync(at('ragged.csv'), 'x,y\n1,2\n3,4,5\n6,7\n'), at('ragged.csv')), /ragged\.csv, line 3: 3 fields, expected 2 as on line 2 \(ragged row\)/],
    [
      'an .npy of int32',
      () => (writeFileSync(at('int.npy'), npyWithHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8))), at('int.npy')),
      /int\.npy: dtype '<i4' is not supported; expected uint8 \('\|u1'\), float32 \('<f4'\) or float64 \('<f8'\)/,
    ],
    [
      'an .npy with a corrupt header',
      () => (writeFileSync(at('corrupt.npy'), npyWithHeader("{'descr': '<f4', 'fortran_order': Fals", new Uint8Array(8))), at('corrupt.npy')),
      /corrupt\.npy: corrupt header/,
    ],
    ['a path that does not exist', () => at('nowhere.csv'), /cannot read \S*nowhere\.csv: no such file or folder/],
  ];

  test(`${cases.length} bad data sets: one message naming the file, exit status 1, no run files in --out`, async () => {
    const made = [];
    for (const [, make] of cases) made.push(await make());
    // Each is refused before the GPU opens, so they run two at a time.
    const results: CliResult[] = [];
    for (let i = 0; i < made.length; i += 2) {
      const pair = made.slice(i, i + 2).map((data, k) => runCli('train', ['--data', data, '--iters', '1', '--out', at(`out-${i + k}`)], { deadlineMs: 60_000 }));
      results.push(...(await Promise.all(pair)));
    }
    results.forEach((r, i) => {
      const what = cases[i][0];
      expect(r.hung, what).toBe(false);
      expect(r.code, `${what}: ${r.stdout}${r.stderr}`).toBe(1);
      expect(r.stderr, what).toMatch(cases[i][2]);
      expect(r.stderr.match(/error:/g), `${what}: one message`).toHaveLength(1);
      for (const f of RUN_FILES) expect(existsSync(join(at(`out-${i}`), f)), `${what}: ${f}`).toBe(false);
    });
  });

  test('a non-image file among images is skipped and named; the run goes on', async () => {
    const data = folder('with-notes', { 'a.png': shape(0), 'b.png': shape(1), 'c.png': shape(2), 'notes.txt': 'taken on Tuesday' });
    mkdirSync(join(data, 'sub'));
    copyFileSync(join(SHAPES, 'shape-0003.png'), join(data, 'sub', 'd.png'));
    const out = at('with-notes-out');
    const r = await runCli('train', ['--data', data, '--iters', '1', '--batch', '2', '--out', out], { deadlineMs: 120_000 });
    ok(r, 'train');
    expect(r.stdout).toMatch(/skipped 2 entries that are not images: notes\.txt, sub\//);
    expect(readJson(join(out, 'config.json')).data).toMatchObject({ count: 3, shape: [16, 16, 3] });
  });

  test('data beyond the adapter\'s storage binding limit: the size, the limit and what to do, before any upload', () => {
    // The limit is the adapter's; a small stand-in shows the refusal without a 128 MiB file.
    const ctx = { limits: { maxStorageBufferBindingSize: 100_000, maxBufferSize: 100_000 } } as unknown as GpuContext;
    const pool = {} as TensorPool;
    const images: Dataset = { source: 'pics/', format: 'images', shape: [16, 16, 3], count: 300, values: new Uint8Array(300 * 768) };
    const spec: DataSpec = { kind: 'dataset', path: 'pics/', format: 'images', shape: [16, 16, 3], count: 300, scaling: { kind: 'range', lo: -1, hi: 1 } };
    const refused = (() => {
      try {
        createRealSource(ctx, pool, spec, { dataset: images });
      } catch (e) {
        return e;
      }
    })();
    expect(refused).toBeInstanceOf(DataError);
    expect((refused as Error).message).toMatch(
      /^pics\/: the data is 225\.0 KiB \(300 samples of 16x16x3 bytes\), more than this adapter's limit of 97\.7 KiB for one storage buffer \(maxStorageBufferBindingSize\); use fewer samples \(at most 130 fit\), smaller images \(--image-size N\), one channel \(--channels 1\), or an adapter with a larger limit$/,
    );
    const points: Dataset = { source: 'p.csv', format: 'csv', shape: [2], count: 20_000, values: new Float32Array(40_000).fill(1) };
    const pointSpec: DataSpec = { kind: 'dataset', path: 'p.csv', format: 'csv', shape: [2], count: 20_000, scaling: { kind: 'standardize', mean: [1, 1], std: [1, 1] } };
    expect(() => createRealSource(ctx, pool, pointSpec, { dataset: points })).toThrow(/p\.csv: the data is 156\.3 KiB .*at most 12500 fit.*fewer features/);
  });
});
