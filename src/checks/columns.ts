import type { GpuContext } from '../gpu/context.ts';
import { copyColumns, oneHot, otherLabels } from '../kernels/columns.ts';
import * as ref from '../reference/columns.ts';
import { download, downloadU32, tensorFrom } from '../tensor/tensor.ts';
import { compare, hostRandom, randomF32, type Check } from './check.ts';

// Pure data movement: exact. The destination starts filled with other values, so a write to
// the wrong place, or a missing one, shows.
const EXACT = { abs: 0, rel: 0, why: 'data movement is exact' };

export const columnsChecks: Check[] = [
  ...([
    [1, 1, 1, 1, 0, 0],
    [7, 3, 9, 5, 2, 1],
    [64, 784, 128, 794, 0, 64],
    [100, 100, 100, 110, 0, 0],
  ] as const).map(([rows, width, dstRows, dstCols, column, row]): Check => ({
    kernel: 'copyColumns',
    case: `${rows}x${width} into ${dstRows}x${dstCols} at (${row}, ${column})`,
    async run(ctx: GpuContext) {
      const src = randomF32(rows * width, rows + width);
      const init = randomF32(dstRows * dstCols, 99, 5, 6);
      const [s, d] = [tensorFrom(ctx, src, [rows, width]), tensorFrom(ctx, init, [dstRows, dstCols])];
      ctx.run([copyColumns(ctx, s, d, { column, row })]);
      const got = await download(ctx, d);
      s.buffer.destroy();
      d.buffer.destroy();
      return compare(got, ref.copyColumns(src, rows, width, Float64Array.from(init), dstCols, column, row), EXACT);
    },
  })),
  ...([
    [1, 1, 1, 1, 0, 0, 1],
    [5, 10, 7, 13, 3, 2, 1],
    [64, 10, 128, 794, 784, 64, 5],
    [100, 10, 100, 110, 100, 0, 1],
  ] as const).map(([rows, classes, dstRows, dstCols, column, row, hot]): Check => ({
    kernel: 'oneHot',
    case: `${rows} labels of ${classes} classes into ${dstRows}x${dstCols} at (${row}, ${column})${hot === 1 ? '' : `, hot ${hot}`}`,
    async run(ctx: GpuContext) {
      const next = hostRandom(rows * classes);
      // Includes an out-of-range label, which must give a row of zeros.
      const labels = Uint32Array.from({ length: rows }, (_, i) => (i === rows - 1 && rows > 1 ? classes + 3 : Math.floor(next() * classes)));
      const init = randomF32(dstRows * dstCols, 7, 5, 6);
      const [l, d] = [tensorFrom(ctx, labels, [rows]), tensorFrom(ctx, init, [dstRows, dstCols])];
      ctx.run([oneHot(ctx, l, d, { classes, column, row, hot })]);
      const got = await download(ctx, d);
      l.buffer.destroy();
      d.buffer.destroy();
      return compare(got, ref.oneHot(labels, classes, Float64Array.from(init), dstCols, column, row, hot), EXACT);
    },
  })),
  ...([
    [1, 2],
    [7, 3],
    [64, 10],
    [1000, 10],
    [257, 37],
  ] as const).map(([n, classes]): Check => ({
    kernel: 'otherLabels',
    case: `${n} labels of ${classes} classes`,
    async run(ctx: GpuContext) {
      const next = hostRandom(n + classes);
      // Shifts cover the whole u32 range (reduced mod classes - 1 in the kernel), labels include
      // out-of-range values (reduced mod classes first) when there is room for them.
      const labels = Uint32Array.from({ length: n }, (_, i) => (i % 5 === 4 ? classes + i : Math.floor(next() * classes)));
      const shifts = Uint32Array.from({ length: n }, () => Math.floor(next() * 2 ** 32));
      const [l, s, o] = [tensorFrom(ctx, labels, [n]), tensorFrom(ctx, shifts, [n]), tensorFrom(ctx, new Uint32Array(n).fill(99), [n])];
      ctx.run([otherLabels(ctx, l, s, o, { classes })]);
      const got = await downloadU32(ctx, o);
      for (const t of [l, s, o]) t.buffer.destroy();
      const want = ref.otherLabels(labels, shifts, classes);
      // The reference's own promise, so the comparison cannot pass on a wrong reference.
      if (want.some((w, i) => w === labels[i] % classes || w >= classes)) throw new Error('reference otherLabels returned the label itself');
      return compare(got, want, EXACT);
    },
  })),
];
