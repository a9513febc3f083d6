// Checks of the row reductions (rowSumSquares, rowLogSumExp) against float64, each with 1, 4
// and 64 lanes per row (the CPU and GPU code paths) and run twice for identical bits.
// rowSumSquares also runs on quarter-integers, whose squares and sums are exact in f32, so a
// lost or doubled element shows against a zero tolerance.

import type { GpuContext } from '../gpu/context.ts';
import { rowLanesFor, rowLogSumExp, rowSumSquares } from '../kernels/rowreduce.ts';
import * as ref from '../reference/rowreduce.ts';
import { createTensor, download, tensorFrom, type Tensor } from '../tensor/tensor.ts';
import { combine, compare, EPS32, hostRandom, randomF32, type Check, type CheckResult, type Tolerance } from './check.ts';
import { quarterIntegers, sameBits } from './reduce.ts';

const LANES = [1, 4, 64];

/** Summation depth of one row: a lane's sequential terms, then the lanes' pairwise levels. */
function rowDepth(cols: number, lanes: number): number {
  return Math.ceil(cols / lanes) + Math.log2(lanes);
}

async function runTwice(ctx: GpuContext, record: () => Parameters<GpuContext['run']>[0], out: Tensor): Promise<[Float32Array, Float32Array]> {
  const steps = record();
  ctx.run(steps);
  const first = await download(ctx, out);
  ctx.run(steps);
  return [first, await download(ctx, out)];
}

const SUM_SQUARES_SHAPES: readonly (readonly [number, number])[] = [
  [1, 1], [1, 784], [7, 3], [100, 784], [257, 65], [3, 1000], [10_000, 784],
];

const EXACT: Tolerance = { abs: 0, rel: 0, why: 'quarter-integer inputs: squares k^2/16 and their sums (< 2^20 / 16) are exact in f32' };

const sumSquaresChecks: Check[] = SUM_SQUARES_SHAPES.map(([rows, cols]): Check => ({
  kernel: 'rowSumSquares',
  case: `${rows}x${cols}`,
  slow: rows * cols > 1_000_000,
  async run(ctx) {
    const n = rows * cols;
    const exactData = quarterIntegers(n, 101 + n);
    const floatData = randomF32(n, 103 + n);
    const exact = tensorFrom(ctx, exactData, [rows, cols], 'exact');
    const floats = tensorFrom(ctx, floatData, [rows, cols], 'x');
    const out = createTensor(ctx, [rows], 'f32', 'norms');
    const results: CheckResult[] = [];
    for (const lanes of LANES) {
      const [got, again] = await runTwice(ctx, () => [rowSumSquares(ctx, floats, out, { rowLanes: lanes })], out);
      const depth = rowDepth(cols, lanes) + 1;
      const tolerance: Tolerance = {
        abs: 0,
        rel: depth * EPS32,
        why: `${lanes} lanes per row: each square rounds once, then summation depth ${depth - 1} (ceil(cols/lanes) + log2 lanes) of positive terms: (depth + 1) u relative`,
      };
      results.push(compare(got, ref.rowSumSquares(floatData, rows, cols), tolerance), sameBits(got, again, `rowSumSquares lanes=${lanes}`));
      const [exactGot] = await runTwice(ctx, () => [rowSumSquares(ctx, exact, out, { rowLanes: lanes })], out);
      results.push(compare(exactGot, ref.rowSumSquares(exactData, rows, cols), EXACT));
    }
    for (const t of [exact, floats, out]) t.buffer.destroy();
    return combine(results);
  },
}));

/**
 * The bound on a row's log-sum-exp error, per row, as `abs + rel * scale_i`: LSE is 1-Lipschitz
 * in the largest change of any value, so the values' own rounding (`valueError_i`, in units of
 * u) passes straight through; the running sum s (>= 1, every term <= 1) loses at most about
 * 7u relative per step (exp is promised (3 + 2|t|) ulp, t = v - m, the subtraction and the
 * rescale round, and t e^-t <= 1/e keeps the products small) over `depth` steps; log(s) adds
 * 3 ulp of at most ln(cols) (or 2^-21 absolute near s = 1); the final m + log s rounds once.
 */
function lseTolerance(depth: number, cols: number, want: Float64Array, valueError: Float64Array): { tolerance: Tolerance; scale: Float64Array } {
  const tolerance: Tolerance = {
    abs: 2 ** -21,
    rel: EPS32,
    why: `per row u * (value rounding + 7 * depth ${depth} + 4 ln(cols) + |result| + ln(cols)); plus 2^-21 for log near 1`,
  };
  const scale = Float64Array.from(want, (w, i) => valueError[i] + 7 * depth + 4 * Math.log(cols) + Math.abs(w) + Math.log(cols));
  return { tolerance, scale };
}

