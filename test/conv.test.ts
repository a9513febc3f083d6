// The convolution geometry (output sizes) and the float64 twins' consistency, on the host: the
// gradients are the adjoints of the forward ops (<conv(x), dy> = <x, dX(dy)> = <w, dW(x, dy)>),
// and a conv-transpose is the input gradient of the conv it transposes. The GPU kernels are
// held to these twins by src/checks/conv.ts.

import { describe, expect, test } from 'vitest';
import { hostRandom } from '../src/checks/check.ts';
import { convGemmShape, convOutputSize, resolveConvGeometry, subpixelClasses, type Conv2dGeometry } from '../src/kernels/conv.ts';
import { convForwardReference, convInputGradReference, convMacs, convWeightGradReference } from '../src/reference/conv.ts';

function random(n: number, seed: number): Float64Array {
  const next = hostRandom(seed);
  return Float64Array.from({ length: n }, () => 2 * next() - 1);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('conv geometry', () => {
  test('output sizes of the DCGAN MNIST layers', () => {
    const layer = { kernel: 4, stride: 2, padding: 1 };
    expect(convOutputSize(28, { ...layer, transposed: false })).toBe(14);
    expect(convOutputSize(14, { ...layer, transposed: false })).toBe(7);
    expect(convOutputSize(7, { ...layer, transposed: true })).toBe(14);
    expect(convOutputSize(14, { ...layer, transposed: true })).toBe(28);
    const g = resolveConvGeometry({ batch: 64, inH: 28, inW: 28, inC: 1, outC: 64, ...layer, transposed: false });
    expect([g.outH, g.outW, g.outputPadding]).toEqual([14, 14, 0]);
  });
  test("each op's implicit GEMM (D's second layer at batch 64)", () => {
    const g: Conv2dGeometry = { batch: 64, inH: 14, inW: 14, inC: 64, outC: 128, kernel: 4, stride: 2, padding: 1, transposed: false };
    expect(convGemmShape(g, 'forward')).toEqual({ m: 64 * 7 * 7, n: 128, k: 16 * 64, transA: false, transB: false, parts: 1 });
    // The transposed gather: 4 sub-pixel classes, each a quarter of the pixels and of the taps.
    expect(convGemmShape(g, 'inputGrad')).toEqual({ m: 64 * 7 * 7, n: 64, k: 4 * 128, transA: false, transB: true, parts: 4 });
    expect(convGemmShape(g, 'weightGrad')).toEqual({ m: 16 * 64, n: 128, k: 64 * 7 * 7, transA: true, transB: false, parts: 1 });
  });
  test('sub-pixel classes: every pixel is in one class, with exactly the taps its transposed gather divides', () => {
    for (const [grid, kernel, stride, padding] of [[[14, 14], 4, 2, 1], [[13, 9], 5, 2, 2], [[7, 11], 2, 3, 0], [[5, 4], 3, 3, 1], [[6, 6], 3, 1, 1], [[1, 1], 1, 2, 0]] as const) {
      const g = { batch: 2, kernel, stride, padding };
      const classes = subpixelClasses(g, grid, 3);
      expect(classes.length).toBe(stride * stride);
      const pixels = new Array<number>(classes.length).fill(0);
      const taps = new Array<number>(classes.length).fill(-1);
      for (let gh = 0; gh < grid[0]; gh++) {
        for (let gw = 0; gw < grid[1]; gw++) {
          const z = ((gh + padding) % stride) * stride + ((gw + padding) % stride);
          let exact = 0;
          for (let kh = 0; kh < kernel; kh++) for (let kw = 0; kw < kernel; kw++) if ((gh + padding - kh) % stride === 0 && (gw + padding - kw) % stride === 0) exact++;
          pixels[z] += 2;
          if (taps[z] >= 0) expect(exact).toBe(taps[z]);
          taps[z] = exact;
        }
      }
      classes.forEach((c, z) => {
        expect(c.pixels).toBe(pixels[z]);
        if (taps[z] >= 0) expect(c.columns).toBe(3 * taps[z]);
      });
      // The taps split among the classes too (rows of dW: no class writes another's).
      expect(classes.reduce((sum, c) => sum + c.columns / 3, 0)).toBe(kernel * kernel);
    }
  });
  test('stride 1 keeps the size with "same" padding; output padding picks the larger transpose', () => {
    expect(convOutputSize(13, { kernel: 3, stride: 1, padding: 1, transposed: false })).toBe(13);
    expect(convOutputSize(13, { kernel: 5, stride: 1, padding: 2, transposed: true })).toBe(13);
    // A stride-2 conv maps both 13 and 14 onto 7 (kernel 3, padding 1); outputPadding 1 restores 14.
    expect(convOutputSize(13, { kernel: 3, stride: 2, padding: 1, transposed: false })).toBe(7);
    expect(convOutputSize(7, { kernel: 3, stride: 2, padding: 1, transposed: true })).toBe(13);
    expect(convOutputSize(7, { kernel: 3, stride: 2, padding: 1, transposed: true, outputPadding: 1 })).toBe(14);
  });
});

const GEOMETRIES: Conv2dGeometry[] = [
  { batch: 2, inH: 5, inW: 7, inC: 3, outC: 2, kernel: 3, stride: 2, padding: 1, transposed: false },
  { batch: 1, inH: 8, inW: 11, inC: 2, outC: 3, kernel: 2, stride: 3, padding: 0, transposed: false },
  { batch: 2, inH: 4, inW: 3, inC: 2, outC: 3, kernel: 4, stride: 2, padding: 1, transposed: true },
  { batch: 1, inH: 4, inW: 5, inC: 2, outC: 3, kernel: 5, stride: 3, padding: 2, transposed: true, outputPadding: 2 },
];

describe('conv float64 twins', () => {
  test.each(GEOMETRIES.map((g) => [JSON.stringify(g), g] as const))('the gradients are the adjoints of the forward op: %s', (_, geometry) => {
    const g = resolveConvGeometry(geometry);
    const x = random(g.batch * g.inH * g.inW * g.inC, 1);
    const w = random(g.kernel * g.kernel * g.inC * g.outC, 2);
    const dy = random(g.batch * g.outH * g.outW * g.outC, 3);
    const y = convForwardReference(x, w, g).out;
    const dx = convInputGradReference(dy, w, g).out;
    const dw = convWeightGradReference(x, dy, g).out;
    const want = dot(y, dy);
    expect(Math.abs(want)).toBeGreaterThan(0.1);
    expect(dot(x, dx)).toBeCloseTo(want, 10);
    expect(dot(w, dw)).toBeCloseTo(want, 10);
  });

  test('a conv-transpose is the input gradient of the conv it transposes, with W its last axes swapped', () => {
    // Without output padding: a larger transpose output is a size whose rows the conv's windows do not tile (refused).
    const t = resolveConvGeometry({ batch: 2, inH: 4, inW: 5, inC: 3, outC: 2, kernel: 3, stride: 2, padding: 1, transposed: true });
    const c = resolveConvGeometry({ batch: 2, inH: t.outH, inW: t.outW, inC: t.outC, outC: t.inC, kernel: 3, stride: 2, padding: 1, transposed: false });
    expect([c.outH, c.outW]).toEqual([t.inH, t.inW]);
    const x = random(t.batch * t.inH * t.inW * t.inC, 4);
    const w = random(3 * 3 * t.inC * t.outC, 5);
    // w [kh, kw, ci, co] of the transpose is the conv's [kh, kw, co, ci].
    const swapped = new Float64Array(w.length);
    for (let tap = 0; tap < 9; tap++) {
      for (let ci = 0; ci < t.inC; ci++) for (let co = 0; co < t.outC; co++) swapped[(tap * t.outC + co) * t.inC + ci] = w[(tap * t.inC + ci) * t.outC + co];
    }
    const viaTranspose = convForwardReference(x, w, t).out;
    const viaConv = convInputGradReference(x, swapped, c).out;
    expect(viaTranspose.length).toBe(viaConv.length);
    viaTranspose.forEach((v, i) => expect(v).toBeCloseTo(viaConv[i], 12));
  });

  test('a hand-worked conv: 3x3 ones, kernel 2 of ones, stride 1, padding 1', () => {
    const g = resolveConvGeometry({ batch: 1, inH: 3, inW: 3, inC: 1, outC: 1, kernel: 2, stride: 1, padding: 1, transposed: false });
    const y = convForwardReference(new Float64Array(9).fill(1), new Float64Array(4).fill(1), g).out;
    // Each output counts the input pixels its 2x2 window covers.
    expect([...y]).toEqual([1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1]);
    expect(convMacs(g)).toBe(36);
  });
});
