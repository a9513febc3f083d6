import type { GpuContext } from '../gpu/context.ts';
import { copyColumns, oneHot } from '../kernels/columns.ts';
import * as ref from '../reference/columns.ts';
import { download, tensorFrom } from '../tensor/tensor.ts';
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
];
