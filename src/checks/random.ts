import type { GpuContext } from '../gpu/context.ts';
import { incrementCounter } from '../kernels/optim.ts';
import { philoxRaw, randomIntegers, randomNormal, randomPermutation, randomUniform } from '../kernels/random.ts';
import * as ref from '../reference/random.ts';
import { createTensor, download, downloadU32, tensorFrom, type Tensor } from '../tensor/tensor.ts';
import { combine, compare, EPS32, hostRandom, type Check, type CheckResult, type Tolerance } from './check.ts';

const EXACT: Tolerance = { abs: 0, rel: 0, why: 'integer arithmetic only: bit-exact' };

// lo + (hi - lo) u with u = k 2^-24: f32(lo), f32(hi - lo), the product and the sum each round
// by at most half an ulp, i.e. EPS32 (|lo| + |hi|) each.
const UNIFORM_TOL: Tolerance = { abs: 0, rel: 4 * EPS32, why: 'four f32 roundings, each <= EPS32 (|lo| + |hi|)' };
const UNIT_TOL: Tolerance = { abs: 0, rel: 0, why: 'U[0, 1) is k 2^-24, exact in f32: bit-exact' };

// Box-Muller with the log and sin/cos written out in f32 (series truncation < 2e-9): the result
// carries ~10 roundings (the log series, the division's 2.5 ulp, sqrt, the angle, the
// polynomials, the final multiply-adds), each relative to |mean| + std r. Lavapipe: 2.6 EPS32.
const NORMAL_TOL: Tolerance = { abs: 0, rel: 16 * EPS32, why: '~10 f32 roundings of |mean| + std r (measured 2.6 EPS32)' };

/** The clock every check uses, and the host step it stands for: clock[0] + offset. */
const CLOCK_VALUE = 41;
const OFFSET = 1000;

function withClock<T>(ctx: GpuContext, f: (clock: Tensor) => Promise<T>): Promise<T> {
  const clock = tensorFrom(ctx, new Uint32Array([CLOCK_VALUE]), [1], 'clock');
  return f(clock).finally(() => clock.buffer.destroy());
}

/** A seed above 2^32, so the key's high word is exercised. */
const SEED = 2 ** 35 + 0x1234567;
const COORDS = (stream: number): ref.RandomCoordinates => ({ seed: SEED, stream, step: CLOCK_VALUE + OFFSET });

const KNOWN_ANSWERS: { counter: ref.Counter; key: ref.Key; want: number[] }[] = [
  // Random123's kat_vectors for philox4x32-10 (also reproduced by the host reference).
  { counter: [0, 0, 0, 0], key: [0, 0], want: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  { counter: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], key: [0xffffffff, 0xffffffff], want: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd] },
  { counter: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], key: [0xa4093822, 0x299f31d0], want: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1] },
];

const philoxChecks: Check[] = [
  {
    kernel: 'philox4x32-10',
    case: 'Random123 known answers + 1000 random (counter, key) vs host',
    async run(ctx) {
      const next = hostRandom(123);
      const word = () => Math.floor(next() * 2 ** 32) >>> 0;
      const rows = [...KNOWN_ANSWERS.map((k) => [...k.counter, ...k.key])];
      for (let i = 0; i < 1000; i++) rows.push(Array.from({ length: 6 }, word));
      const input = tensorFrom(ctx, Uint32Array.from(rows.flat()), [rows.length, 6], 'philox input');
      const out = createTensor(ctx, [rows.length, 4], 'u32', 'philox out');
      ctx.run([philoxRaw(ctx, input, out)]);
      const got = await downloadU32(ctx, out);
      input.buffer.destroy();
      out.buffer.destroy();
      const published = KNOWN_ANSWERS.flatMap((k) => k.want);
      const host = rows.flatMap((r) => ref.philox4x32([r[0], r[1], r[2], r[3]], [r[4], r[5]]));
      return combine([compare(got.subarray(0, published.length), published, EXACT), compare(got, host, EXACT)]);
    },
  },
];

