// Counter-based random numbers on the GPU (Philox 4x32-10): uniform and normal floats,
// uniform integers, and slices of random permutations. Each op is a pure function of
// (seed, stream, clock[0] + offset, element index), so a recorded dispatch replays to fresh
// numbers when the trainer advances its clock, and to the same numbers for the same clock.

import source from '../../shaders/random.wgsl?raw';
import normalLib from '../../shaders/lib/normal.wgsl?raw';
import permutationLib from '../../shaders/lib/permutation.wgsl?raw';
import philoxLib from '../../shaders/lib/philox.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import { createTensor, type Tensor } from '../tensor/tensor.ts';
import { ELEMENTWISE_WG, expectDistinct, expectDType, expectFinite, expectShape, grid1d } from './common.ts';

export const philoxShader = defineShader('lib/philox.wgsl', philoxLib);
export const normalShader = defineShader('lib/normal.wgsl', normalLib);
export const permutationShader = defineShader('lib/permutation.wgsl', permutationLib, [philoxShader]);
const shader = defineShader('random.wgsl', source, [philoxShader, normalShader, permutationShader]);

const DRAW = ['write', 'read', 'uniform'] as const;
const UNIFORM: KernelSpec = { shader, entry: 'draw_uniform', bindings: DRAW };
const NORMAL: KernelSpec = { shader, entry: 'draw_normal', bindings: DRAW };
const INTEGERS: KernelSpec = { shader, entry: 'draw_integers', bindings: DRAW };
const PERMUTATION: KernelSpec = { shader, entry: 'draw_permutation', bindings: DRAW };
const PHILOX_RAW: KernelSpec = { shader, entry: 'philox_raw', bindings: DRAW };

export interface RandomOptions {
  /** The key: an integer in [0, 2^53), used as a 64-bit seed (low and high words). */
  seed: number;
  /** One per recorded op: different streams give independent sequences. In [0, 2^32). */
  stream: number;
  /** Added to clock[0] (mod 2^32) to form the counter's step. In [0, 2^32); default 0. */
  offset?: number;
  /**
   * u32 tensor whose element 0 is the trainer's iteration counter, read on the GPU at run time
   * (advanced by incrementCounter in kernels/optim.ts). Without one the step is just `offset`.
   */
  clock?: Tensor;
}

/** The largest permutation domain: the Feistel network's shifts stay below 32 bits. */
export const MAX_PERMUTATION_DOMAIN = 2 ** 31;

/** out[i] ~ U[lo, hi) (f32; never exactly hi). */
export function randomUniform(ctx: GpuContext, out: Tensor, opts: RandomOptions & { lo?: number; hi?: number }): Dispatch {
  const op = 'randomUniform';
  const lo = opts.lo ?? 0;
  const hi = opts.hi ?? 1;
  expectFinite(op, 'lo', lo);
  expectFinite(op, 'hi', hi);
  const [lo32, hi32] = [Math.fround(lo), Math.fround(hi)];
  const span = Math.fround(hi - lo);
  if (!(lo32 < hi32) || !Number.isFinite(span)) {
    throw new ShapeError(`${op}: need lo < hi as f32 with a finite hi - lo, got [${lo}, ${hi})`);
  }
  return draw(ctx, UNIFORM, op, out, 'f32', opts, { lo: lo32, scale: span, belowHi: f32Below(hi32) });
}

/** out[i] ~ N(mean, std^2) by Box-Muller (both outputs of each pair used; |z| <= 5.77). */
export function randomNormal(ctx: GpuContext, out: Tensor, opts: RandomOptions & { mean?: number; std?: number }): Dispatch {
  const op = 'randomNormal';
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  expectFinite(op, 'mean', mean);
  expectFinite(op, 'std', std);
  if (std < 0) throw new ShapeError(`${op}: std must be >= 0, got ${std}`);
  return draw(ctx, NORMAL, op, out, 'f32', opts, { lo: mean, scale: std });
}

/** out[i] uniform integers in [0, bound), with replacement (u32 out); exactly uniform. */
export function randomIntegers(ctx: GpuContext, out: Tensor, opts: RandomOptions & { bound: number }): Dispatch {
  const op = 'randomIntegers';
  const { bound } = opts;
  if (!Number.isInteger(bound) || bound < 1 || bound > 0xffffffff) {
    throw new ShapeError(`${op}: bound must be an integer in [1, 2^32 - 1], got ${bound}`);
  }
  return draw(ctx, INTEGERS, op, out, 'u32', opts, { bound, threshold: 2 ** 32 % bound });
}

/**
 * out[i] = pi(start + i) for i < out.size, where pi is a pseudo-random permutation of
 * [0, domain) keyed by (seed, stream, clock, offset): distinct values, a fresh permutation per
 * clock value. Any slice of one permutation comes from one dispatch, no sort.
 */
export function randomPermutation(ctx: GpuContext, out: Tensor, opts: PermutationDraw & { start?: number }): Dispatch {
  const op = 'randomPermutation';
  const start = opts.start ?? 0;
  const { domain, bits } = permutationSlice(op, `${out}`, start, out.size, opts);
  return draw(ctx, PERMUTATION, op, out, 'u32', opts, { bound: domain, start, bits }, out.size);
}

