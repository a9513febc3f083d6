import type { GpuContext } from '../gpu/context.ts';
import { gatherRowsWith, gatherValues, rowMinMaxWith, type RowStrategy } from '../kernels/gather.ts';
import * as ref from '../reference/gather.ts';
import { randomNormal } from '../kernels/random.ts';
import { randomPermutation as refPermutation } from '../reference/random.ts';
import { TensorBlocks } from '../tensor/blocks.ts';
import type { DType } from '../tensor/tensor.ts';
import { createTensor, download, downloadU32, tensorFrom, upload, type Tensor } from '../tensor/tensor.ts';
import { combine, compare, EPS32, hostRandom, randomF32, type Check, type Tolerance } from './check.ts';

// x * scale is one f32 multiply, correctly rounded in WGSL, and the reference rounds it the same.
const SCALED: Tolerance = { abs: 0, rel: 0, why: 'one correctly rounded f32 multiply, as the reference: bit-exact' };
// (x - min) / (max - min): the two subtractions round by half an ulp each and the division by
// up to 2.5 ulp (Vulkan's bound): 3.5 ulp <= 7 EPS32 relative to y. The row's min maps to 0 exactly.
const MINMAX: Tolerance = { abs: 0, rel: 8 * EPS32, why: 'two f32 subtractions + a 2.5-ulp division: <= 7 EPS32 of y' };
// x * scale + offset: two roundings in the reference; a GPU may fuse them into one fma, which
// differs by at most one rounding of the product, half an ulp of |x * scale| <= |y| + |offset|.
const OFFSET: Tolerance = { abs: 0, rel: EPS32, why: 'x * scale + offset, rounded twice or fused once: within 1 u of |y| + |offset|' };
const EXACT: Tolerance = { abs: 0, rel: 0, why: 'a copy or an exact conversion: bit-exact' };

/** Source rows: enough that the largest minibatch draws repeats and misses rows. */
function sourceRows(n: number): number {
  return Math.max(5, Math.ceil(n * 0.8));
}

/**
 * A source of `rows` x `d` values whose row 2 is constant (left unchanged by min-max), and
 * indices (after 3 unused leading ones) that repeat rows, pick the constant row and, once, an
 * index past the end (which must give a zero row).
 */
function gatherCase(n: number, d: number, dtype: 'u8' | 'f32', seed: number) {
  const rows = sourceRows(n);
  const next = hostRandom(seed);
  const src = dtype === 'u8'
    ? Uint8Array.from({ length: rows * d }, () => Math.floor(next() * 256))
    : randomF32(rows * d, seed, -3, 3);
  src.fill(dtype === 'u8' ? 200 : 0.75, 2 * d, 3 * d);
  const indexOffset = 3;
  const indices = Uint32Array.from({ length: indexOffset + n }, () => Math.floor(next() * rows));
  indices[indexOffset] = 2;
  if (n > 1) indices[indexOffset + 1] = indices[indexOffset + n - 1];
  if (n > 2) indices[indexOffset + 2] = rows + 7;
  return { rows, src, indices, indexOffset };
}

const STRATEGIES: RowStrategy[] = ['element', 'thread', 'workgroup'];

const gatherRowsChecks: Check[] = [1, 3, 5, 784].flatMap((d) =>
  [1, 7, 100, 1000].flatMap((n) =>
    (['u8', 'f32'] as const).flatMap((dtype) =>
      [false, true].map((minmax): Check => ({
        kernel: 'gatherRows',
        case: `${dtype}[*, ${d}] n=${n}${minmax ? ' minmax' : ''} (${STRATEGIES.filter((s) => !minmax || s !== 'element').join(', ')})`,
        async run(ctx: GpuContext) {
          const c = gatherCase(n, d, dtype, 1000 * d + n);
          // Bytes map to [0, 1] (MNIST's 1/255) or, for odd n, to [-1, 1] (scale 2/255, offset -1,
          // as for a tanh generator); f32 rows are scaled by 1.5.
          const [scale, offset] = dtype === 'f32' ? [1.5, 0] : n % 2 ? [2 / 255, -1] : [1 / 255, 0];
          const src = tensorFrom(ctx, c.src, [c.rows, d], 'src');
          const indices = tensorFrom(ctx, c.indices, [c.indices.length], 'indices');
          const dst = createTensor(ctx, [n, d], 'f32', 'dst');
          const want = ref.gatherRows(c.src, d, c.indices, n, { indexOffset: c.indexOffset, scale, offset, minmax });
          const fusedScale = Float64Array.from(want, (v) => Math.abs(v) + Math.abs(offset));
          const results = [];
          for (const strategy of STRATEGIES) {
            if (minmax && strategy === 'element') continue;
            ctx.run([gatherRowsWith(ctx, src, indices, dst, { indexOffset: c.indexOffset, scale, offset, minmax }, strategy)]);
            const got = await download(ctx, dst);
            const r = minmax ? compare(got, want, MINMAX) : offset ? compare(got, want, OFFSET, fusedScale) : compare(got, want, SCALED);
            results.push(r.pass ? r : { ...r, detail: `${strategy}: ${r.detail}` });
          }
          for (const t of [src, indices, dst]) t.buffer.destroy();
          return combine(results);
        },
      })),
    ),
  ),
);

