// Checks of the softmax cross-entropy gradient and loss against float64: batch shapes, the
// classifier's shapes, many classes, and extreme logits (+-1e4, where every exp but the
// maximum's underflows, and +-88/89 around f32's exp overflow), with labels at the row's
// maximum, at its minimum, and out of range. The loss also runs twice for identical bits.

import type { GpuContext } from '../gpu/context.ts';
import { softmaxCrossEntropyGrad, softmaxCrossEntropyLoss } from '../kernels/crossentropy.ts';
import * as ref from '../reference/crossentropy.ts';
import { createTensor, download, tensorFrom, upload } from '../tensor/tensor.ts';
import { combine, compare, EPS32, hostRandom, randomF32, type Check, type CheckResult, type Tolerance } from './check.ts';
import { sameBits } from './reduce.ts';

const SLOTS = 8;
const SLOT = 5;

/**
 * Per-row error bounds, in units of u = 2^-24 (plus 2^-21 for WGSL's absolute log accuracy
 * near 1). With Z = max |z|, C classes: s = sum exp(z - m) >= 1 of terms <= 1 errs by (C + 5) u
 * relative (C additions; each exp (3 + 2|t|) ulp and its argument's rounding, t e^-t <= 1/e);
 * log s adds 3 ulp of ln C; m + log s rounds on Z + ln C. Gradient: p = exp(z - lse) inherits
 * lse's error and adds 4.2 u absolute; p - [j = y] and the scale round once each.
 * Loss row: (m - z_y) rounds on |m - z_y|, log s as above, their sum on |L_i|.
 */
function rowBounds(z: Float32Array, labels: Uint32Array, classes: number) {
  const rows = labels.length;
  const grad = new Float64Array(rows * classes);
  const loss = new Float64Array(rows);
  const terms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const row = Array.from(z.subarray(i * classes, (i + 1) * classes));
    const big = Math.max(...row.map(Math.abs));
    const m = Math.max(...row);
    const logC = Math.log(classes);
    const lseError = classes + 5 + 3 * logC + big + logC;
    grad.fill(lseError + 4.2 + 2, i * classes, (i + 1) * classes);
    const label = labels[i];
    terms[i] = ref.softmaxCrossEntropy(row, label);
    loss[i] = (label < classes ? Math.abs(m - row[label]) : big + logC) + classes + 5 + 3 * logC + Math.abs(terms[i]);
  }
  return { grad, loss, terms };
}

async function runCase(ctx: GpuContext, z: Float32Array, labelData: Uint32Array, classes: number, scale: number, accumulate: boolean): Promise<CheckResult> {
  const rows = labelData.length;
  const initial = randomF32(SLOTS, 307 + rows);
  const logits = tensorFrom(ctx, z, [rows, classes], 'logits');
  const labels = tensorFrom(ctx, labelData, [rows], 'labels');
  const grad = createTensor(ctx, [rows, classes], 'f32', 'grad');
  const out = createTensor(ctx, [SLOTS], 'f32', 'metrics');
  const steps = [softmaxCrossEntropyGrad(ctx, logits, labels, grad, { scale }), softmaxCrossEntropyLoss(ctx, logits, labels, out, { slot: SLOT, scale, accumulate })];
  upload(ctx, out, initial);
  ctx.run(steps);
  const [gradGot, lossGot] = [await download(ctx, grad), await download(ctx, out)];
  upload(ctx, out, initial);
  ctx.run(steps);
  const lossAgain = await download(ctx, out);

  const bounds = rowBounds(z, labelData, classes);
  const gradTol: Tolerance = {
    abs: Math.abs(scale) * 2 ** -21,
    rel: EPS32,
    why: 'per row |scale| u (Z + C + 4 ln C + 14): lse error, exp of z - lse, the one-hot subtraction and the scale; plus |scale| 2^-21 for log',
  };
  const depth = Math.ceil(rows / 256) + 8;
  const lossWant = Float64Array.from(initial);
  lossWant[SLOT] = (accumulate ? initial[SLOT] : 0) + ref.softmaxCrossEntropyLoss(z, labelData, classes, scale);
  const lossScale = new Float64Array(SLOTS);
  let rowSum = 0;
  let termSum = 0;
  for (let i = 0; i < rows; i++) {
    rowSum += bounds.loss[i];
    termSum += Math.abs(bounds.terms[i]);
  }
  lossScale[SLOT] = Math.abs(scale) * (rowSum + depth * termSum) + 2 * Math.abs(lossWant[SLOT]) + (accumulate ? Math.abs(initial[SLOT]) : 0);
  const lossTol: Tolerance = {
    abs: Math.abs(scale) * rows * 2 ** -21,
    rel: EPS32,
    why: `u (sum of row bounds + summation depth ${depth} (ceil(rows/256) + 8 levels) * sum |L_i|) * |scale|, then scale and accumulate round; 2^-21 per row for log`,
  };
  const result = combine([
    compare(gradGot, ref.softmaxCrossEntropyGrad(z, labelData, classes, scale), gradTol, bounds.grad.map((b) => Math.abs(scale) * b)),
    compare(lossGot, lossWant, lossTol, lossScale),
    sameBits(lossGot, lossAgain, 'softmaxCrossEntropyLoss'),
  ]);
  for (const t of [logits, labels, grad, out]) t.buffer.destroy();
  return result;
}

function randomLabels(rows: number, classes: number, seed: number): Uint32Array {
  const next = hostRandom(seed);
  return Uint32Array.from({ length: rows }, () => Math.floor(next() * classes));
}

const SHAPES: readonly (readonly [number, number])[] = [[1, 1], [1, 10], [7, 3], [100, 10], [257, 1000], [1000, 10], [10_000, 10]];

const shapeChecks: Check[] = SHAPES.flatMap(([rows, classes]): Check[] => [
  {
    kernel: 'softmaxCrossEntropy',
    case: `${rows}x${classes} scale=1/rows`,
    run: (ctx) => runCase(ctx, randomF32(rows * classes, 311 + rows * classes, -10, 10), randomLabels(rows, classes, 313 + rows), classes, 1 / rows, false),
  },
  {
    kernel: 'softmaxCrossEntropy',
    case: `${rows}x${classes} scale=-0.5 accumulate`,
    run: (ctx) => runCase(ctx, randomF32(rows * classes, 317 + rows * classes, -30, 30), randomLabels(rows, classes, 319 + rows), classes, -0.5, true),
  },
]);

/**
 * Rows of 4 classes built around extreme values, each with its label at the row's maximum, at
 * its minimum, and out of range (4). At +-1e4 the non-maximal exps underflow to 0 exactly.
 */
const extremeCheck: Check = {
  kernel: 'softmaxCrossEntropy',
  case: 'extreme logits, labels at max, min and out of range',
  async run(ctx) {
    const bases = [[1e4, -1e4, 0, 1], [88, -88, 89, -89], [0, 0, 0, 0], [-1e4, -1e4, -1e4, -1e4 + 1], [1e-3, -1e-3, 3, -3], [30, 30, -30, 0]];
    const rows: number[][] = [];
    const labels: number[] = [];
    for (const b of bases) {
      const max = b.indexOf(Math.max(...b));
      const min = b.indexOf(Math.min(...b));
      for (const y of [max, min, 4]) {
        rows.push(b);
        labels.push(y);
      }
    }
    return runCase(ctx, Float32Array.from(rows.flat()), Uint32Array.from(labels), 4, 1 / 3, false);
  },
};

export const crossEntropyChecks: Check[] = [...shapeChecks, extremeCheck];
