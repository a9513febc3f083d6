// Float64 / exact-integer reference of the random kernels: Philox 4x32-10 on the host, and the
// same conversions the shaders make (shaders/lib/philox.wgsl, shaders/random.wgsl). Written
// for clarity: the integer outputs must match the GPU bit for bit, the float outputs are the
// exact values the GPU's f32 arithmetic approximates.

const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;

/** The high and low 32 bits of the 64-bit product a * b of two u32. */
export function mulHiLo(a: number, b: number): [hi: number, lo: number] {
  // a * (b >> 16) and a * (b & 0xffff) are below 2^48, exact in a double; the GPU splits both
  // factors into 16-bit halves instead, so the two derivations check each other.
  const upper = a * (b >>> 16);
  const lower = a * (b & 0xffff);
  const hi = Math.floor((upper + Math.floor(lower / 65536)) / 65536) >>> 0;
  const lo = Math.imul(a, b) >>> 0;
  return [hi, lo];
}

export type Counter = readonly [number, number, number, number];
export type Key = readonly [number, number];

/** Philox 4x32 with `rounds` rounds (Salmon et al., SC'11), as in Random123's philox4x32_R. */
export function philox4x32(counter: Counter, key: Key, rounds = 10): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((v) => v >>> 0);
  let [k0, k1] = key.map((v) => v >>> 0);
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    const [hi0, lo0] = mulHiLo(PHILOX_M0, c0);
    const [hi1, lo1] = mulHiLo(PHILOX_M1, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}

/** The generator's coordinates, as the kernels resolve them (clock already read). */
export interface RandomCoordinates {
  seed: number;
  stream: number;
  /** clock[0] + offset, modulo 2^32. */
  step: number;
}

