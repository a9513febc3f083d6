// A network's parameters in one flat f32 buffer, so an optimizer updates a whole network in one
// dispatch. The decayed parameters (weights) come first, then the rest (biases, batch norm's
// scale and shift; SGD's L2 penalty skips them, as DeepLearnToolbox's does), each starting on a
// 256-byte boundary so it can be bound as a view. A multilayer
// perceptron's layout is every weight in layer order, then every bias: the layout checkpoints
// have always had.

import { Tensor, VIEW_ALIGNMENT, type Shape } from '../tensor/tensor.ts';
import type { TensorPool } from '../tensor/pool.ts';
import type { ParamDecl } from './layer.ts';

const ALIGN = VIEW_ALIGNMENT / 4;
const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** A parameter's place: `${layer}.${name}`, its shape and its element offset in the flat buffer. */
export interface ParamSlot {
  key: string;
  layer: number;
  name: string;
  shape: readonly number[];
  offset: number;
  decay: boolean;
}

export interface ParamLayout {
  slots: ParamSlot[];
  /** Elements [0, decayEnd) hold the decayed parameters (with padding), [decayEnd, total) the rest. */
  decayEnd: number;
  total: number;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function paramLayout(layers: readonly { index: number; params: readonly ParamDecl[] }[]): ParamLayout {
  const slots: ParamSlot[] = [];
  let at = 0;
  const place = (decay: boolean) => {
    for (const l of layers) {
      for (const p of l.params.filter((q) => q.decay === decay)) {
        slots.push({ key: `${l.index}.${p.name}`, layer: l.index, name: p.name, shape: p.shape, offset: at, decay });
        at = alignUp(at + size(p.shape));
      }
    }
  };
  place(true);
  const decayEnd = at;
  place(false);
  return { slots, decayEnd, total: Math.max(at, ALIGN) };
}

/** Count of trainable values (without alignment padding). */
export function countParams(layout: ParamLayout): number {
  return layout.slots.reduce((n, s) => n + size(s.shape), 0);
}

/** A flat buffer laid out by `layout`, with a view of each parameter. */
export class ParamSet {
  readonly flat: Tensor;
  /** Views by key (`${layer}.${name}`), in layout order. */
  readonly byKey: ReadonlyMap<string, Tensor>;

  constructor(pool: TensorPool, layout: ParamLayout, label: string) {
    this.flat = pool.acquire([layout.total], 'f32', label);
    const view = (offset: number, shape: Shape, name: string) => new Tensor(this.flat.buffer, shape, 'f32', `${label}.${name}`, this.flat.byteOffset + offset * 4);
    this.byKey = new Map(layout.slots.map((s) => [s.key, view(s.offset, s.shape, s.key)]));
  }

  /** The parameter views of layer `index`, by name. */
  ofLayer(index: number): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [key, t] of this.byKey) {
      const dot = key.indexOf('.');
      if (Number(key.slice(0, dot)) === index) out[key.slice(dot + 1)] = t;
    }
    return out;
  }
}
