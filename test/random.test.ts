// The random kernels as generators, on the machine's adapter: distributions (moments,
// Kolmogorov-Smirnov, chi-square at the 1% level, all with fixed seeds, so a pass is
// reproducible), determinism, independence of streams and clock values, and permutations
// that are bijections and look random. Also the documented errors of the random and gather ops.

import { describe, expect, test } from 'vitest';
import { normalCdf } from '../src/eval/normal.ts';
import { gatherRows, gatherValues, rowMinMax } from '../src/kernels/gather.ts';
import { incrementCounter } from '../src/kernels/optim.ts';
import { randomIntegers, randomNormal, randomPermutation, randomUniform, type RandomOptions } from '../src/kernels/random.ts';
import { download, downloadU32, type DType, type Shape, type Tensor } from '../src/tensor/tensor.ts';
import { expectShapeError, useGpu } from './gpu.ts';

const gpu = useGpu();

const tensor = (shape: Shape, dtype: DType = 'f32', label = 'tensor'): Tensor => gpu.tensor(shape, label, dtype);

function clockAt(value: number): Tensor {
  return gpu.from(Uint32Array.of(value), [1], 'clock');
}

async function normals(n: number, opts: RandomOptions & { mean?: number; std?: number }): Promise<Float32Array> {
  const out = tensor([n]);
  gpu.ctx.run([randomNormal(gpu.ctx, out, opts)]);
  return download(gpu.ctx, out);
}

async function uniforms(n: number, opts: RandomOptions & { lo?: number; hi?: number }): Promise<Float32Array> {
  const out = tensor([n]);
  gpu.ctx.run([randomUniform(gpu.ctx, out, opts)]);
  return download(gpu.ctx, out);
}

async function integers(n: number, opts: RandomOptions & { bound: number }): Promise<Uint32Array> {
  const out = tensor([n], 'u32');
  gpu.ctx.run([randomIntegers(gpu.ctx, out, opts)]);
  return downloadU32(gpu.ctx, out);
}

async function permutation(n: number, opts: RandomOptions & { domain: number; start?: number }): Promise<Uint32Array> {
  const out = tensor([n], 'u32');
  gpu.ctx.run([randomPermutation(gpu.ctx, out, opts)]);
  return downloadU32(gpu.ctx, out);
}

/** Kolmogorov-Smirnov statistic of a sample against a continuous CDF. */
function ksStatistic(sample: ArrayLike<number>, cdf: (x: number) => number): number {
  const sorted = Float64Array.from(sample).sort();
  const n = sorted.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(sorted[i]);
    d = Math.max(d, f - i / n, (i + 1) / n - f);
  }
  return d;
}

/** The 1% critical value of chi-square with k degrees of freedom (Wilson-Hilferty). */
function chiSquareCritical(k: number): number {
  const z99 = 2.3263;
  return k * (1 - 2 / (9 * k) + z99 * Math.sqrt(2 / (9 * k))) ** 3;
}

/** Pearson's chi-square of observed counts against equal expected counts. */
function chiSquareUniform(counts: ArrayLike<number>, total: number): number {
  const expected = total / counts.length;
  let x2 = 0;
  for (let i = 0; i < counts.length; i++) x2 += (counts[i] - expected) ** 2 / expected;
  return x2;
}

function histogram(values: ArrayLike<number>, bins: number, bin: (v: number) => number): Float64Array {
  const counts = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) counts[bin(values[i])]++;
  return counts;
}

/** Chi-square of independence on a bins x bins grid of (a_i, b_i), both uniform on [0, domain). */
function independenceChiSquare(a: ArrayLike<number>, b: ArrayLike<number>, domain: number, bins: number): number {
  const cell = (v: number) => Math.floor((v * bins) / domain);
  const grid = new Float64Array(bins * bins);
  for (let i = 0; i < a.length; i++) grid[cell(a[i]) * bins + cell(b[i])]++;
  return chiSquareUniform(grid, a.length);
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let [ma, mb] = [0, 0];
  for (let i = 0; i < n; i++) [ma, mb] = [ma + a[i] / n, mb + b[i] / n];
  let [sab, saa, sbb] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

function minOf(values: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < values.length; i++) m = Math.min(m, values[i]);
  return m;
}

function maxOf(values: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) m = Math.max(m, values[i]);
  return m;
}

function equalCount(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same;
}

const N = 1_000_000;

