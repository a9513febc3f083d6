// The host's binary16 conversions (the reference the f16 kernels are checked against): every bit
// pattern round-trips, rounding is to nearest with ties to even, and the edges saturate to
// infinity where IEEE says. Then the f16 paths' refusals.

import { describe, expect, test } from 'vitest';
import { toF16 } from '../src/kernels/half.ts';
import { matmul } from '../src/kernels/matmul.ts';
import { halfBits, halfUlp, halfValue } from '../src/tensor/half.ts';
import { upload } from '../src/tensor/tensor.ts';
import { useGpu } from './gpu.ts';

describe('binary16 on the host', () => {
  test('every finite bit pattern round-trips, and the values are increasing', () => {
    let previous = -Infinity;
    for (let bits = 0xfc00; bits >= 0x8000; bits--) {
      const v = halfValue(bits);
      expect(halfBits(v)).toBe(bits);
      expect(v).toBeGreaterThanOrEqual(previous);
      previous = v;
    }
    for (let bits = 0; bits <= 0x7c00; bits++) {
      const v = halfValue(bits);
      expect(halfBits(v)).toBe(bits);
      expect(v).toBeGreaterThanOrEqual(previous);
      previous = v;
    }
  });

  test('to nearest, ties to even; overflow to infinity; NaN stays NaN; signed zeros', () => {
    expect(halfValue(halfBits(1 + 2 ** -11))).toBe(1); // a tie: to the even 1
    expect(halfValue(halfBits(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9); // a tie: to the even 1 + 2^-9
    expect(halfValue(halfBits(1 + 2 ** -11 + 2 ** -20))).toBe(1 + 2 ** -10);
    expect(halfValue(halfBits(65519))).toBe(65504);
    expect(halfValue(halfBits(65520))).toBe(Infinity);
    expect(halfValue(halfBits(-1e9))).toBe(-Infinity);
    expect(halfValue(halfBits(2 ** -25))).toBe(0); // half the least subnormal: a tie to 0
    expect(halfValue(halfBits(3 * 2 ** -26))).toBe(2 ** -24);
    expect(halfValue(halfBits(2 ** -14 - 2 ** -26))).toBe(2 ** -14); // rounds up into the normals
    expect(Number.isNaN(halfValue(halfBits(NaN)))).toBe(true);
    expect(Object.is(halfValue(halfBits(-0)), -0)).toBe(true);
    expect(halfUlp(1)).toBe(2 ** -10);
    expect(halfUlp(1e-6)).toBe(2 ** -24);
  });
});

describe('f16 operands on the GPU: refusals', () => {
  const gpu = useGpu();
  test('matmul takes both operands f32 or both f16; toF16 takes f32 into f16 of the same size', () => {
    const [a16, b32, c] = [gpu.tensor([4, 4], 'a', 'f16'), gpu.tensor([4, 4], 'b'), gpu.tensor([4, 4], 'c')];
    expect(() => matmul(gpu.ctx, a16, b32, c)).toThrow(/both be f32 or both f16, got f16 and f32/);
    expect(() => matmul(gpu.ctx, b32, b32, gpu.tensor([4, 4], 'c16', 'f16'))).toThrow(/c16:f16\[4, 4\] must be f32/);
    expect(() => toF16(gpu.ctx, b32, gpu.tensor([4, 5], 'd', 'f16'))).toThrow(/16 values for 20 elements/);
    expect(() => toF16(gpu.ctx, a16, gpu.tensor([4, 4], 'e', 'f16'))).toThrow(/must be f32/);
    expect(() => upload(gpu.ctx, a16, new Float32Array(16))).toThrow(/expected Uint16Array/);
  });
});
