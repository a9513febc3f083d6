// Checks of the reductions (sumRows, meanInto) and of fill. Each reduction runs on two inputs:
// quarter-integers, whose every partial sum is exact in f32 (so any lost, doubled or misplaced
// element shows as a nonzero error against a zero tolerance), and uniform floats, held to the
// rounding bound of the summation order the kernel actually uses. Each also runs twice and
// must give the same bits.

import type { Dispatch, GpuContext } from '../gpu/context.ts';
import { fill } from '../kernels/fill.ts';
import { meanInto, planColumnSum, sumRows } from '../kernels/reduce.ts';
import * as ref from '../reference/reduce.ts';
import { createTensor, download, downloadU32, tensorFrom, upload, type Tensor } from '../tensor/tensor.ts';
import { combine, compare, EPS32, hostRandom, randomF32, type Check, type CheckResult, type Tolerance } from './check.ts';

/** A failed result unless two runs gave the same bits (reductions must be deterministic). */
export function sameBits(first: Float32Array, second: Float32Array, what: string): CheckResult {
  const a = new Uint32Array(first.buffer, first.byteOffset, first.length);
  const b = new Uint32Array(second.buffer, second.byteOffset, second.length);
  const differ = a.findIndex((bits, i) => bits !== b[i]);
  const tolerance: Tolerance = { abs: 0, rel: 0, why: 'a replay must reproduce the same bits' };
  return differ < 0
    ? { maxAbsError: 0, maxRelError: 0, worst: -1, pass: true, tolerance }
    : { maxAbsError: NaN, maxRelError: NaN, worst: differ, pass: false, tolerance, detail: `${what}: element ${differ} differs between two runs (${first[differ]} vs ${second[differ]})` };
}

/** Values k/4 for integers k in [-8, 8] \ {0}: sums of up to 2^21 of them are exact in f32. */
export function quarterIntegers(n: number, seed: number): Float32Array {
  const next = hostRandom(seed);
  return Float32Array.from({ length: n }, () => {
    const k = 1 + Math.floor(next() * 8);
    return (next() < 0.5 ? -k : k) / 4;
  });
}

const EXACT: Tolerance = { abs: 0, rel: 0, why: 'quarter-integer inputs: every partial sum is exact in f32' };

/**
 * The worst-case rounding of the summation order sumRows uses: a lane adds its rows one by
 * one, then lanes combine in log2(rowLanes) levels, pass after pass; with `extra` roundings
 * after (the scale, the accumulate). Recursive summation of depth d errs by at most
 * d * u * sum |x| (Higham's gamma_d, to first order).
 */
function summationDepth(rows: number, cols: number, extra: number): number {
  const plan = planColumnSum(rows, cols);
  const levels = Math.log2(plan.rowLanes);
  return plan.passes.reduce((d, p) => d + Math.ceil(p.rowsPerGroup / plan.rowLanes) + levels, 0) + extra;
}

async function runTwice(ctx: GpuContext, steps: Dispatch[], out: Tensor, initial: Float32Array): Promise<[Float32Array, Float32Array]> {
  upload(ctx, out, initial);
  ctx.run(steps);
  const first = await download(ctx, out);
  upload(ctx, out, initial);
  ctx.run(steps);
  return [first, await download(ctx, out)];
}

const SUM_ROWS_SHAPES: readonly (readonly [number, number])[] = [
  [1, 1], [100, 1], [1, 784], [5, 3], [100, 784], [3, 257], [257, 65], [2000, 100], [1000, 1024], [65_537, 1], [1_000_003, 1],
];

const sumRowsChecks: Check[] = SUM_ROWS_SHAPES.map(([rows, cols]): Check => ({
  kernel: 'sumRows',
  case: `${rows}x${cols}`,
  slow: rows * cols > 500_000,
  async run(ctx) {
    const n = rows * cols;
    const exactData = quarterIntegers(n, 3 + n);
    const floatData = randomF32(n, 5 + n);
    const initial = randomF32(cols, 7 + cols);
    const scale = 1 / rows;
    const x = createTensor(ctx, [rows, cols], 'f32', 'x');
    const out = createTensor(ctx, [cols], 'f32', 'out');
    const plain = [sumRows(ctx, x, out)].flat();
    const scaledAccumulate = [sumRows(ctx, x, out, { scale, accumulate: true })].flat();

    upload(ctx, x, exactData);
    const [exactGot, exactAgain] = await runTwice(ctx, plain, out, new Float32Array(cols));
    upload(ctx, x, floatData);
    const [floatGot, floatAgain] = await runTwice(ctx, scaledAccumulate, out, initial);

    const abs = Float64Array.from(floatData, Math.abs);
    const want = ref.sumRows(floatData, rows, cols, scale).map((s, j) => s + initial[j]);
    const magnitude = ref.sumRows(abs, rows, cols, scale).map((s, j) => s + Math.abs(initial[j]));
    const depth = summationDepth(rows, cols, 2);
    const bound: Tolerance = {
      abs: 0,
      rel: depth * EPS32,
      why: `rounding of the kernel's summation order: depth ${depth} (rows per lane and lane levels over every pass, plus scale and accumulate) times u, times sum |terms|`,
    };
    const result = combine([
      compare(floatGot, want, bound, magnitude),
      compare(exactGot, ref.sumRows(exactData, rows, cols), EXACT),
      sameBits(exactGot, exactAgain, 'sumRows'),
      sameBits(floatGot, floatAgain, 'sumRows accumulate'),
    ]);
    x.buffer.destroy();
    out.buffer.destroy();
    return result;
  },
}));