interface LseCase {
  rows: number;
  cols: number;
  scale: number;
  distances: boolean;
  slow?: boolean;
}

const LSE_CASES: LseCase[] = [
  { rows: 1, cols: 1, scale: 1, distances: false },
  { rows: 1, cols: 7, scale: -3, distances: false },
  { rows: 5, cols: 3, scale: 40, distances: false },
  { rows: 50, cols: 200, scale: 1, distances: false },
  { rows: 33, cols: 1025, scale: -50, distances: true },
  { rows: 1, cols: 10_000, scale: -0.5, distances: true },
  { rows: 50, cols: 200, scale: -1 / (2 * 0.1 ** 2), distances: true },
  // A Parzen chunk: 1,000 test points against 10,000 samples at sigma = 0.1.
  { rows: 1000, cols: 10_000, scale: -1 / (2 * 0.1 ** 2), distances: true, slow: true },
];

/**
 * Inputs for a case. Plain values are uniform in [-1, 1) (scaled, they spread over
 * |scale| nats) with row 0 constant (every term exactly 1, the sum exactly cols). Dot products
 * and norms are drawn so the distances rn + cn - 2 dot lie mostly in [0, 200] (MNIST's range)
 * and a few come out negative, exercising the clamp at 0.
 */
function lseInputs(c: LseCase) {
  const n = c.rows * c.cols;
  const seed = 211 + n + c.cols;
  if (!c.distances) {
    const x = randomF32(n, seed);
    x.fill(0.25, 0, c.cols);
    return { x };
  }
  const next = hostRandom(seed);
  const rowNorms = Float32Array.from({ length: c.rows }, () => 30 + 70 * next());
  const colNorms = Float32Array.from({ length: c.cols }, () => 30 + 70 * next());
  const x = Float32Array.from({ length: n }, (_, k) => {
    const [i, j] = [Math.floor(k / c.cols), k % c.cols];
    const reach = (rowNorms[i] + colNorms[j]) / 2;
    return reach * (next() < 0.01 ? 1.001 : next());
  });
  return { x, rowNorms, colNorms };
}

const lseChecks: Check[] = LSE_CASES.map((c): Check => ({
  kernel: 'rowLogSumExp',
  case: `${c.rows}x${c.cols} scale=${+c.scale.toPrecision(4)}${c.distances ? ' distances' : ''}`,
  slow: c.slow,
  async run(ctx) {
    const { x: xs, rowNorms: rn, colNorms: cn } = lseInputs(c);
    const x = tensorFrom(ctx, xs, [c.rows, c.cols], 'dots');
    const norms = rn && cn ? { rowNorms: tensorFrom(ctx, rn, [c.rows], 'rowNorms'), colNorms: tensorFrom(ctx, cn, [c.cols], 'colNorms') } : undefined;
    const out = createTensor(ctx, [c.rows], 'f32', 'lse');
    const want = ref.rowLogSumExp(xs, c.rows, c.cols, c.scale, rn && cn ? { rowNorms: rn, colNorms: cn } : undefined);
    // Rounding of the values themselves, in units of u: scale * x rounds once; a distance
    // rounds twice (rn + cn, then - 2 dot) on magnitude rn + cn + 2|dot|, then the scale once.
    const valueError = new Float64Array(c.rows);
    for (let i = 0; i < c.rows; i++) {
      for (let j = 0; j < c.cols; j++) {
        const v = xs[i * c.cols + j];
        const e = rn && cn ? Math.abs(c.scale) * (2 * (rn[i] + cn[j] + 2 * Math.abs(v)) + Math.max(rn[i] + cn[j] - 2 * v, 0)) : Math.abs(c.scale * v);
        valueError[i] = Math.max(valueError[i], e);
      }
    }
    const lanesList = c.slow ? [rowLanesFor(ctx, c.cols)] : LANES;
    const results: CheckResult[] = [];
    for (const lanes of lanesList) {
      const [got, again] = await runTwice(ctx, () => [rowLogSumExp(ctx, x, out, { scale: c.scale, distances: norms, rowLanes: lanes })], out);
      const { tolerance, scale } = lseTolerance(rowDepth(c.cols, lanes), c.cols, want, valueError);
      results.push(compare(got, want, { ...tolerance, why: `${lanes} lanes per row: ${tolerance.why}` }, scale), sameBits(got, again, `rowLogSumExp lanes=${lanes}`));
    }
    for (const t of [x, out, norms?.rowNorms, norms?.colNorms]) t?.buffer.destroy();
    return combine(results);
  },
}));

export const rowReduceChecks: Check[] = [...sumSquaresChecks, ...lseChecks];