const SIZES = [1, 7, 1000, 262_147];

const uniformChecks: Check[] = [
  ...SIZES.map((n) => ({ lo: 0, hi: 1, n })),
  ...[7, 1000].flatMap((n) => [{ lo: 1, hi: 2, n }, { lo: -3, hi: 5.5, n }, { lo: 1e-3, hi: 1e-3 + 1e-6, n }]),
].map(({ lo, hi, n }): Check => ({
  kernel: 'randomUniform',
  case: `[${lo}, ${hi}) n=${n}`,
  run: (ctx) =>
    withClock(ctx, async (clock) => {
      const out = createTensor(ctx, [n], 'f32', 'uniform');
      ctx.run([randomUniform(ctx, out, { seed: SEED, stream: 3, offset: OFFSET, clock, lo, hi })]);
      const got = await download(ctx, out);
      out.buffer.destroy();
      const want = ref.randomUniform(COORDS(3), n, lo, hi);
      const unit = lo === 0 && hi === 1;
      const result = compare(got, want, unit ? UNIT_TOL : UNIFORM_TOL, unit ? undefined : new Float64Array(n).fill(Math.abs(lo) + Math.abs(hi)));
      return combine([result, inHalfOpen(got, Math.fround(lo), Math.fround(hi), result.tolerance)]);
    }),
}));

// Seed 7, stream 0, step 3400377 draws word 0xffffffd9 as element 2 (found by a host search):
// u = 1 - 2^-24, and 1 + (2 - 1) u rounds to 2 in f32, so only the kernel's clamp keeps [1, 2) open.
uniformChecks.push({
  kernel: 'randomUniform',
  case: '[1, 2) at u = 1 - 2^-24 (the clamp below hi)',
  async run(ctx) {
    const out = createTensor(ctx, [4], 'f32', 'uniform');
    ctx.run([randomUniform(ctx, out, { seed: 7, stream: 0, offset: 3_400_377, lo: 1, hi: 2 })]);
    const got = await download(ctx, out);
    out.buffer.destroy();
    const want = ref.randomUniform({ seed: 7, stream: 0, step: 3_400_377 }, 4, 1, 2);
    return combine([compare(got, want, UNIFORM_TOL, new Float64Array(4).fill(3)), inHalfOpen(got, 1, 2, UNIFORM_TOL)]);
  },
});

/** Every value in [lo, hi): a failure names the first value outside. */
function inHalfOpen(values: Float32Array, lo: number, hi: number, tolerance: Tolerance): CheckResult {
  const bad = values.findIndex((v) => !(v >= lo && v < hi));
  const pass = bad < 0;
  return { maxAbsError: 0, maxRelError: 0, worst: bad, pass, tolerance, detail: pass ? undefined : `element ${bad} = ${values[bad]} is outside [${lo}, ${hi})` };
}

const normalChecks: Check[] = [
  ...SIZES.map((n) => ({ mean: 0, std: 1, n })),
  ...[7, 1000].map((n) => ({ mean: 0.5, std: 2, n })),
  { mean: -1, std: 0, n: 5 },
].map(({ mean, std, n }): Check => ({
  kernel: 'randomNormal',
  case: `N(${mean}, ${std}^2) n=${n}`,
  run: (ctx) =>
    withClock(ctx, async (clock) => {
      const out = createTensor(ctx, [n], 'f32', 'normal');
      ctx.run([randomNormal(ctx, out, { seed: SEED, stream: 4, offset: OFFSET, clock, mean, std })]);
      const got = await download(ctx, out);
      out.buffer.destroy();
      const { values, radius } = ref.randomNormalWithRadius(COORDS(4), n, mean, std);
      return compare(got, values, NORMAL_TOL, radius.map((r) => Math.abs(mean) + std * r));
    }),
}));