describe('randomNormal', () => {
  test('1e6 draws: mean, variance and KS against N(0, 1)', async () => {
    const z = await normals(N, { seed: 20240601, stream: 1, clock: clockAt(5) });
    let mean = 0;
    for (const v of z) mean += v / N;
    let variance = 0;
    for (const v of z) variance += (v - mean) ** 2 / (N - 1);
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
    expect(ksStatistic(z, normalCdf)).toBeLessThan(1.63 / Math.sqrt(N));
    // Box-Muller's radius never exceeds sqrt(-2 ln 2^-24).
    expect(Math.max(maxOf(z), -minOf(z))).toBeLessThanOrEqual(Math.sqrt(48 * Math.LN2) * (1 + 1e-6));
  });

  test('the two outputs of each Box-Muller pair are uncorrelated, and so are neighbouring pairs', async () => {
    const z = await normals(N, { seed: 77, stream: 2 });
    const even = z.filter((_, i) => i % 2 === 0);
    const odd = z.filter((_, i) => i % 2 === 1);
    expect(Math.abs(correlation(even, odd))).toBeLessThan(5 / Math.sqrt(N / 2));
    expect(Math.abs(correlation(z.subarray(0, N - 2), z.subarray(2)))).toBeLessThan(5 / Math.sqrt(N));
  });

  test('mean and std shift and scale the draws', async () => {
    const opts = { seed: 3, stream: 9, clock: clockAt(1) };
    const [z, y] = [await normals(1000, opts), await normals(1000, { ...opts, mean: 0.5, std: 2 })];
    for (let i = 0; i < z.length; i++) expect(y[i]).toBeCloseTo(0.5 + 2 * z[i], 5);
  });
});

describe('randomUniform', () => {
  test('1e6 draws: KS against U[0, 1), all in [0, 1)', async () => {
    const u = await uniforms(N, { seed: 20240601, stream: 1, clock: clockAt(5) });
    expect(minOf(u)).toBeGreaterThanOrEqual(0);
    expect(maxOf(u)).toBeLessThan(1);
    expect(ksStatistic(u, (x) => Math.min(Math.max(x, 0), 1))).toBeLessThan(1.63 / Math.sqrt(N));
  });

  test('[lo, hi) is respected and filled', async () => {
    const u = await uniforms(100_000, { seed: 4, stream: 2, lo: -3, hi: 5 });
    expect(minOf(u)).toBeGreaterThanOrEqual(-3);
    expect(maxOf(u)).toBeLessThan(5);
    const counts = histogram(u, 16, (v) => Math.floor((v + 3) * 2));
    expect(chiSquareUniform(counts, u.length)).toBeLessThan(chiSquareCritical(15));
  });
});

describe('determinism and independence', () => {
  test('the same (seed, stream, clock) gives bit-identical draws, replayed or recorded afresh', async () => {
    const clock = clockAt(12);
    const out = tensor([4097]);
    const dispatch = randomNormal(gpu.ctx, out, { seed: 99, stream: 4, clock, offset: 3 });
    gpu.ctx.run([dispatch]);
    const first = new Uint32Array((await download(gpu.ctx, out)).buffer);
    gpu.ctx.run([dispatch]);
    const replayed = new Uint32Array((await download(gpu.ctx, out)).buffer);
    // Same step from another split of clock + offset, in a fresh dispatch.
    const fresh = new Uint32Array((await normals(4097, { seed: 99, stream: 4, clock: clockAt(10), offset: 5 })).buffer);
    expect(replayed).toEqual(first);
    expect(fresh).toEqual(first);
  });

  test('different streams give different, uncorrelated sequences', async () => {
    const clock = clockAt(0);
    const [a, b] = [await uniforms(N, { seed: 5, stream: 0, clock }), await uniforms(N, { seed: 5, stream: 1, clock })];
    expect(equalCount(a, b)).toBeLessThan(10);
    expect(Math.abs(correlation(a, b))).toBeLessThan(5 / Math.sqrt(N));
  });

  test('consecutive clock values give different, uncorrelated sequences', async () => {
    const [a, b] = [await uniforms(N, { seed: 5, stream: 0, clock: clockAt(7) }), await uniforms(N, { seed: 5, stream: 0, clock: clockAt(8) })];
    expect(equalCount(a, b)).toBeLessThan(10);
    expect(Math.abs(correlation(a, b))).toBeLessThan(5 / Math.sqrt(N));
  });

  test('seeds differing only in the high word differ', async () => {
    const [a, b] = [await uniforms(10_000, { seed: 1, stream: 0 }), await uniforms(10_000, { seed: 1 + 2 ** 32, stream: 0 })];
    expect(equalCount(a, b)).toBeLessThan(5);
  });

  test('a recorded op draws afresh each time the GPU clock advances', async () => {
    const clock = clockAt(0);
    const out = tensor([1000]);
    const steps = [randomUniform(gpu.ctx, out, { seed: 8, stream: 3, clock }), incrementCounter(gpu.ctx, clock)];
    const draws: Float32Array[] = [];
    for (let k = 0; k < 3; k++) {
      gpu.ctx.run(steps);
      draws.push(await download(gpu.ctx, out));
    }
    expect(equalCount(draws[0], draws[1])).toBeLessThan(5);
    expect(equalCount(draws[1], draws[2])).toBeLessThan(5);
    expect(draws[2]).toEqual(await uniforms(1000, { seed: 8, stream: 3, offset: 2 }));
  });
});