const MEAN_SIZES = [1, 3, 255, 256, 257, 1000, 78_400, 1_000_003];
const SLOTS = 8;

const meanChecks: Check[] = MEAN_SIZES.flatMap((n) =>
  (['identity', 'sigmoid'] as const).map((transform): Check => ({
    kernel: `meanInto ${transform}`,
    case: `n=${n}`,
    slow: n > 500_000,
    async run(ctx) {
      // identity: exact data into slot 3 (the only roundings are 1/n and the product);
      // sigmoid: logits in [-30, 30] accumulated into slot 5. Other slots must stay untouched.
      const identity = transform === 'identity';
      const data = identity ? quarterIntegers(n, 13 + n) : randomF32(n, 17 + n, -30, 30);
      const slot = identity ? 3 : 5;
      const initial = randomF32(SLOTS, 19 + n);
      const x = tensorFrom(ctx, data, [n], 'x');
      const out = createTensor(ctx, [SLOTS], 'f32', 'metrics');
      const steps = meanInto(ctx, x, out, { slot, transform, accumulate: !identity });
      const [got, again] = await runTwice(ctx, steps, out, initial);

      const want = Float64Array.from(initial);
      const magnitude = new Float64Array(SLOTS);
      want[slot] = (identity ? 0 : initial[slot]) + ref.mean(data, transform);
      magnitude[slot] = identity ? Math.abs(want[slot]) : Math.abs(initial[slot]) + ref.mean(data, 'sigmoid');
      const depth = summationDepth(n, 1, identity ? 0 : 1);
      const tolerance: Tolerance = identity
        ? { abs: 0, rel: 2 * EPS32, why: 'exact sum; then 1/n and the product round once each' }
        : {
            abs: 1e-6,
            rel: (depth + 2) * EPS32,
            why: `sigmoid within 1e-6 (as the activation checks), then summation depth ${depth} + scale + accumulate roundings of sum |terms|`,
          };
      const result = combine([compare(got, want, tolerance, magnitude.map((m, i) => (i === slot ? m : 0))), sameBits(got, again, 'meanInto')]);
      x.buffer.destroy();
      out.buffer.destroy();
      return result;
    },
  })),
);

const fillChecks: Check[] = [
  ...[1, 3, 257, 1_000_003].map((n): Check => ({
    kernel: 'fill',
    case: `f32 n=${n}`,
    slow: n > 500_000,
    async run(ctx) {
      const t = tensorFrom(ctx, randomF32(n, 23 + n), [n], 't');
      ctx.run([fill(ctx, t, -1.5)]);
      const result = compare(await download(ctx, t), new Float64Array(n).fill(-1.5), { ...EXACT, why: 'a fill writes the value exactly' });
      t.buffer.destroy();
      return result;
    },
  })),
  {
    kernel: 'fill',
    case: 'u32 n=1000',
    async run(ctx) {
      const t = tensorFrom(ctx, new Uint32Array(1000).fill(7), [1000], 't');
      ctx.run([fill(ctx, t, 0xdead_beef)]);
      const result = compare(await downloadU32(ctx, t), new Float64Array(1000).fill(0xdead_beef), { ...EXACT, why: 'a fill writes the value exactly' });
      t.buffer.destroy();
      return result;
    },
  },
  {
    kernel: 'fill',
    case: 'rows view [1:3] of [4, 64]',
    async run(ctx) {
      // A view's fill must stop at the view: rows 0 and 3 keep their values.
      const data = randomF32(4 * 64, 29);
      const t = tensorFrom(ctx, data, [4, 64], 't');
      ctx.run([fill(ctx, t.rowsView(1, 2), 0)]);
      const want = Float64Array.from(data, (v, i) => (i >= 64 && i < 192 ? 0 : v));
      const result = compare(await download(ctx, t), want, { ...EXACT, why: 'a fill writes the value exactly and nothing outside the view' });
      t.buffer.destroy();
      return result;
    },
  },
];

export const reduceChecks: Check[] = [...sumRowsChecks, ...meanChecks, ...fillChecks];