const rowMinMaxChecks: Check[] = [
  [1, 1],
  [7, 3],
  [100, 100],
  [1000, 100],
  [2000, 784],
].map(([n, d]): Check => ({
  kernel: 'rowMinMax',
  case: `[${n}, ${d}] (thread, workgroup)`,
  async run(ctx) {
    const values = randomF32(n * d, 7 * n + d, -4, 4);
    values.fill(-0.5, 0, d);
    const x = tensorFrom(ctx, values, [n, d], 'x');
    const want = ref.rowMinMax(values, d);
    const results = [];
    for (const strategy of ['thread', 'workgroup'] as const) {
      // Each strategy starts from the original values.
      upload(ctx, x, values);
      ctx.run([rowMinMaxWith(ctx, x, strategy)]);
      const r = compare(await download(ctx, x), want, MINMAX);
      results.push(r.pass ? r : { ...r, detail: `${strategy}: ${r.detail}` });
    }
    x.buffer.destroy();
    return combine(results);
  },
}));

const gatherValuesChecks: Check[] = (['f32', 'u32', 'u8'] as const).flatMap((srcType) =>
  (['f32', 'u32'] as const).flatMap((dstType) =>
    [1, 7, 1000].map((n): Check => ({
      kernel: 'gatherValues',
      case: `${srcType} -> ${dstType} n=${n}`,
      async run(ctx) {
        const size = Math.max(5, n + 3);
        const next = hostRandom(n + 31);
        const data = makeValues(srcType, size, next);
        const indices = Uint32Array.from({ length: n + 2 }, () => Math.floor(next() * size));
        if (n > 2) indices[4] = size + 100;
        const src = tensorFrom(ctx, data, [size], 'src');
        const idx = tensorFrom(ctx, indices, [n + 2], 'indices');
        const dst = createTensor(ctx, [n], dstType, 'dst');
        ctx.run([gatherValues(ctx, src, idx, dst, { indexOffset: 2 })]);
        const got = dstType === 'f32' ? await download(ctx, dst) : await downloadU32(ctx, dst);
        for (const t of [src, idx, dst]) t.buffer.destroy();
        return compare(got, ref.gatherValues(data, indices, n, 2, dstType === 'u32'), EXACT);
      },
    })),
  ),
);

/** Values that convert exactly: f32 labels with fractions and negatives; u32 up to 2^24. */
function makeValues(dtype: DType, size: number, next: () => number): Float32Array | Uint32Array | Uint8Array {
  if (dtype === 'u8') return Uint8Array.from({ length: size }, () => Math.floor(next() * 256));
  if (dtype === 'u32') return Uint32Array.from({ length: size }, () => Math.floor(next() * 2 ** 24));
  return Float32Array.from({ length: size }, () => Math.round((next() * 40 - 10) * 4) / 4);
}

/** Buffers for blocks, made by the context and destroyed by the check. */
function blockAllocator(ctx: GpuContext, made: Tensor[]) {
  return { acquire: (shape: readonly number[], dtype: DType, label: string) => { const t = createTensor(ctx, shape, dtype, label); made.push(t); return t; } };
}

