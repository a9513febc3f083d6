// Float64 twins of the six convolution ops (src/kernels/conv.ts), written from the definitions
// rather than as im2col products: a layer links an input pixel to an output pixel through a tap
// (kh, kw), and each op is a sum over those links and the channels:
//   conv:            output (oh, ow) reads input (oh s - pad + kh, ow s - pad + kw)
//   conv-transpose:  input (ih, iw) writes output (ih s - pad + kh, iw s - pad + kw)
// (links that fall outside either map do not exist). With x the input, y the output and w the
// weights [kh, kw, ci, co] of either kind, every link and channel pair is one term
// x[n, in pixel, ci] w[kh, kw, ci, co] of y[n, out pixel, co]; the forward op sums the terms per
// output element, the input gradient dy's terms per input element and the weight gradient per
// weight. Each result comes with the per-element sum of |terms| (the scale of its rounding).
// Layouts as in the kernels: maps NHWC [batch, H*W*C], weights [KH, KW, Cin, Cout].

import { DEFAULT_LEAK, type Activation } from '../kernels/common.ts';
import type { ResolvedConvGeometry } from '../kernels/conv.ts';
import type { Conv2dSpec, ConvTranspose2dSpec } from '../nn/layer.ts';
import type { PlannedLayer } from '../nn/network.ts';
import { activate, activateGradFromOutput } from './activations.ts';
import type { RefLayerTwin } from './network.ts';

export interface ConvReference {
  /** The result after its epilogue. */
  out: Float64Array;
  /** The sums before the epilogue. */
  product: Float64Array;
  /** The sum of |terms| per element of `product`. */
  scale: Float64Array;
}

export interface ConvWeightGradReference extends ConvReference {
  /** The bias gradient: dy summed over pixels, per output channel (plus `accumulateBiasGrad`). */
  biasGrad: Float64Array;
  /** sum of |dy| per output channel. */
  biasGradScale: Float64Array;
}

/** One link: the input pixel's and the output pixel's first element (channel 0), and the tap. */
interface Link {
  xAt: number;
  yAt: number;
  tap: number;
}

/** Every link of the layer, sample by sample. */
function links(g: ResolvedConvGeometry): Link[] {
  const { kernel: k, stride: s, padding: p } = g;
  const out: Link[] = [];
  for (let n = 0; n < g.batch; n++) {
    for (let kh = 0; kh < k; kh++) {
      for (let kw = 0; kw < k; kw++) {
        const link = (ih: number, iw: number, oh: number, ow: number) => {
          if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW || oh < 0 || oh >= g.outH || ow < 0 || ow >= g.outW) return;
          out.push({ xAt: ((n * g.inH + ih) * g.inW + iw) * g.inC, yAt: ((n * g.outH + oh) * g.outW + ow) * g.outC, tap: kh * k + kw });
        };
        if (g.transposed) {
          for (let ih = 0; ih < g.inH; ih++) for (let iw = 0; iw < g.inW; iw++) link(ih, iw, ih * s - p + kh, iw * s - p + kw);
        } else {
          for (let oh = 0; oh < g.outH; oh++) for (let ow = 0; ow < g.outW; ow++) link(oh * s - p + kh, ow * s - p + kw, oh, ow);
        }
      }
    }
  }
  return out;
}

/** Useful multiply-adds of each op of the layer: links times input times output channels. */
export function convMacs(g: ResolvedConvGeometry): number {
  return links(g).length * g.inC * g.outC;
}

export interface ConvForwardReferenceOptions {
  bias?: ArrayLike<number>;
  activation?: Activation;
  leak?: number;
}

/** y = act(conv(x, w) + bias), or of the conv-transpose for a transposed geometry. */
export function convForwardReference(x: ArrayLike<number>, w: ArrayLike<number>, g: ResolvedConvGeometry, opts: ConvForwardReferenceOptions = {}): ConvReference {
  const size = g.batch * g.outH * g.outW * g.outC;
  const product = new Float64Array(size);
  const scale = new Float64Array(size);
  for (const { xAt, yAt, tap } of links(g)) {
    for (let ci = 0; ci < g.inC; ci++) {
      const xv = x[xAt + ci];
      const wAt = (tap * g.inC + ci) * g.outC;
      for (let co = 0; co < g.outC; co++) {
        const t = xv * w[wAt + co];
        product[yAt + co] += t;
        scale[yAt + co] += Math.abs(t);
      }
    }
  }
  const leak = opts.leak ?? DEFAULT_LEAK;
  const out = product.map((v, i) => {
    const b = opts.bias ? v + opts.bias[i % g.outC] : v;
    return opts.activation ? activate(b, opts.activation, leak) : b;
  });
  return { out, product, scale };
}

