// Equal tensors laid one after another in one buffer, each starting on a bindable boundary: a
// sequence of minibatches that one dispatch fills (kernels/gather.ts) and later dispatches bind
// one at a time. Without the padding a 100-row minibatch of labels (400 bytes) could not be
// bound as a view, and each minibatch would need a gather dispatch of its own.

import { ShapeError } from '../gpu/errors.ts';
import { BYTES, formatShape, numel, Tensor, VIEW_ALIGNMENT, type DType, type Shape } from './tensor.ts';

export class TensorBlocks {
  /** Every block with its padding, 1-D. */
  readonly flat: Tensor;
  readonly count: number;
  /** One block's shape. */
  readonly shape: Shape;
  /** Elements from one block's start to the next's. */
  readonly stride: number;
  private readonly blocks: Tensor[];

  /** `names`: the blocks' own labels (default `label[j]`). */
  constructor(pool: { acquire(shape: Shape, dtype: DType, label: string): Tensor }, count: number, shape: Shape, dtype: DType, label: string, names?: readonly string[]) {
    if (!Number.isInteger(count) || count < 1) throw new ShapeError(`blocks '${label}': count must be a positive integer, got ${count}`);
    if (dtype === 'u8') throw new ShapeError(`blocks '${label}': u8 blocks are not supported`);
    const perAlignment = VIEW_ALIGNMENT / BYTES[dtype];
    this.count = count;
    this.shape = shape;
    this.stride = Math.ceil(numel(shape) / perAlignment) * perAlignment;
    this.flat = pool.acquire([count * this.stride], dtype, label);
    this.blocks = Array.from({ length: count }, (_, j) => new Tensor(this.flat.buffer, shape, dtype, names?.[j] ?? `${label}[${j}]`, this.flat.byteOffset + j * this.stride * BYTES[dtype]));
  }

  /** Block j as a tensor of `shape`. */
  block(j: number): Tensor {
    const b = this.blocks[j];
    if (!b) throw new ShapeError(`${this}: block ${j} is out of range (${this.count} blocks)`);
    return b;
  }

  toString(): string {
    return `${this.flat.label}:${this.count} x ${this.flat.dtype}${formatShape(this.shape)}`;
  }
}