/** A random permutation of [0, domain) (randomPermutation's, and the drawing gathers'). */
export interface PermutationDraw extends RandomOptions {
  domain: number;
}

/**
 * Checks that positions start..start + n of the permutation `draw` exist, and gives its
 * domain and Feistel width (lib/permutation.wgsl: 2^(bits - 1) < domain <= 2^bits).
 */
export function permutationSlice(op: string, what: string, start: number, n: number, draw: PermutationDraw): { domain: number; bits: number } {
  const { domain } = draw;
  if (!Number.isInteger(domain) || domain < 1 || domain > MAX_PERMUTATION_DOMAIN) {
    throw new ShapeError(`${op}: domain must be an integer in [1, 2^31], got ${domain}`);
  }
  if (!Number.isInteger(start) || start < 0 || start + n > domain) {
    throw new ShapeError(`${op}: positions ${start}..${start + n} of ${what} exceed the domain ${domain}`);
  }
  let bits = 0;
  while (2 ** bits < domain) bits++;
  return { domain, bits };
}

/** out[i, :] = Philox4x32-10(counter = input[i, 0..4], key = input[i, 4..6]): the bare generator. */
export function philoxRaw(ctx: GpuContext, input: Tensor, out: Tensor): Dispatch {
  const op = 'philoxRaw';
  expectDType(op, input, 'u32');
  expectDType(op, out, 'u32');
  const n = input.size / 6;
  if (!Number.isInteger(n) || input.cols !== 6) throw new ShapeError(`${op}: ${input} must have shape [n, 6] (counter, key)`);
  expectShape(op, out, [n, 4]);
  expectDistinct(op, input, out);
  return ctx.dispatch(PHILOX_RAW, {
    label: op,
    constants: { WG: ELEMENTWISE_WG },
    resources: [out.binding(), input.binding(), packParams(n, 0, 0, 0, {})],
    workgroups: grid1d(ctx, n),
  });
}

/** The f32 just below `x` (an f32): the upper clamp that keeps U[lo, hi) open at hi. */
function f32Below(x: number): number {
  const f = new Float32Array([x]);
  const bits = new Uint32Array(f.buffer);
  if (f[0] === 0) return -(2 ** -149);
  bits[0] += f[0] > 0 ? -1 : 1;
  return f[0];
}

interface DrawParams {
  bound?: number;
  threshold?: number;
  start?: number;
  bits?: number;
  lo?: number;
  scale?: number;
  belowHi?: number;
}

/** Per-context u32 zero, bound as the clock of ops given none. */
const zeroClocks = new WeakMap<GpuContext, Tensor>();

/**
 * Validates (seed, stream, offset, clock) for an op writing `out`, and resolves the clock a
 * dispatch binds (a shared zero clock when none is given). Kernels that draw from Philox
 * outside this file (the toy mixtures) use it too.
 */
export function resolveRandomOptions(ctx: GpuContext, op: string, out: Tensor, opts: RandomOptions): { seed: number; stream: number; offset: number; clock: Tensor } {
  const { seed, stream } = opts;
  const offset = opts.offset ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ShapeError(`${op}: seed must be an integer in [0, 2^53), got ${seed}`);
  if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) throw new ShapeError(`${op}: stream must be a u32, got ${stream}`);
  if (!Number.isInteger(offset) || offset < 0 || offset > 0xffffffff) throw new ShapeError(`${op}: offset must be a u32, got ${offset}`);
  let clock = opts.clock;
  if (clock) {
    expectDType(op, clock, 'u32');
    expectDistinct(op, out, clock);
  } else {
    clock = zeroClocks.get(ctx);
    if (!clock) {
      clock = createTensor(ctx, [4], 'u32', 'zero clock');
      zeroClocks.set(ctx, clock);
    }
  }
  return { seed, stream, offset, clock };
}

function draw(
  ctx: GpuContext,
  spec: KernelSpec,
  op: string,
  out: Tensor,
  dtype: 'f32' | 'u32',
  opts: RandomOptions,
  p: DrawParams,
  invocations = Math.ceil(out.size / 4),
): Dispatch {
  expectDType(op, out, dtype);
  const { seed, stream, offset, clock } = resolveRandomOptions(ctx, op, out, opts);
  return ctx.dispatch(spec, {
    label: `${op}(stream ${stream})`,
    constants: { WG: ELEMENTWISE_WG },
    resources: [out.binding(), clock.binding(), packParams(out.size, seed, stream, offset, p)],
    workgroups: grid1d(ctx, invocations),
  });
}

/** random.wgsl's Params, field by field. */
function packParams(n: number, seed: number, stream: number, offset: number, p: DrawParams): Uint8Array {
  return uniforms([
    ['u32', n],
    ['u32', seed % 2 ** 32],
    ['u32', Math.floor(seed / 2 ** 32)],
    ['u32', stream],
    ['u32', offset],
    ['u32', p.bound ?? 0],
    ['u32', p.threshold ?? 0],
    ['u32', p.start ?? 0],
    ['u32', p.bits ?? 0],
    ['f32', p.lo ?? 0],
    ['f32', p.scale ?? 0],
    ['f32', p.belowHi ?? 0],
  ]);
}