export interface ConvInputGradReferenceOptions {
  /** Multiply by act'(y) of the producer's saved output y (the input map's shape). */
  gradOf?: { output: ArrayLike<number>; activation: Activation; leak?: number };
}

/** dx = sum over links of dy w (the input gradient of either kind), times act'(gradOf.output). */
export function convInputGradReference(dy: ArrayLike<number>, w: ArrayLike<number>, g: ResolvedConvGeometry, opts: ConvInputGradReferenceOptions = {}): ConvReference {
  const size = g.batch * g.inH * g.inW * g.inC;
  const product = new Float64Array(size);
  const scale = new Float64Array(size);
  for (const { xAt, yAt, tap } of links(g)) {
    for (let ci = 0; ci < g.inC; ci++) {
      const wAt = (tap * g.inC + ci) * g.outC;
      let sum = 0;
      let abs = 0;
      for (let co = 0; co < g.outC; co++) {
        const t = dy[yAt + co] * w[wAt + co];
        sum += t;
        abs += Math.abs(t);
      }
      product[xAt + ci] += sum;
      scale[xAt + ci] += abs;
    }
  }
  const grad = opts.gradOf;
  const out = grad ? product.map((v, i) => v * activateGradFromOutput(grad.output[i], grad.activation, grad.leak ?? DEFAULT_LEAK)) : product.slice();
  return { out, product, scale };
}

export interface ConvWeightGradReferenceOptions {
  /** dw's previous contents, added (accumulate). */
  accumulate?: ArrayLike<number>;
  /** The bias gradient's previous contents, added (accumulate). */
  accumulateBiasGrad?: ArrayLike<number>;
}

/** dw = sum over links of x dy (the weight gradient of either kind), and the bias gradient. */
export function convWeightGradReference(x: ArrayLike<number>, dy: ArrayLike<number>, g: ResolvedConvGeometry, opts: ConvWeightGradReferenceOptions = {}): ConvWeightGradReference {
  const size = g.kernel * g.kernel * g.inC * g.outC;
  const product = new Float64Array(size);
  const scale = new Float64Array(size);
  for (const { xAt, yAt, tap } of links(g)) {
    for (let ci = 0; ci < g.inC; ci++) {
      const xv = x[xAt + ci];
      const wAt = (tap * g.inC + ci) * g.outC;
      for (let co = 0; co < g.outC; co++) {
        const t = xv * dy[yAt + co];
        product[wAt + co] += t;
        scale[wAt + co] += Math.abs(t);
      }
    }
  }
  const out = opts.accumulate ? product.map((v, i) => v + opts.accumulate![i]) : product.slice();
  const biasGrad = new Float64Array(g.outC);
  const biasGradScale = new Float64Array(g.outC);
  for (let i = 0; i < g.batch * g.outH * g.outW * g.outC; i++) {
    biasGrad[i % g.outC] += dy[i];
    biasGradScale[i % g.outC] += Math.abs(dy[i]);
  }
  if (opts.accumulateBiasGrad) for (let co = 0; co < g.outC; co++) biasGrad[co] += opts.accumulateBiasGrad[co];
  return { out, product, scale, biasGrad, biasGradScale };
}

/** The conv layers' twin (nn/layers/conv.ts): the ops above on a layer's plan. */
export const refConvLayer: RefLayerTwin = {
  forward({ layer, params, rows, leak }, x, activation) {
    return convForwardReference(x, params.weight, layerGeometry(layer, rows), { bias: params.bias, activation, leak }).out;
  },
  backward({ layer, params, rows }, x, delta) {
    const g = layerGeometry(layer, rows);
    const w = convWeightGradReference(x, delta, g);
    const grads: Record<string, Float64Array> = { weight: w.out };
    if (params.bias) grads.bias = w.biasGrad;
    return { grads, input: convInputGradReference(delta, params.weight, g).out };
  },
};

function layerGeometry(layer: PlannedLayer, rows: number): ResolvedConvGeometry {
  const spec = layer.spec as Conv2dSpec | ConvTranspose2dSpec;
  const [inH, inW, inC] = layer.input;
  const [outH, outW, outC] = layer.plan.output;
  const transposed = spec.kind === 'conv-transpose2d';
  return {
    batch: rows,
    inH,
    inW,
    inC,
    outC,
    outH,
    outW,
    kernel: spec.kernel,
    stride: spec.stride ?? 1,
    padding: spec.padding ?? 0,
    transposed,
    outputPadding: transposed ? ((spec as ConvTranspose2dSpec).outputPadding ?? 0) : 0,
  };
}
