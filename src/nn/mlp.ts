// A multilayer perceptron on GPU buffers: its spec, its parameters (one flat buffer, weights
// first and biases after, so an optimizer updates a whole network in one or two dispatches),
// and its forward and backward passes as recorded kernel calls.
//
// Layer l computes y_l = act_l(y_{l-1} W_l + b_l) with W_l stored [in, out]. Backward takes
// delta_L, the gradient with respect to the last layer's pre-activation (what the loss
// kernels produce), and walks down: dW_l = y_{l-1}^T delta_l with db_l = sum_rows(delta_l) in the
// same dispatch, delta_{l-1} = (delta_l W_l^T) * act'_{l-1}(y_{l-1}), the last product fused into
// the matmul.

import type { Dispatch, GpuContext, Step } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { ACTIVATIONS, DEFAULT_LEAK, type Activation } from '../kernels/common.ts';
import { fill } from '../kernels/fill.ts';
import { matmul } from '../kernels/matmul.ts';
import { randomNormal, randomUniform } from '../kernels/random.ts';
import type { TensorPool } from '../tensor/pool.ts';
import { Tensor, VIEW_ALIGNMENT, type Shape } from '../tensor/tensor.ts';

/**
 * Initialisation schemes:
 * - `dlt`: DeepLearnToolbox's nnsetup, W and b ~ U(-r, r), r = 4 sqrt(6 / (in + out)) (the
 *   bias is an extra input column there, drawn like the weights);
 * - `xavier`: Glorot uniform, r = sqrt(6 / (in + out)), b = 0;
 * - `he`: Kaiming normal for (leaky) ReLU, std = sqrt(2 / ((1 + leak^2) in)), b = 0;
 * - `pytorch`: torch.nn.Linear's default, W and b ~ U(-1/sqrt(in), 1/sqrt(in)).
 */
export type InitScheme = 'dlt' | 'xavier' | 'he' | 'pytorch';
export const INIT_SCHEMES: readonly InitScheme[] = ['dlt', 'xavier', 'he', 'pytorch'];

export interface LayerSpec {
  units: number;
  activation: Activation;
}

export interface MlpSpec {
  input: number;
  layers: LayerSpec[];
  init: InitScheme;
  /** Leaky-ReLU slope for every leaky layer (default 0.2). */
  leak?: number;
}

export function validateMlpSpec(name: string, spec: MlpSpec): void {
  const bad = (msg: string) => new ShapeError(`network '${name}': ${msg}`);
  if (!Number.isInteger(spec.input) || spec.input < 1) throw bad(`input size must be a positive integer, got ${spec.input}`);
  if (!spec.layers.length) throw bad('needs at least one layer');
  spec.layers.forEach((l, i) => {
    if (!Number.isInteger(l.units) || l.units < 1) throw bad(`layer ${i + 1} units must be a positive integer, got ${l.units}`);
    if (!ACTIVATIONS.includes(l.activation)) throw bad(`layer ${i + 1} activation '${l.activation}' is not one of ${ACTIVATIONS.join(', ')}`);
  });
  if (!INIT_SCHEMES.includes(spec.init)) throw bad(`init '${spec.init}' is not one of ${INIT_SCHEMES.join(', ')}`);
  if (spec.leak !== undefined && !(spec.leak >= 0 && spec.leak < 1)) throw bad(`leak must be in [0, 1), got ${spec.leak}`);
}

/** Where each parameter lives in the flat buffer (element offsets, 256-byte aligned). */
export interface ParamLayout {
  weights: { offset: number; shape: [number, number] }[];
  biases: { offset: number; shape: [number] }[];
  /** Elements [0, weightsEnd) hold every weight (plus alignment padding), [weightsEnd, total) every bias. */
  weightsEnd: number;
  total: number;
}

const ALIGN = VIEW_ALIGNMENT / 4;
const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export function paramLayout(spec: MlpSpec): ParamLayout {
  let at = 0;
  let fanIn = spec.input;
  const weights = spec.layers.map((l) => {
    const w = { offset: at, shape: [fanIn, l.units] as [number, number] };
    at = alignUp(at + fanIn * l.units);
    fanIn = l.units;
    return w;
  });
  const weightsEnd = at;
  const biases = spec.layers.map((l) => {
    const b = { offset: at, shape: [l.units] as [number] };
    at = alignUp(at + l.units);
    return b;
  });
  return { weights, biases, weightsEnd, total: at };
}