describe('randomIntegers', () => {
  test.each([2, 10, 1000, 60_000])('bound %i: every value drawn, chi-square below the 1 percent critical value', async (bound) => {
    const n = Math.max(100_000, bound * 20);
    const k = await integers(n, { seed: 31, stream: bound, clock: clockAt(2), bound });
    expect(maxOf(k)).toBe(bound - 1);
    const counts = histogram(k, bound, (v) => v);
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(chiSquareUniform(counts, n)).toBeLessThan(chiSquareCritical(bound - 1));
  });

  test('a bound with heavy rejection (2^32 mod bound = 2^30 - 1) stays uniform over 64 bins', async () => {
    const bound = 0xc0000001;
    const big = await integers(N, { seed: 32, stream: 0, bound });
    expect(maxOf(big)).toBeLessThan(bound);
    const counts = histogram(big, 64, (v) => Math.floor((v * 64) / bound));
    expect(chiSquareUniform(counts, N)).toBeLessThan(chiSquareCritical(63));
  });
});

describe('randomPermutation', () => {
  test.each([1, 2, 3, 1000, 2000, 60_000])('domain %i: every value exactly once', async (domain) => {
    const p = await permutation(domain, { seed: 11, stream: 6, domain, clock: clockAt(3) });
    const seen = new Uint32Array(domain);
    for (const v of p) seen[v]++;
    expect(seen.every((c) => c === 1)).toBe(true);
  });

  test('domain 2: both permutations occur across clock values', async () => {
    const firsts = new Set<number>();
    for (let c = 0; c < 16; c++) firsts.add((await permutation(2, { seed: 11, stream: 6, domain: 2, clock: clockAt(c) }))[0]);
    expect(firsts).toEqual(new Set([0, 1]));
  });

  test('domain 60000 looks random: positions vs values independent, values 0..9 spread', async () => {
    const domain = 60_000;
    const p = await permutation(domain, { seed: 11, stream: 6, domain, clock: clockAt(3) });
    const positions = Uint32Array.from({ length: domain }, (_, i) => i);
    // 10 x 10 grid of (position, value): 600 expected per cell.
    expect(independenceChiSquare(positions, p, domain, 10)).toBeLessThan(chiSquareCritical(81));
    expect(Math.abs(correlation(positions, p))).toBeLessThan(5 / Math.sqrt(domain));
    // Successive values are not close to each other.
    const steps = p.subarray(1).map((v, i) => Math.abs(v - p[i]));
    expect(independenceChiSquare(p.subarray(0, domain - 1), p.subarray(1), domain, 10)).toBeLessThan(chiSquareCritical(81));
    expect(minOf(steps)).toBeGreaterThan(0);
    // Where 0..9 landed: ten positions, no two within 100 of each other (a random placement
    // has two that close with probability ~ 45 * 200 / 60000 = 15%; this seed has none).
    const where = Array.from({ length: 10 }, (_, v) => p.indexOf(v)).sort((a, b) => a - b);
    const gaps = where.slice(1).map((w, i) => w - where[i]);
    expect(Math.min(...gaps)).toBeGreaterThan(100);
    expect(where[9] - where[0]).toBeGreaterThan(domain / 2);
  });

  test('consecutive clock values give unrelated permutations', async () => {
    const domain = 60_000;
    const [a, b] = [
      await permutation(domain, { seed: 11, stream: 6, domain, clock: clockAt(3) }),
      await permutation(domain, { seed: 11, stream: 6, domain, clock: clockAt(4) }),
    ];
    // Two independent random permutations agree in ~Poisson(1) positions.
    expect(equalCount(a, b)).toBeLessThan(8);
    expect(independenceChiSquare(a, b, domain, 10)).toBeLessThan(chiSquareCritical(81));
  });

  test('the seed experiment: the first 1000 of randperm(60000) spread over the whole range', async () => {
    const first = await permutation(1000, { seed: 2024, stream: 0, domain: 60_000 });
    const counts = histogram(first, 10, (v) => Math.floor(v / 6000));
    expect(new Set(first).size).toBe(1000);
    expect(chiSquareUniform(counts, 1000)).toBeLessThan(chiSquareCritical(9));
  });

  test('a slice equals the same positions of the full permutation', async () => {
    const opts = { seed: 11, stream: 6, domain: 2000, clock: clockAt(9) };
    const [full, slice] = [await permutation(2000, opts), await permutation(100, { ...opts, start: 1900 })];
    expect(slice).toEqual(full.subarray(1900));
  });
});