// Blocks: a whole epoch of minibatches in one dispatch, each block on a bindable boundary. The
// padding starts as a sentinel that must survive, so a row written one block off, or a stride
// taken from the rows instead of the padded blocks, fails; the values are the plain gather's.
const SENTINEL = -12345.5;

/** `want` (rows of `d` values, `blockRows` to a block) laid out in blocks `stride` apart, padding SENTINEL. */
function inBlocks(want: ArrayLike<number>, blockRows: number, d: number, count: number, stride: number): Float64Array {
  const out = new Float64Array(count * stride).fill(SENTINEL);
  for (let j = 0; j < count; j++) {
    for (let e = 0; e < blockRows * d; e++) out[j * stride + e] = want[j * blockRows * d + e];
  }
  return out;
}

const gatherBlockChecks: Check[] = ([
  ['f32', 784, 100, 3, false],
  ['f32', 100, 100, 4, false],
  ['u8', 5, 7, 3, true],
  ['u8', 1, 1, 5, false],
] as const).map(([dtype, d, blockRows, count, minmax]): Check => ({
  kernel: 'gatherRows',
  case: `${dtype}[*, ${d}] into ${count} blocks of ${blockRows} rows${minmax ? ' minmax' : ''} (${STRATEGIES.filter((s) => !minmax || s !== 'element').join(', ')})`,
  async run(ctx: GpuContext) {
    const n = blockRows * count;
    const c = gatherCase(n, d, dtype, 77 * d + n);
    const scale = dtype === 'f32' ? 1.5 : 1 / 255;
    const made: Tensor[] = [];
    const blocks = new TensorBlocks(blockAllocator(ctx, made), count, [blockRows, d], 'f32', 'blocks');
    const src = tensorFrom(ctx, c.src, [c.rows, d], 'src');
    const indices = tensorFrom(ctx, c.indices, [c.indices.length], 'indices');
    const want = inBlocks(ref.gatherRows(c.src, d, c.indices, n, { indexOffset: c.indexOffset, scale, minmax }), blockRows, d, count, blocks.stride);
    const results = [];
    for (const strategy of STRATEGIES) {
      if (minmax && strategy === 'element') continue;
      upload(ctx, blocks.flat, new Float32Array(blocks.flat.size).fill(SENTINEL));
      ctx.run([gatherRowsWith(ctx, src, indices, blocks, { indexOffset: c.indexOffset, scale, minmax }, strategy)]);
      const r = compare(await download(ctx, blocks.flat), want, minmax ? MINMAX : SCALED);
      results.push(r.pass ? r : { ...r, detail: `${strategy}: ${r.detail}` });
    }
    for (const t of [src, indices, ...made]) t.buffer.destroy();
    return combine(results);
  },
}));

const gatherValueBlockChecks: Check[] = (['f32', 'u32'] as const).map((dstType): Check => ({
  kernel: 'gatherValues',
  case: `u8 -> ${dstType} into 5 blocks of 100 (400 bytes, padded to 512)`,
  async run(ctx) {
    const [blockRows, count] = [100, 5];
    const n = blockRows * count;
    const next = hostRandom(211);
    const data = makeValues('u8', n, next);
    const indices = Uint32Array.from({ length: n }, () => Math.floor(next() * n));
    const made: Tensor[] = [];
    const blocks = new TensorBlocks(blockAllocator(ctx, made), count, [blockRows], dstType, 'label blocks');
    const src = tensorFrom(ctx, data, [n], 'src');
    const idx = tensorFrom(ctx, indices, [n], 'indices');
    const sentinel = new Float32Array(blocks.flat.size).fill(SENTINEL);
    upload(ctx, blocks.flat, dstType === 'f32' ? sentinel : new Uint32Array(sentinel.buffer));
    ctx.run([gatherValues(ctx, src, idx, blocks)]);
    const got = dstType === 'f32' ? await download(ctx, blocks.flat) : Float32Array.from(new Float32Array((await downloadU32(ctx, blocks.flat)).buffer));
    const plain = Float64Array.from(ref.gatherValues(data, indices, n, 0, dstType === 'u32'));
    // u32 results are compared through their bits as f32, so the sentinel reads back alike.
    const want = dstType === 'f32' ? plain : Float64Array.from(new Float32Array(Uint32Array.from(plain).buffer));
    for (const t of [src, idx, ...made]) t.buffer.destroy();
    return compare(got, inBlocks(want, blockRows, 1, count, blocks.stride), EXACT);
  },
}));

