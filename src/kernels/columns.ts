// Wider rows from parts: a block of columns copied into place, one-hot labels (the conditional
// GAN's [z | one-hot] and [x | one-hot] inputs), and mismatched labels for the matching-aware
// discriminator.

import source from '../../shaders/columns.wgsl?raw';
import { uniforms, type Dispatch, type GpuContext, type KernelSpec } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { defineShader } from '../gpu/shader.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { ELEMENTWISE_WG, expect2d, expectDistinct, expectDType, expectFinite, grid1d } from './common.ts';

const shader = defineShader('columns.wgsl', source);
const COPY: KernelSpec = { shader, entry: 'copy_columns', bindings: ['read', 'write', 'uniform'] };
const ONE_HOT: KernelSpec = { shader, entry: 'one_hot', bindings: ['read', 'write', 'uniform'] };
const OTHER_LABELS: KernelSpec = { shader, entry: 'other_labels', bindings: ['read', 'read', 'uniform', 'write'] };

export interface ColumnPlacement {
  /** First destination column (default 0). */
  column?: number;
  /** First destination row (default 0). */
  row?: number;
}

function placement(op: string, dst: Tensor, rows: number, width: number, at: ColumnPlacement) {
  const column = at.column ?? 0;
  const row = at.row ?? 0;
  for (const [name, v] of [['column', column], ['row', row]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${op}: ${name} must be an integer >= 0, got ${v}`);
  }
  if (column + width > dst.cols || row + rows > dst.rows) {
    throw new ShapeError(`${op}: a block of ${rows}x${width} at row ${row}, column ${column} does not fit ${dst}`);
  }
  return { column, row };
}

/** dst[row + i, column + j] = src[i, j]. */
export function copyColumns(ctx: GpuContext, src: Tensor, dst: Tensor, at: ColumnPlacement = {}): Dispatch {
  const op = `copyColumns(${src} -> ${dst})`;
  expectDType(op, src, 'f32');
  expectDType(op, dst, 'f32');
  expect2d(op, src);
  expect2d(op, dst);
  expectDistinct(op, src, dst);
  const { column, row } = placement(op, dst, src.rows, src.cols, at);
  return ctx.dispatch(COPY, {
    label: op,
    constants: { WG: ELEMENTWISE_WG },
    resources: [src.binding(), dst.binding(), uniforms([['u32', src.rows], ['u32', src.cols], ['u32', dst.cols], ['u32', column], ['u32', row]])],
    workgroups: grid1d(ctx, src.size),
  });
}

/**
 * dst[row + i, column + c] = (labels[i] == c ? hot : 0) for c < classes (hot default 1); labels
 * are u32 class indices, and one outside [0, classes) gives a row of zeros.
 */
export function oneHot(ctx: GpuContext, labels: Tensor, dst: Tensor, opts: ColumnPlacement & { classes: number; hot?: number }): Dispatch {
  const op = `oneHot(${labels} -> ${dst})`;
  expectDType(op, labels, 'u32');
  expectDType(op, dst, 'f32');
  expect2d(op, dst);
  if (!Number.isInteger(opts.classes) || opts.classes < 1) throw new ShapeError(`${op}: classes must be a positive integer, got ${opts.classes}`);
  const hot = opts.hot ?? 1;
  expectFinite(op, 'hot', hot);
  const rows = labels.size;
  const { column, row } = placement(op, dst, rows, opts.classes, opts);
  return ctx.dispatch(ONE_HOT, {
    label: op,
    constants: { WG: ELEMENTWISE_WG, HOT: hot },
    resources: [labels.binding(), dst.binding(), uniforms([['u32', rows], ['u32', opts.classes], ['u32', dst.cols], ['u32', column], ['u32', row]])],
    workgroups: grid1d(ctx, rows * opts.classes),
  });
}

/**
 * out[i] = (labels[i] mod classes + 1 + shifts[i] mod (classes - 1)) mod classes: a class other
 * than labels[i], uniform over the other classes when shifts[i] is uniform on [0, classes - 1)
 * (randomIntegers with bound classes - 1). All three are u32 with the same element count.
 */
export function otherLabels(ctx: GpuContext, labels: Tensor, shifts: Tensor, out: Tensor, opts: { classes: number }): Dispatch {
  const op = `otherLabels(${labels}, ${shifts} -> ${out})`;
  for (const t of [labels, shifts, out]) expectDType(op, t, 'u32');
  if (!Number.isInteger(opts.classes) || opts.classes < 2) throw new ShapeError(`${op}: classes must be an integer >= 2 (a label needs another class), got ${opts.classes}`);
  if (shifts.size !== labels.size || out.size !== labels.size) throw new ShapeError(`${op}: labels, shifts and out must have the same element count`);
  expectDistinct(op, labels, out);
  expectDistinct(op, shifts, out);
  return ctx.dispatch(OTHER_LABELS, {
    label: op,
    constants: { WG: ELEMENTWISE_WG },
    resources: [labels.binding(), shifts.binding(), uniforms([['u32', labels.size], ['u32', opts.classes], ['u32', 0], ['u32', 0], ['u32', 0]]), out.binding()],
    workgroups: grid1d(ctx, labels.size),
  });
}