describe('random op errors', () => {
  test('outputs of the wrong dtype', () => {
    expectShapeError(() => randomUniform(gpu.ctx, tensor([4], 'u32', 'out'), { seed: 1, stream: 0 }), 'randomUniform', 'out:u32[4]');
    expectShapeError(() => randomIntegers(gpu.ctx, tensor([4], 'f32', 'out'), { seed: 1, stream: 0, bound: 3 }), 'randomIntegers', 'out:f32[4]');
  });
  test('seeds, streams, offsets and clocks out of range', () => {
    const out = tensor([4]);
    expectShapeError(() => randomNormal(gpu.ctx, out, { seed: -1, stream: 0 }), 'randomNormal', 'seed');
    expectShapeError(() => randomNormal(gpu.ctx, out, { seed: 0.5, stream: 0 }), 'randomNormal', 'seed');
    expectShapeError(() => randomNormal(gpu.ctx, out, { seed: 1, stream: 2 ** 32 }), 'randomNormal', 'stream');
    expectShapeError(() => randomNormal(gpu.ctx, out, { seed: 1, stream: 0, offset: -1 }), 'randomNormal', 'offset');
    expectShapeError(() => randomNormal(gpu.ctx, out, { seed: 1, stream: 0, clock: tensor([1], 'f32', 'clock') }), 'randomNormal', 'clock:f32[1]');
  });
  test('bad ranges and bounds', () => {
    const out = tensor([4]);
    expectShapeError(() => randomUniform(gpu.ctx, out, { seed: 1, stream: 0, lo: 1, hi: 1 }), 'randomUniform', 'lo < hi');
    expectShapeError(() => randomNormal(gpu.ctx, out, { seed: 1, stream: 0, std: -1 }), 'randomNormal', 'std');
    expectShapeError(() => randomIntegers(gpu.ctx, tensor([4], 'u32'), { seed: 1, stream: 0, bound: 0 }), 'randomIntegers', 'bound');
    expectShapeError(() => randomIntegers(gpu.ctx, tensor([4], 'u32'), { seed: 1, stream: 0, bound: 2 ** 32 }), 'randomIntegers', 'bound');
  });
  test('permutation slices past the domain', () => {
    const out = tensor([10], 'u32', 'index');
    expectShapeError(() => randomPermutation(gpu.ctx, out, { seed: 1, stream: 0, domain: 9 }), 'randomPermutation', 'index:u32[10]', 'domain 9');
    expectShapeError(() => randomPermutation(gpu.ctx, out, { seed: 1, stream: 0, domain: 100, start: 91 }), 'randomPermutation', 'domain 100');
    expectShapeError(() => randomPermutation(gpu.ctx, out, { seed: 1, stream: 0, domain: 2 ** 31 + 1 }), 'randomPermutation', 'domain');
  });
});

describe('gather op errors', () => {
  test('index tensors too short for the rows asked', () => {
    const [src, idx, dst] = [tensor([50, 3], 'u8', 'pixels'), tensor([10], 'u32', 'index'), tensor([8, 3], 'f32', 'batch')];
    expectShapeError(() => gatherRows(gpu.ctx, src, idx, dst, { indexOffset: 3 }), 'gatherRows', 'index:u32[10]');
    expectShapeError(() => gatherValues(gpu.ctx, tensor([50], 'u8'), idx, tensor([11], 'u32')), 'gatherValues', 'index:u32[10]');
  });
  test('mismatched columns and dtypes', () => {
    const idx = tensor([10], 'u32', 'index');
    expectShapeError(() => gatherRows(gpu.ctx, tensor([50, 3], 'u8', 'pixels'), idx, tensor([4, 5], 'f32', 'batch')), 'gatherRows', 'batch:f32[4, 5]', 'pixels:u8[50, 3]');
    expectShapeError(() => gatherRows(gpu.ctx, tensor([50, 3], 'u32', 'pixels'), idx, tensor([4, 3])), 'gatherRows', 'pixels:u32[50, 3]');
    expectShapeError(() => gatherRows(gpu.ctx, tensor([50, 3]), tensor([10], 'f32', 'index'), tensor([4, 3])), 'gatherRows', 'index:f32[10]');
    expectShapeError(() => rowMinMax(gpu.ctx, tensor([4, 3], 'u32', 'noise')), 'rowMinMax', 'noise:u32[4, 3]');
  });
});