// Gathers that draw their indices: the rows must be the plain gather's on randomPermutation's
// indices (from the float64 twin, which the random checks hold to the GPU's bit for bit), at
// positions index_offset.. of the permutation, and the indices kept in `into` must be those
// positions' values, with `into`'s other elements untouched. The key uses a seed above 2^32
// (both key words), a stream, a step offset and a clock value, so a field that is dropped or
// misplaced changes the draw. The source has rows past the domain, which a draw must never pick.
const DRAW = { seed: 2 ** 40 + 12345, stream: 9, offset: 5 };
const DRAW_CLOCK = 77;
const UNTOUCHED = 0xdeadbeef;

function drawnCase(ctx: GpuContext, n: number, indexOffset: number) {
  const domain = indexOffset + n + 4;
  const clock = tensorFrom(ctx, new Uint32Array([DRAW_CLOCK, 0, 0, 0]), [4], 'clock');
  const into = tensorFrom(ctx, new Uint32Array(indexOffset + n + 2).fill(UNTOUCHED), [indexOffset + n + 2], 'into');
  const drawn = refPermutation({ seed: DRAW.seed, stream: DRAW.stream, step: DRAW_CLOCK + DRAW.offset }, n, domain, indexOffset);
  const indices = new Uint32Array(indexOffset + n);
  indices.set(drawn, indexOffset);
  const keptWant = Float64Array.from(new Uint32Array(indexOffset + n + 2).fill(UNTOUCHED));
  keptWant.set(drawn, indexOffset);
  const permutation = { ...DRAW, domain, clock };
  return { domain, clock, into, indices, keptWant, permutation };
}

const drawnGatherChecks: Check[] = [1, 7, 100, 1000].flatMap((n) =>
  (['u8', 'f32'] as const).flatMap((dtype) =>
    [false, true].map((minmax): Check => ({
      kernel: 'gatherRows',
      case: `drawn indices, ${dtype}[*, 13] n=${n}${minmax ? ' minmax' : ''} (${STRATEGIES.filter((s) => !minmax || s !== 'element').join(', ')})`,
      async run(ctx: GpuContext) {
        const [d, indexOffset] = [13, n % 3];
        const c = drawnCase(ctx, n, indexOffset);
        const rows = c.domain + 3;
        const next = hostRandom(n + 77);
        const values = dtype === 'u8' ? Uint8Array.from({ length: rows * d }, () => Math.floor(next() * 256)) : randomF32(rows * d, n, -3, 3);
        const scale = dtype === 'u8' ? 1 / 255 : 1.5;
        const src = tensorFrom(ctx, values, [rows, d], 'src');
        const dst = createTensor(ctx, [n, d], 'f32', 'dst');
        const want = ref.gatherRows(values, d, c.indices, n, { indexOffset, scale, offset: 0, minmax });
        const results = [];
        for (const strategy of STRATEGIES) {
          if (minmax && strategy === 'element') continue;
          upload(ctx, c.into, new Uint32Array(c.into.size).fill(UNTOUCHED));
          ctx.run([gatherRowsWith(ctx, src, { permutation: c.permutation, into: c.into }, dst, { indexOffset, scale, minmax }, strategy)]);
          for (const r of [compare(await download(ctx, dst), want, minmax ? MINMAX : SCALED), compare(await downloadU32(ctx, c.into), c.keptWant, EXACT)]) {
            results.push(r.pass ? r : { ...r, detail: `${strategy}: ${r.detail}` });
          }
        }
        for (const t of [src, dst, c.clock, c.into]) t.buffer.destroy();
        return combine(results);
      },
    })),
  ),
);

