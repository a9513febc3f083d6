// The layer kinds a network spec may name. A new kind is a module beside these and one line here.

import type { LayerKind, LayerKindName, LayerSpec } from '../layer.ts';
import { batchnorm } from './batchnorm.ts';
import { conv2dLayer, convTranspose2dLayer } from './conv.ts';
import { dense } from './dense.ts';
import { minibatchStddevLayer } from './mbstd.ts';
import { activation, reshape } from './shape.ts';

export const LAYER_KINDS: Record<string, LayerKind<never>> = {
  dense,
  conv2d: conv2dLayer,
  'conv-transpose2d': convTranspose2dLayer,
  batchnorm,
  'minibatch-stddev': minibatchStddevLayer,
  reshape,
  activation,
} satisfies Partial<Record<LayerKindName, LayerKind<never>>>;

/** The kind of a spec (a spec without one is dense, as every layer was before kinds existed). */
export function layerKindOf(spec: LayerSpec): string {
  return spec.kind ?? 'dense';
}