/** The 64-bit seed as the Philox key: low word, high word. */
export function seedKey(seed: number): Key {
  return [seed % 2 ** 32 >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

/**
 * The four words of block `block` for draw `attempt`: counter (block, attempt, stream, step).
 * Element i of an output uses word i % 4 of block i / 4; `attempt` > 0 only for rejections.
 */
export function randomBlock(c: RandomCoordinates, block: number, attempt = 0): [number, number, number, number] {
  return philox4x32([block, attempt, c.stream, c.step], seedKey(c.seed));
}

export function randomWord(c: RandomCoordinates, i: number, attempt = 0): number {
  return randomBlock(c, Math.floor(i / 4), attempt)[i % 4];
}

/** A word's top 24 bits as a uniform in [0, 1): k * 2^-24, exact in f32. */
export function unitInterval(word: number): number {
  return (word >>> 8) * 2 ** -24;
}

/** The f32 just below f32(hi): the kernel's upper clamp, so that U[lo, hi) never returns hi. */
export function f32Below(hi: number): number {
  const f = new Float32Array([hi]);
  const bits = new Uint32Array(f.buffer);
  if (f[0] === 0) return -(2 ** -149);
  bits[0] += f[0] > 0 ? -1 : 1;
  return f[0];
}

export function randomUniform(c: RandomCoordinates, n: number, lo = 0, hi = 1): Float64Array {
  const below = f32Below(hi);
  return Float64Array.from({ length: n }, (_, i) => Math.min(lo + (hi - lo) * unitInterval(randomWord(c, i)), below));
}

/**
 * Box-Muller on words (w0, w1) -> two normals. u1 = (w0 >> 8 + 1) 2^-24 lies in (0, 1], so
 * log never sees 0 (the largest |z| is sqrt(48 ln 2) = 5.77). The angle takes its octant
 * from w1's top three bits and its position inside the octant from the next 24 bits.
 */
export function boxMuller(w0: number, w1: number): { z0: number; z1: number; r: number } {
  const u1 = ((w0 >>> 8) + 1) * 2 ** -24;
  const r = Math.sqrt(-2 * Math.log(u1));
  const angle = ((w1 >>> 29) + ((w1 >>> 5) & 0xffffff) * 2 ** -24) * (Math.PI / 4);
  return { z0: r * Math.cos(angle), z1: r * Math.sin(angle), r };
}

/** Also returns each element's radius r (the magnitude the f32 error scales with). */
export function randomNormalWithRadius(c: RandomCoordinates, n: number, mean = 0, std = 1): { values: Float64Array; radius: Float64Array } {
  const values = new Float64Array(n);
  const radius = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const block = randomBlock(c, Math.floor(i / 4));
    const pair = (i % 4) / 2;
    const [w0, w1] = [block[2 * pair], block[2 * pair + 1]];
    const { z0, z1, r } = boxMuller(w0, w1);
    values[i] = mean + std * z0;
    radius[i] = r;
    if (i + 1 < n) {
      values[i + 1] = mean + std * z1;
      radius[i + 1] = r;
    }
  }
  return { values, radius };
}

export function randomNormal(c: RandomCoordinates, n: number, mean = 0, std = 1): Float64Array {
  return randomNormalWithRadius(c, n, mean, std).values;
}

/** The most draws an integer takes before it accepts a biased one (never reached in practice). */
export const MAX_INTEGER_ATTEMPTS = 64;

/**
 * Uniform integers in [0, bound) by Lemire's multiply-and-reject: hi(w * bound) is the value,
 * and a draw whose low word falls below 2^32 mod bound is rejected (redrawn with attempt + 1)
 * so that every value has exactly the same number of accepted words.
 */
export function randomIntegers(c: RandomCoordinates, n: number, bound: number): Uint32Array {
  const threshold = (2 ** 32 % bound) >>> 0;
  return Uint32Array.from({ length: n }, (_, i) => {
    for (let attempt = 0; ; attempt++) {
      const [hi, lo] = mulHiLo(randomWord(c, i, attempt), bound);
      if (lo >= threshold || attempt + 1 === MAX_INTEGER_ATTEMPTS) return hi;
    }
  });
}

/** Rounds of the Feistel network behind randomPermutation, and its round keys' counter. */
export const FEISTEL_ROUNDS = 8;

/** MurmurHash3's 32-bit finaliser: a bijective mixer of u32. */
export function fmix32(h: number): number {
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Bits of the Feistel domain: the smallest b with 2^b >= domain. */
export function permutationBits(domain: number): number {
  let b = 0;
  while (2 ** b < domain) b++;
  return b;
}

/** The round keys: blocks 0 and 1 of the op's Philox sequence. */
export function permutationKeys(c: RandomCoordinates): number[] {
  return [...randomBlock(c, 0), ...randomBlock(c, 1)];
}

/**
 * One pass of the Feistel network over b-bit values. The value splits into a high part of
 * `a` bits and a low part of b - a bits; a round moves the low part up and replaces the high
 * part by itself XOR F(low), so the widths swap each round. Each round is invertible (knowing
 * the new high part gives the old low part, which gives F and so the old high part), so the
 * network is a bijection of [0, 2^b) for any keys.
 */
export function feistel(x: number, bits: number, keys: readonly number[]): number {
  let hiBits = Math.ceil(bits / 2);
  for (let r = 0; r < FEISTEL_ROUNDS; r++) {
    const loBits = bits - hiBits;
    const high = Math.floor(x / 2 ** loBits);
    const low = x % 2 ** loBits;
    const mixed = (high ^ (fmix32((low ^ keys[r]) >>> 0) % 2 ** hiBits)) >>> 0;
    x = low * 2 ** hiBits + mixed;
    hiBits = loBits;
  }
  return x;
}

/** pi(x) for x < domain: the Feistel bijection of [0, 2^b), cycle-walked back into [0, domain). */
export function permute(x: number, domain: number, keys: readonly number[]): number {
  const bits = permutationBits(domain);
  let y = feistel(x, bits, keys);
  while (y >= domain) y = feistel(y, bits, keys);
  return y;
}

export function randomPermutation(c: RandomCoordinates, n: number, domain: number, start = 0): Uint32Array {
  const keys = permutationKeys(c);
  return Uint32Array.from({ length: n }, (_, i) => permute(start + i, domain, keys));
}