const drawnValueChecks: Check[] = [1, 1000].flatMap((n) =>
  [false, true].map((keep): Check => ({
    kernel: 'gatherValues',
    case: `drawn indices, f32 -> f32 n=${n}${keep ? ', kept' : ''}`,
    async run(ctx) {
      const indexOffset = 2;
      const c = drawnCase(ctx, n, indexOffset);
      const size = c.domain + 3;
      const data = makeValues('f32', size, hostRandom(n + 5));
      const src = tensorFrom(ctx, data, [size], 'src');
      const dst = createTensor(ctx, [n], 'f32', 'dst');
      ctx.run([gatherValues(ctx, src, { permutation: c.permutation, into: keep ? c.into : undefined }, dst, { indexOffset })]);
      const kept = keep ? c.keptWant : Float64Array.from(new Uint32Array(c.into.size).fill(UNTOUCHED));
      const results = [compare(await download(ctx, dst), ref.gatherValues(data, c.indices, n, indexOffset, false), EXACT), compare(await downloadU32(ctx, c.into), kept, EXACT)];
      for (const t of [src, dst, c.clock, c.into]) t.buffer.destroy();
      return combine(results);
    },
  })),
);

// Noise drawn by a gather's own workgroups must be randomNormal's on each part, bit for bit (the
// same WGSL arithmetic on the same words: tolerance 0 against the GPU's randomNormal, whose own
// checks hold it to the float64 twin), with the blocks' padding untouched, the gathered rows
// unchanged, and parts of a size that is not a multiple of four (a partial last Philox block).
const NOISE_SAME: Tolerance = { abs: 0, rel: 0, why: "randomNormal's expression on the same Philox words: bit-exact" };

const noiseRideChecks: Check[] = ([
  ['element', 1, [7, 5], true],
  ['thread', 3, [7, 5], true],
  ['workgroup', 3, [7, 5], false],
  ['thread', 1, [64, 100], false],
  ['element', 2, [1, 3], false],
] as const).map(([strategy, parts, shape, drawnRows]): Check => ({
  kernel: 'gatherRows',
  case: `${strategy}, ${drawnRows ? 'drawn' : 'given'} indices, with ${parts} noise part${parts > 1 ? 's' : ''} of [${shape.join(', ')}]`,
  async run(ctx: GpuContext) {
    const [n, d] = [9, 13];
    const c = drawnCase(ctx, n, 1);
    const values = randomF32((c.domain + 1) * d, 3, -3, 3);
    const src = tensorFrom(ctx, values, [c.domain + 1, d], 'src');
    const indices = tensorFrom(ctx, c.indices, [c.indices.length], 'indices');
    const dst = createTensor(ctx, [n, d], 'f32', 'dst');
    const made: Tensor[] = [];
    const blocks = new TensorBlocks(blockAllocator(ctx, made), parts, [...shape], 'f32', 'noise');
    const single = createTensor(ctx, [...shape], 'f32', 'one part');
    const streams = [4, 9, 2].slice(0, parts);
    const [mean, std] = [0.5, 2];
    const size = shape[0] * shape[1];
    const want = new Float64Array(blocks.flat.size).fill(SENTINEL);
    for (let p = 0; p < parts; p++) {
      ctx.run([randomNormal(ctx, single, { seed: DRAW.seed, stream: streams[p], offset: 3, clock: c.clock, mean, std })]);
      want.set(await download(ctx, single), p * blocks.stride);
    }
    upload(ctx, blocks.flat, new Float32Array(blocks.flat.size).fill(SENTINEL));
    const noise = { into: parts > 1 ? blocks : blocks.block(0), streams, seed: DRAW.seed, clock: c.clock, offset: 3, mean, std };
    const rows = drawnRows ? { permutation: c.permutation, into: c.into } : indices;
    ctx.run([gatherRowsWith(ctx, src, rows, dst, { indexOffset: 1, scale: 1, noise }, strategy)]);
    const got = await download(ctx, blocks.flat);
    const results = [
      compare(parts > 1 ? got : got.subarray(0, size), parts > 1 ? want : want.subarray(0, size), NOISE_SAME),
      compare(await download(ctx, dst), ref.gatherRows(values, d, c.indices, n, { indexOffset: 1, scale: 1 }), SCALED),
    ];
    for (const t of [src, indices, dst, single, c.clock, c.into, ...made]) t.buffer.destroy();
    return combine(results);
  },
}));

export const gatherChecks: Check[] = [
  ...gatherRowsChecks,
  ...gatherBlockChecks,
  ...rowMinMaxChecks,
  ...gatherValuesChecks,
  ...gatherValueBlockChecks,
  ...drawnGatherChecks,
  ...drawnValueChecks,
  ...noiseRideChecks,
];
