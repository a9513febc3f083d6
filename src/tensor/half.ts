// IEEE binary16 on the host: exact conversions between numbers and half bit patterns, the
// float64 twin of the GPU's (kernels/half.ts, and lib/elements_f16.wgsl's widening). Node has
// no Float16Array yet, so halves travel as Uint16Array bit patterns.

/** The binary16 nearest to x (ties to even); beyond the largest finite half, an infinity; NaN as a quiet NaN. */
export function halfBits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const v = Math.abs(x);
  // 65520 is halfway between 65504 (the largest half) and 2^16: it and above round to infinity.
  if (v >= 65520) return sign | 0x7c00;
  if (v < 2 ** -14) return sign | roundHalfEven(v / 2 ** -24); // subnormal (1024 rounds up to the least normal)
  let e = Math.floor(Math.log2(v));
  if (2 ** e > v) e--;
  if (2 ** (e + 1) <= v) e++;
  const m = roundHalfEven((v / 2 ** e - 1) * 1024);
  return m === 1024 ? sign | ((e + 16) << 10) : sign | ((e + 15) << 10) | m;
}

/** The number a binary16 bit pattern holds. */
export function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return e === 0 ? sign * m * 2 ** -24 : sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** The spacing of binary16 values at |x| (one ulp): what a conversion may be off by when it may round either way. */
export function halfUlp(x: number): number {
  const v = Math.abs(x);
  return v < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(v)) - 10);
}

/** x rounded to binary16, as the number it becomes. */
export const toHalf = (x: number): number => halfValue(halfBits(x));

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}
