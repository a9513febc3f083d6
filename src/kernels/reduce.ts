// Deterministic reductions: column sums (bias gradients) and means into a metric slot. Both
// are column sums of a row-major matrix (a mean is the column sum of an [n, 1] matrix), done
// in as many passes as the row count needs; the scratch rows between passes are allocated
// here, when the op is recorded, and reused by every replay.

import source from '../../shaders/reduce.wgsl?raw';
import { ShapeError } from '../gpu/errors.ts';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { defineShader } from '../gpu/shader.ts';
import { createTensor, type Tensor } from '../tensor/tensor.ts';
import { activationShader } from './activations.ts';
import { expectDType, expectDistinct, expectFinite } from './common.ts';

const shader = defineShader('reduce.wgsl', source, [activationShader]);

const SUM_ROWS: KernelSpec = { shader, entry: 'sum_rows', bindings: ['read', 'write', 'uniform'] };

const LANES = 256;
const MAX_TILE_COLS = 64;
/** Rows each lane sums in order before the lanes combine (more rows, fewer passes). */
const ROWS_PER_LANE = 64;

export type MeanTransform = 'identity' | 'sigmoid';
const TRANSFORMS: readonly MeanTransform[] = ['identity', 'sigmoid'];

/** One pass of a column sum: `groups` row groups of `rowsPerGroup` rows, each lane taking every `rowLanes`-th row. */
export interface ColumnSumPass {
  rows: number;
  rowsPerGroup: number;
  groups: number;
}

export interface ColumnSumPlan {
  /** Columns per workgroup (a power of two up to 64) and lanes per column (256 / tileCols). */
  tileCols: number;
  rowLanes: number;
  colTiles: number;
  passes: ColumnSumPass[];
}

/**
 * How a [rows, cols] column sum is split into passes: narrow matrices give each column more
 * lanes; each pass shrinks the row count by rowLanes * 64 until one row group remains.
 * Exported so checks can derive the rounding bound from the actual summation depth.
 */
export function planColumnSum(rows: number, cols: number, maxWorkgroupsPerDimension = 65_535): ColumnSumPlan {
  let tileCols = 1;
  while (tileCols < cols && tileCols < MAX_TILE_COLS) tileCols *= 2;
  const rowLanes = LANES / tileCols;
  const colTiles = Math.ceil(cols / tileCols);
  const passes: ColumnSumPass[] = [];
  let m = rows;
  for (;;) {
    const rowsPerGroup = Math.max(rowLanes * ROWS_PER_LANE, Math.ceil(m / maxWorkgroupsPerDimension / rowLanes) * rowLanes);
    const groups = Math.ceil(m / rowsPerGroup);
    passes.push({ rows: m, rowsPerGroup, groups });
    if (groups === 1) break;
    m = groups;
  }
  return { tileCols, rowLanes, colTiles, passes };
}

/** Records the passes of out[offset + j] (+)= scale * sum_i f(x[i, j]). */
function columnSum(
  ctx: GpuContext,
  op: string,
  x: Tensor,
  rows: number,
  cols: number,
  out: Tensor,
  outOffset: number,
  scale: number,
  accumulate: boolean,
  transform: MeanTransform,
): Dispatch[] {
  const maxDim = ctx.limits.maxComputeWorkgroupsPerDimension;
  const plan = planColumnSum(rows, cols, maxDim);
  if (plan.colTiles > maxDim) {
    throw new ShapeError(`${op}: ${cols} columns need ${plan.colTiles} workgroups, above the adapter's ${maxDim} per dimension`);
  }
  const dispatches: Dispatch[] = [];
  let src = x;
  plan.passes.forEach((pass, p) => {
    const last = p === plan.passes.length - 1;
    const dst = last ? out : createTensor(ctx, [pass.groups, cols], 'f32', `${op}:partials${p}`);
    dispatches.push(
      ctx.dispatch(SUM_ROWS, {
        label: `${op}:pass${p}`,
        constants: {
          TILE_COLS: plan.tileCols,
          TRANSFORM: p === 0 ? TRANSFORMS.indexOf(transform) : 0,
          ACCUMULATE: last && accumulate ? 1 : 0,
        },
        resources: [
          src.binding(),
          dst.binding(),
          uniforms([
            ['u32', pass.rows],
            ['u32', cols],
            ['u32', pass.rowsPerGroup],
            ['u32', last ? outOffset : 0],
            ['f32', last ? scale : 1],
          ]),
        ],
        workgroups: [plan.colTiles, pass.groups, 1],
      }),
    );
    src = dst;
  });
  return dispatches;
}

/**
 * out[j] (+)= scale * sum_i x[i, j] over the rows of x [M, N] (a vector [N] is one row), the
 * bias gradient. `out` holds N elements. One dispatch when one row group covers M (M up to
 * 256 rows for N >= 64, 16384 for N = 1), several otherwise; deterministic either way.
 */
export function sumRows(
  ctx: GpuContext,
  x: Tensor,
  out: Tensor,
  opts: { scale?: number; accumulate?: boolean } = {},
): Dispatch | Dispatch[] {
  const op = `sumRows(${x} -> ${out})`;
  expectDType(op, x, 'f32');
  expectDType(op, out, 'f32');
  if (x.rank > 2) throw new ShapeError(`${op}: ${x} must be 1-D or 2-D`);
  if (out.size !== x.cols || (out.rank === 2 && out.rows !== 1) || out.rank > 2) {
    throw new ShapeError(`${op}: ${out} must have shape [${x.cols}] or [1, ${x.cols}] (one sum per column of ${x})`);
  }
  const scale = opts.scale ?? 1;
  expectFinite(op, 'scale', scale);
  expectDistinct(op, x, out);
  const dispatches = columnSum(ctx, op, x, x.rows, x.cols, out, 0, scale, opts.accumulate ?? false, 'identity');
  return dispatches.length === 1 ? dispatches[0] : dispatches;
}

/**
 * out[slot] (+)= mean_i f(x_i) over every element of x, f = identity or sigmoid (the metric
 * "mean D(x)" from logits). Deterministic for any length.
 */
export function meanInto(
  ctx: GpuContext,
  x: Tensor,
  out: Tensor,
  opts: { slot: number; transform?: MeanTransform; accumulate?: boolean },
): Dispatch[] {
  const transform = opts.transform ?? 'identity';
  const op = `meanInto(${transform}, ${x} -> ${out}[${opts.slot}])`;
  expectDType(op, x, 'f32');
  expectDType(op, out, 'f32');
  if (!TRANSFORMS.includes(transform)) {
    throw new ShapeError(`${op}: unknown transform '${transform}' (expected ${TRANSFORMS.join(' or ')})`);
  }
  expectSlot(op, out, opts.slot);
  expectDistinct(op, x, out);
  return columnSum(ctx, op, x, x.size, 1, out, opts.slot, 1 / x.size, opts.accumulate ?? false, transform);
}

/** A metric slot: an integer index into the f32 metrics tensor. */
export function expectSlot(op: string, out: Tensor, slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= out.size) {
    throw new ShapeError(`${op}: slot ${slot} is out of range for ${out} (${out.size} slots)`);
  }
}