/** Count of trainable values (without alignment padding). */
export function parameterCount(spec: MlpSpec): number {
  const l = paramLayout(spec);
  return [...l.weights, ...l.biases].reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** A flat f32 buffer laid out by `layout`, with views of each parameter. */
export class ParamSet {
  readonly flat: Tensor;
  readonly weights: Tensor[];
  readonly biases: Tensor[];
  /** All weights as one 1-D view (with padding), for optimizers that treat them alike. */
  readonly weightRegion: Tensor;
  readonly biasRegion: Tensor;

  constructor(pool: TensorPool, layout: ParamLayout, label: string) {
    this.flat = pool.acquire([layout.total], 'f32', label);
    const view = (offset: number, shape: Shape, name: string) => new Tensor(this.flat.buffer, shape, 'f32', `${label}.${name}`, this.flat.byteOffset + offset * 4);
    this.weights = layout.weights.map((w, i) => view(w.offset, w.shape, `W${i + 1}`));
    this.biases = layout.biases.map((b, i) => view(b.offset, b.shape, `b${i + 1}`));
    this.weightRegion = view(0, [layout.weightsEnd], 'weights');
    this.biasRegion = view(layout.weightsEnd, [layout.total - layout.weightsEnd], 'biases');
  }
}

/** The per-batch-size buffers of a network: each layer's output, and each layer's delta. */
export interface MlpWorkspace {
  rows: number;
  /** y_l for l = 1..L (outputs[L-1] is the network's output). */
  outputs: Tensor[];
  /** Gradient with respect to each layer's pre-activation, same shapes as outputs. */
  deltas: Tensor[];
}

export interface ForwardOptions {
  /** Leave the last layer's activation off (logits for BCE-with-logits losses). */
  logits?: boolean;
}

export interface BackwardOptions {
  /** Compute parameter gradients into `grads` (false for a frozen network). */
  paramGrads: boolean;
  /** Add to the gradients instead of overwriting them. */
  accumulate?: boolean;
  /**
   * Write the gradient with respect to the input here, multiplied by act'(output) of the
   * network that produced the input (chaining D's backward into G's: G's last delta).
   */
  inputGrad?: {
    tensor: Tensor;
    gradOf?: { output: Tensor; activation: Activation; leak?: number };
    /** Only the first `columns` input columns (the image part of a conditional D's [x | one-hot]). */
    columns?: number;
  };
}

export class Mlp {
  readonly name: string;
  readonly spec: MlpSpec;
  readonly layout: ParamLayout;
  readonly params: ParamSet;
  readonly grads: ParamSet;
  private readonly ctx: GpuContext;
  private readonly pool: TensorPool;
  private readonly leak: number;

  constructor(ctx: GpuContext, pool: TensorPool, name: string, spec: MlpSpec) {
    validateMlpSpec(name, spec);
    this.ctx = ctx;
    this.pool = pool;
    this.name = name;
    this.spec = spec;
    this.leak = spec.leak ?? DEFAULT_LEAK;
    this.layout = paramLayout(spec);
    this.params = new ParamSet(pool, this.layout, `${name}.params`);
    this.grads = new ParamSet(pool, this.layout, `${name}.grads`);
    // Padding between views is never written; zero it once so region-wide updates leave it 0.
    ctx.run([fill(ctx, this.grads.flat, 0), fill(ctx, this.params.flat, 0)]);
  }

  get inputSize(): number {
    return this.spec.input;
  }

  get outputSize(): number {
    return this.spec.layers[this.spec.layers.length - 1].units;
  }

  get outputActivation(): Activation {
    return this.spec.layers[this.spec.layers.length - 1].activation;
  }

  /** Draws initial parameters on the GPU from (seed, stream + 2l / 2l + 1). */
  recordInit(seed: number, stream: number): Dispatch[] {
    const steps: Dispatch[] = [fill(this.ctx, this.params.flat, 0)];
    let fanIn = this.spec.input;
    this.spec.layers.forEach((layer, l) => {
      const [w, b] = [this.params.weights[l], this.params.biases[l]];
      const fanOut = layer.units;
      const wStream = stream + 2 * l;
      const bStream = stream + 2 * l + 1;
      switch (this.spec.init) {
        case 'dlt': {
          const r = 4 * Math.sqrt(6 / (fanIn + fanOut));
          steps.push(randomUniform(this.ctx, w, { seed, stream: wStream, lo: -r, hi: r }));
          steps.push(randomUniform(this.ctx, b, { seed, stream: bStream, lo: -r, hi: r }));
          break;
        }
        case 'xavier': {
          const r = Math.sqrt(6 / (fanIn + fanOut));
          steps.push(randomUniform(this.ctx, w, { seed, stream: wStream, lo: -r, hi: r }));
          break;
        }
        case 'he': {
          const slope = layer.activation === 'leaky_relu' ? this.leak : 0;
          steps.push(randomNormal(this.ctx, w, { seed, stream: wStream, std: Math.sqrt(2 / ((1 + slope * slope) * fanIn)) }));
          break;
        }
        case 'pytorch': {
          const r = 1 / Math.sqrt(fanIn);
          steps.push(randomUniform(this.ctx, w, { seed, stream: wStream, lo: -r, hi: r }));
          steps.push(randomUniform(this.ctx, b, { seed, stream: bStream, lo: -r, hi: r }));
          break;
        }
      }
      fanIn = fanOut;
    });
    return steps;
  }

  /** Streams `recordInit` uses from `stream` on. */
  get initStreams(): number {
    return 2 * this.spec.layers.length;
  }

  /** Buffers for running this network on `rows` inputs at a time. */
  workspace(rows: number, label = `${this.name}[${rows}]`): MlpWorkspace {
    const outputs = this.spec.layers.map((l, i) => this.pool.acquire([rows, l.units], 'f32', `${label}.y${i + 1}`));
    const deltas = this.spec.layers.map((l, i) => this.pool.acquire([rows, l.units], 'f32', `${label}.delta${i + 1}`));
    return { rows, outputs, deltas };
  }

  /** y_L = f(input), through every layer; the matmuls fuse bias and activation. */
  forward(ws: MlpWorkspace, input: Tensor, opts: ForwardOptions = {}): Dispatch[] {
    this.expectInput('forward', ws, input);
    const last = this.spec.layers.length - 1;
    return this.spec.layers.map((layer, l) =>
      matmul(this.ctx, l === 0 ? input : ws.outputs[l - 1], this.params.weights[l], ws.outputs[l], {
        bias: this.params.biases[l],
        activation: l === last && opts.logits ? 'identity' : layer.activation,
        leak: this.leak,
        label: `${this.name}.forward${l + 1}`,
      }),
    );
  }

  /** Backward from ws.deltas[L-1] (filled by a loss kernel): parameter and input gradients. */
  backward(ws: MlpWorkspace, input: Tensor, opts: BackwardOptions): Step[] {
    this.expectInput('backward', ws, input);
    const steps: Step[] = [];
    for (let l = this.spec.layers.length - 1; l >= 0; l--) {
      const below = l === 0 ? input : ws.outputs[l - 1];
      const delta = ws.deltas[l];
      if (opts.paramGrads) {
        // db_l = column sums of delta_l, fused into the weight gradient's dispatch.
        steps.push(
          matmul(this.ctx, below, delta, this.grads.weights[l], {
            transA: true,
            biasGrad: this.grads.biases[l],
            accumulate: opts.accumulate,
            label: `${this.name}.dW${l + 1}`,
          }),
        );
      }
      if (l > 0) {
        const act = this.spec.layers[l - 1].activation;
        steps.push(
          matmul(this.ctx, delta, this.params.weights[l], ws.deltas[l - 1], {
            transB: true,
            gradOf: { output: ws.outputs[l - 1], activation: act, leak: this.leak },
            label: `${this.name}.delta${l}`,
          }),
        );
      } else if (opts.inputGrad) {
        const { tensor, gradOf, columns } = opts.inputGrad;
        // Input column c meets row c of W1, so the first rows of W1 give those columns' gradient.
        const w = columns === undefined ? this.params.weights[0] : this.params.weights[0].rowsView(0, columns);
        steps.push(
          matmul(this.ctx, delta, w, tensor, {
            transB: true,
            gradOf,
            label: `${this.name}.dInput`,
          }),
        );
      }
    }
    return steps;
  }

  private expectInput(op: string, ws: MlpWorkspace, input: Tensor): void {
    if (input.rank !== 2 || input.shape[0] !== ws.rows || input.shape[1] !== this.spec.input) {
      throw new ShapeError(`${this.name}.${op}: input ${input} must have shape [${ws.rows}, ${this.spec.input}]`);
    }
  }
}