// 0xc0000001 rejects a quarter of all draws (2^32 mod bound = 2^30 - 1), exercising the redraws.
const integerChecks: Check[] = [
  ...[1, 10, 60_000, 0xc0000001, 0xffffffff].map((bound) => ({ bound, n: 1000 })),
  { bound: 10, n: 262_147 },
  { bound: 3, n: 5 },
].map(({ bound, n }): Check => ({
  kernel: 'randomIntegers',
  case: `[0, ${bound}) n=${n}`,
  run: (ctx) =>
    withClock(ctx, async (clock) => {
      const out = createTensor(ctx, [n], 'u32', 'integers');
      ctx.run([randomIntegers(ctx, out, { seed: SEED, stream: 5, offset: OFFSET, clock, bound })]);
      const got = await downloadU32(ctx, out);
      out.buffer.destroy();
      return compare(got, ref.randomIntegers(COORDS(5), n, bound), EXACT);
    }),
}));

/** Each value below `domain` at most once (so a full permutation has each exactly once). */
function distinctBelow(values: Uint32Array, domain: number): CheckResult {
  const seen = new Uint8Array(domain);
  let bad = -1;
  for (let i = 0; i < values.length && bad < 0; i++) {
    if (values[i] >= domain || seen[values[i]]++) bad = i;
  }
  const pass = bad < 0;
  const detail = pass ? undefined : `element ${bad} = ${values[bad]} repeats or is >= ${domain}`;
  return { maxAbsError: 0, maxRelError: 0, worst: bad, pass, tolerance: EXACT, detail };
}

const permutationChecks: Check[] = [
  ...[1, 2, 3, 1000, 2000, 60_000].map((domain) => ({ domain, start: 0, n: domain })),
  { domain: 60_000, start: 59_000, n: 1000 },
  { domain: 2 ** 31, start: 2 ** 31 - 1000, n: 1000 },
  { domain: 65_537, start: 3, n: 65_534 },
].map(({ domain, start, n }): Check => ({
  kernel: 'randomPermutation',
  case: n === domain ? `full domain ${domain}` : `domain ${domain} [${start}, ${start + n})`,
  run: (ctx) =>
    withClock(ctx, async (clock) => {
      const out = createTensor(ctx, [n], 'u32', 'permutation');
      ctx.run([randomPermutation(ctx, out, { seed: SEED, stream: 6, offset: OFFSET, clock, domain, start })]);
      const got = await downloadU32(ctx, out);
      out.buffer.destroy();
      return combine([compare(got, ref.randomPermutation(COORDS(6), n, domain, start), EXACT), distinctBelow(got, domain)]);
    }),
}));

// A trainer records [random op, clock increment] once and replays it: replay k must draw with
// clock k, so after 3 replays the output is the draw for clock 2 and the clock reads 3.
const replayChecks: Check[] = [
  {
    kernel: 'randomPermutation',
    case: 'recorded [permutation, incrementCounter] replayed 3 times',
    async run(ctx) {
      const clock = tensorFrom(ctx, new Uint32Array([0]), [1], 'clock');
      const out = createTensor(ctx, [1000], 'u32', 'permutation');
      const steps = [randomPermutation(ctx, out, { seed: 9, stream: 2, clock, domain: 60_000 }), incrementCounter(ctx, clock)];
      ctx.run(steps, 3);
      const [got, tick] = [await downloadU32(ctx, out), await downloadU32(ctx, clock)];
      out.buffer.destroy();
      clock.buffer.destroy();
      return combine([
        compare(got, ref.randomPermutation({ seed: 9, stream: 2, step: 2 }, 1000, 60_000), EXACT),
        compare(tick, [3], EXACT),
      ]);
    },
  },
];

export const randomChecks: Check[] = [
  ...philoxChecks,
  ...uniformChecks,
  ...normalChecks,
  ...integerChecks,
  ...permutationChecks,
  ...replayChecks,
];
