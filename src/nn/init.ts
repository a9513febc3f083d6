// Initialisation schemes for a layer's weights and biases, drawn on the GPU from (seed, stream).
// Fan-in and fan-out count the inputs and outputs one weight connects: for a dense layer its
// in and out sizes, for a convolution kernel^2 x channels in and kernel^2 x filters out.

import type { Dispatch, GpuContext } from '../gpu/context.ts';
import type { Activation } from '../kernels/common.ts';
import { randomNormal, randomUniform } from '../kernels/random.ts';
import type { Tensor } from '../tensor/tensor.ts';

/**
 * - `dlt`: DeepLearnToolbox's nnsetup, W and b ~ U(-r, r), r = 4 sqrt(6 / (in + out)) (the
 *   bias is an extra input column there, drawn like the weights);
 * - `xavier`: Glorot uniform, r = sqrt(6 / (in + out)), b = 0;
 * - `he`: Kaiming normal for (leaky) ReLU, std = sqrt(2 / ((1 + leak^2) in)), b = 0;
 * - `pytorch`: torch.nn.Linear's and Conv2d's default, W and b ~ U(-1/sqrt(in), 1/sqrt(in));
 * - `dcgan`: Radford et al. 2016, W ~ N(0, 0.02), b = 0 (batch norm's scale ~ N(1, 0.02)).
 */
export type InitScheme = 'dlt' | 'xavier' | 'he' | 'pytorch' | 'dcgan';
export const INIT_SCHEMES: readonly InitScheme[] = ['dlt', 'xavier', 'he', 'pytorch', 'dcgan'];

export interface Fans {
  fanIn: number;
  fanOut: number;
  /** The layer's activation (the `he` scheme's gain depends on it) and leaky-ReLU slope. */
  activation: Activation;
  leak: number;
}

/**
 * Draws for a weight and (optionally) a bias, on `stream` and `stream + 1`. Parameters start
 * at zero (the network fills its flat buffer before init), so a zero bias needs no dispatch.
 */
export function recordWeightInit(ctx: GpuContext, scheme: InitScheme, fans: Fans, w: Tensor, b: Tensor | undefined, seed: number, stream: number): Dispatch[] {
  const { fanIn, fanOut } = fans;
  const uniform = (t: Tensor, s: number, r: number) => randomUniform(ctx, t, { seed, stream: s, lo: -r, hi: r });
  switch (scheme) {
    case 'dlt': {
      const r = 4 * Math.sqrt(6 / (fanIn + fanOut));
      return [uniform(w, stream, r), ...(b ? [uniform(b, stream + 1, r)] : [])];
    }
    case 'xavier':
      return [uniform(w, stream, Math.sqrt(6 / (fanIn + fanOut)))];
    case 'he': {
      const slope = fans.activation === 'leaky_relu' ? fans.leak : 0;
      return [randomNormal(ctx, w, { seed, stream, std: Math.sqrt(2 / ((1 + slope * slope) * fanIn)) })];
    }
    case 'pytorch': {
      const r = 1 / Math.sqrt(fanIn);
      return [uniform(w, stream, r), ...(b ? [uniform(b, stream + 1, r)] : [])];
    }
    case 'dcgan':
      return [randomNormal(ctx, w, { seed, stream, std: 0.02 })];
  }
}
