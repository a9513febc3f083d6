// A network: a sequence of layers over one flat parameter buffer (params.ts), with forward and
// backward passes as recorded dispatches. What a layer does is its kind's business
// (layers/index.ts); the network plans the shapes, lays out the parameters, fuses standalone
// activations into the layer before them, treats reshapes as views, and chains the layers'
// passes. A multilayer perceptron is a network of dense layers.

import type { GpuContext, Step } from '../gpu/context.ts';
import { ShapeError } from '../gpu/errors.ts';
import { DEFAULT_LEAK, type Activation } from '../kernels/common.ts';
import { fill } from '../kernels/fill.ts';
import type { ElementUpdate } from '../kernels/optim.ts';
import { randomNormal } from '../kernels/random.ts';
import { matrixShape, spectralGradient, spectralPower, type SpectralState } from '../kernels/spectral.ts';
import type { TensorPool } from '../tensor/pool.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { INIT_SCHEMES, type InitScheme } from './init.ts';
import { elements, formatSample, type GradOf, type InputGrad, type Layer, type LayerPlan, type LayerSpec, type LayerWorkspace, type SampleShape } from './layer.ts';
import { LAYER_KINDS, layerKindOf } from './layers/index.ts';
import type { Optimizer } from './optimizer.ts';
import { ParamSet, paramLayout, type ParamLayout } from './params.ts';

export interface NetworkSpec {
  /** One sample's shape: a feature count, or [height, width, channels] for images. */
  input: number | number[];
  layers: LayerSpec[];
  init: InitScheme;
  /** Leaky-ReLU slope for every leaky activation (default 0.2). */
  leak?: number;
  /**
   * Spectral normalisation (Miyato et al. 2018) of every layer's weight: the passes read
   * W / sigma(W), sigma from one power iteration after each update (15 at initialisation); its
   * vectors u, v and sigma are checkpointed as `weight_u`, `weight_v`, `weight_sigma`.
   */
  spectralNorm?: boolean;
}

/** Power iterations at initialisation, as torch.nn.utils.parametrizations.spectral_norm does. */
const SPECTRAL_INIT_STEPS = 15;

/** A layer as planned: its place in the spec, its input shape and what its kind worked out. */
export interface PlannedLayer {
  index: number;
  kind: string;
  spec: LayerSpec;
  input: SampleShape;
  plan: LayerPlan;
}

export interface NetworkPlan {
  input: SampleShape;
  output: SampleShape;
  /** Every spec layer, views included. */
  layers: PlannedLayer[];
  /** The layers that run (views and fused activations left out). */
  running: PlannedLayer[];
}

/** Validates a spec and works out every layer's shapes, without a GPU. */
export function planNetwork(name: string, spec: NetworkSpec): NetworkPlan {
  const bad = (msg: string) => new ShapeError(`network '${name}': ${msg}`);
  if (!spec || typeof spec !== 'object') throw bad('spec must be an object');
  const input = typeof spec.input === 'number' ? [spec.input] : spec.input;
  if (!Array.isArray(input) || (input.length !== 1 && input.length !== 3) || input.some((d) => !Number.isInteger(d) || d < 1)) {
    throw bad(`input size must be a positive integer or [height, width, channels], got ${JSON.stringify(spec.input)}`);
  }
  if (!Array.isArray(spec.layers) || !spec.layers.length) throw bad('needs at least one layer');
  if (!INIT_SCHEMES.includes(spec.init)) throw bad(`init '${spec.init}' is not one of ${INIT_SCHEMES.join(', ')}`);
  if (spec.leak !== undefined && !(spec.leak >= 0 && spec.leak < 1)) throw bad(`leak must be in [0, 1), got ${spec.leak}`);
  if (spec.spectralNorm !== undefined && typeof spec.spectralNorm !== 'boolean') throw bad(`spectralNorm must be true or false, got ${JSON.stringify(spec.spectralNorm)}`);
  const layers: PlannedLayer[] = [];
  const running: PlannedLayer[] = [];
  let shape: SampleShape = input;
  spec.layers.forEach((layer, index) => {
    if (!layer || typeof layer !== 'object') throw bad(`layer ${index + 1} must be an object`);
    const kind = layerKindOf(layer);
    const where = `network '${name}', layer ${index + 1} (${kind}, input ${formatSample(shape)})`;
    const k = LAYER_KINDS[kind];
    if (!k) throw new ShapeError(`${where}: unknown kind '${kind}' (expected one of ${Object.keys(LAYER_KINDS).join(', ')})`);
    let plan = k.plan(layer as never, shape, where);
    const previous = running[running.length - 1];
    if (kind === 'activation' && previous && previous.plan.activation === 'identity') {
      // Fused: the layer before applies it in its epilogue, and this one becomes a view.
      previous.plan = { ...previous.plan, activation: plan.activation };
      plan = { ...plan, view: true };
    } else if (kind === 'activation' && !previous) {
      throw new ShapeError(`${where}: an activation cannot be a network's first layer (apply it to the data, or put it after a layer)`);
    }
    const planned = { index, kind, spec: layer, input: shape, plan };
    layers.push(planned);
    if (!plan.view) running.push(planned);
    shape = plan.output;
  });
  if (!running.length) throw bad('needs at least one layer that computes something (not only reshapes)');
  return { input, output: shape, layers, running };
}

/** Each layer's own check of its place in a GAN (LayerKind.checkTraining): the network's role and its rows of one kind. */
export function checkTraining(plan: NetworkPlan, role: 'generator' | 'discriminator', rows: number): void {
  for (const l of plan.running) LAYER_KINDS[l.kind]?.checkTraining?.(l.spec as never, role, rows, `${role} layer ${l.index + 1} (${l.kind})`);
}

/**
 * The sample shapes a network passes through, for descriptions: "100 -> 7x7x64 -> 28x28x1".
 * Batch norm and activations add nothing; a reshape of a vector into an image stands in for the
 * vector, and a flatten is left out.
 */
export function shapeChain(plan: NetworkPlan): string {
  const chain: SampleShape[] = [plan.input];
  for (const layer of plan.layers) {
    const [from, to] = [layer.input, layer.plan.output];
    if (layer.kind === 'batchnorm' || layer.kind === 'activation') continue;
    if (layer.plan.view) {
      if (to.length === 3 && from.length === 1) chain[chain.length - 1] = to;
      continue;
    }
    chain.push(to);
  }
  return chain.map(formatSample).join(' -> ');
}

/** The per-batch-size buffers of a network: each running layer's workspace. */
export interface NetworkWorkspace {
  rows: number;
  layers: LayerWorkspace[];
}

export interface NetworkForwardOptions {
  /** Leave the last layer's activation off (the logits of a loss that folds in the sigmoid). */
  logits?: boolean;
  /** Batch statistics (default true); false normalises with running statistics (sampling). */
  training?: boolean;
  /** The rows are this many equal blocks of different kinds (real | fake), normalised apart. */
  blocks?: number;
  /** Every layer but the last (which a fused kernel runs: see oneUnitHead). */
  exceptLast?: boolean;
  /** Training passes: the weight of this pass's statistics in the running ones, for every layer that keeps some (default: each layer's own momentum). */
  runningMomentum?: number;
}

/** A network's last layer as a dense layer of one unit over another layer (see Network.oneUnitHead). */
export interface OneUnitHead {
  /** Its input, the output of the layer below [rows, features], and where that layer's delta goes. */
  h: Tensor;
  dh: Tensor;
  /** Views of the flat parameters: weights [features, 1] and bias [1] (if it has one). */
  weight: Tensor;
  bias?: Tensor;
  activation: Activation;
  /** The layer below's activation, whose derivative the delta below takes. */
  below: Activation;
}

export interface NetworkBackwardOptions {
  /** Compute parameter gradients (false for a frozen network). */
  paramGrads: boolean;
  /** Add to the gradients instead of overwriting them. */
  accumulate?: boolean;
  /** Also write the gradient with respect to the network's input here. */
  inputGrad?: InputGrad;
  /** As in the forward pass that filled the workspace. */
  blocks?: number;
  /** Start below the last layer, whose backward a fused kernel ran (the delta below is filled). */
  belowLast?: boolean;
}

export class Network {
  readonly name: string;
  readonly spec: NetworkSpec;
  readonly plan: NetworkPlan;
  readonly layout: ParamLayout;
  readonly params: ParamSet;
  readonly grads: ParamSet;
  /** Non-trainable state (batch norm's running statistics), by `${layer}.${name}`. */
  readonly buffers: ReadonlyMap<string, Tensor>;
  readonly leak: number;
  private readonly ctx: GpuContext;
  private readonly layers: Layer[];
  /** Per running layer with a normalised weight: W, W / sigma and the power iteration's state. */
  private readonly spectral: ({ w: Tensor; wSn: Tensor; state: SpectralState; index: number } | null)[];

  constructor(ctx: GpuContext, pool: TensorPool, name: string, spec: NetworkSpec) {
    this.ctx = ctx;
    this.name = name;
    this.spec = spec;
    this.plan = planNetwork(name, spec);
    this.leak = spec.leak ?? DEFAULT_LEAK;
    this.layout = paramLayout(this.plan.running.map((l) => ({ index: l.index, params: l.plan.params })));
    this.params = new ParamSet(pool, this.layout, `${name}.params`);
    this.grads = new ParamSet(pool, this.layout, `${name}.grads`);
    const buffers = new Map<string, Tensor>();
    const buffer = (index: number, bufferName: string, shape: readonly number[]) => {
      const t = pool.acquire(shape, 'f32', `${name}.${index}.${bufferName}`);
      buffers.set(`${index}.${bufferName}`, t);
      return t;
    };
    this.spectral = this.plan.running.map((l) => {
      // The weights a layer multiplies by (dense, conv): a batch norm's scale is no matrix.
      const w = this.params.byKey.get(`${l.index}.weight`);
      if (!spec.spectralNorm || !w || !l.plan.params.some((p) => p.name === 'weight' && p.decay)) return null;
      const [K, N] = matrixShape(w);
      const state = { u: buffer(l.index, 'weight_u', [N]), v: buffer(l.index, 'weight_v', [K]), sigma: buffer(l.index, 'weight_sigma', [1]) };
      return { w, wSn: pool.acquire(w.shape, 'f32', `${name}.${l.index}.weight / sigma`), state, index: l.index };
    });
    this.layers = this.plan.running.map((l, i) => {
      const own: Record<string, Tensor> = {};
      for (const b of l.plan.buffers) own[b.name] = buffer(l.index, b.name, b.shape);
      const params = this.params.ofLayer(l.index);
      const sn = this.spectral[i];
      return LAYER_KINDS[l.kind].build({
        ctx,
        pool,
        spec: l.spec as never,
        plan: l.plan,
        input: l.input,
        params,
        grads: this.grads.ofLayer(l.index),
        read: sn ? { ...params, weight: sn.wSn } : params,
        buffers: own,
        init: spec.init,
        leak: this.leak,
        label: `${name}.${l.index}`,
      });
    });
    this.buffers = buffers;
    // Padding between views is never written; zero it once so region-wide updates leave it 0.
    ctx.run([fill(ctx, this.grads.flat, 0), fill(ctx, this.params.flat, 0)]);
  }

  /** Features of one input sample. */
  get inputSize(): number {
    return elements(this.plan.input);
  }

  get outputSize(): number {
    return elements(this.plan.output);
  }

  get inputShape(): SampleShape {
    return this.plan.input;
  }

  get outputShape(): SampleShape {
    return this.plan.output;
  }

  /** The activation of the network's output (its last running layer's). */
  get outputActivation(): Activation {
    return this.plan.running[this.plan.running.length - 1].plan.activation;
  }

  /**
   * Draws initial parameters (streams stream + 2l and stream + 2l + 1 for spec layer l; with
   * spectral normalisation u from stream + 2L + l) and resets buffers.
   */
  recordInit(seed: number, stream: number): Step[] {
    const steps: Step[] = [fill(this.ctx, this.params.flat, 0)];
    this.layers.forEach((layer, i) => steps.push(...layer.recordInit(seed, stream + 2 * this.plan.running[i].index)));
    for (const l of this.plan.running) {
      for (const b of l.plan.buffers) steps.push(fill(this.ctx, this.buffers.get(`${l.index}.${b.name}`)!, b.initial));
    }
    for (const sn of this.spectral) {
      if (!sn) continue;
      steps.push(randomNormal(this.ctx, sn.state.u, { seed, stream: stream + 2 * this.spec.layers.length + sn.index }));
      const step = spectralPower(this.ctx, sn.w, sn.wSn, sn.state, { label: `${this.name}.${sn.index} spectral norm` });
      for (let k = 0; k < SPECTRAL_INIT_STEPS; k++) steps.push(step);
    }
    return steps;
  }

  /** Streams `recordInit` uses from `stream` on. */
  get initStreams(): number {
    return (this.spec.spectralNorm ? 3 : 2) * this.spec.layers.length;
  }

  /** What must follow every update of the parameters: one power iteration per normalised weight. */
  recordAfterUpdate(): Step[] {
    return this.spectral.flatMap((sn) => (sn ? [spectralPower(this.ctx, sn.w, sn.wSn, sn.state, { label: `${this.name}.${sn.index} spectral norm` })] : []));
  }

  /**
   * What must follow uploading a checkpoint's parameters and buffers: state derived from them
   * (W / sigma with the restored sigma, bit for bit what the saved run read).
   */
  recordRestored(): Step[] {
    return this.spectral.flatMap((sn) => (sn ? [spectralPower(this.ctx, sn.w, sn.wSn, sn.state, { rescaleOnly: true, label: `${this.name}.${sn.index} restore W / sigma` })] : []));
  }

  /** Buffers for running this network on `rows` inputs at a time. */
  workspace(rows: number, label = `${this.name}[${rows}]`): NetworkWorkspace {
    return { rows, layers: this.layers.map((layer, i) => layer.workspace(rows, `${label}.${this.plan.running[i].index}`)) };
  }

  /**
   * `ws` with its forward pass writing the network's output into `output` [rows, outputSize]
   * instead of its own buffer, every other buffer shared (for passes that run apart from ws's
   * own): a generator writes its fakes straight into the discriminator's batch, with no copy.
   */
  outputInto(ws: NetworkWorkspace, output: Tensor): NetworkWorkspace {
    if (output.dtype !== 'f32' || output.rank !== 2 || output.shape[0] !== ws.rows || output.shape[1] !== this.outputSize) {
      throw new ShapeError(`${this.name}.outputInto: output ${output} must be f32 [${ws.rows}, ${this.outputSize}]`);
    }
    const last = ws.layers.length - 1;
    return { rows: ws.rows, layers: [...ws.layers.slice(0, last), { ...ws.layers[last], output }] };
  }

  /** The network's output in a workspace [rows, outputSize]. */
  output(ws: NetworkWorkspace): Tensor {
    return ws.layers[ws.layers.length - 1].output;
  }

  /** Where the loss writes its gradient: with respect to the output before its activation. */
  outputGrad(ws: NetworkWorkspace): Tensor {
    return ws.layers[ws.layers.length - 1].delta;
  }

  /**
   * What another network's backward pass needs to continue into this one through its input:
   * this network's output gradient, with this network's output activation fused in.
   */
  chainInto(ws: NetworkWorkspace, columns?: number): InputGrad {
    return { tensor: this.outputGrad(ws), gradOf: { output: this.output(ws), activation: this.outputActivation, leak: this.leak }, columns };
  }

  forward(ws: NetworkWorkspace, input: Tensor, opts: NetworkForwardOptions = {}): Step[] {
    this.expectInput('forward', ws, input);
    const last = this.layers.length - 1;
    const layerOpts = { training: opts.training ?? true, blocks: opts.blocks ?? 1, runningMomentum: opts.runningMomentum };
    const layers = opts.exceptLast ? this.layers.slice(0, last) : this.layers;
    return layers.flatMap((layer, i) =>
      layer.forward(ws.layers[i], i === 0 ? input : ws.layers[i - 1].output, { ...layerOpts, activation: i === last && opts.logits ? 'identity' : undefined }),
    );
  }

  /**
   * The last layer where it is a dense layer of one unit above another layer whose weights the
   * passes read as stored (no spectral normalisation): a discriminator's output layer, which
   * kernels/head.ts runs with the loss in one dispatch. Null otherwise.
   */
  oneUnitHead(ws: NetworkWorkspace): OneUnitHead | null {
    const n = this.layers.length;
    const last = this.plan.running[n - 1];
    if (n < 2 || this.spec.spectralNorm || last.kind !== 'dense' || this.outputSize !== 1) return null;
    const below = ws.layers[n - 2];
    const weight = this.params.byKey.get(`${last.index}.weight`)!;
    return { h: below.output, dh: below.delta, weight, bias: this.params.byKey.get(`${last.index}.bias`), activation: last.plan.activation, below: this.plan.running[n - 2].plan.activation };
  }

  /**
   * Whether the backward pass's own kernels update every parameter (backwardAndUpdate), on every
   * adapter: every running layer applies an optimizer's rule in its weight gradient (dense
   * layers), and nothing stands between a weight's gradient and its update (spectral
   * normalisation's gradient does). On lavapipe the fused update costs what the optimizer's own
   * pass does (784 x 512: 11.9 against 6.6 + 4.5 ms), once the subgroup kernel stages it
   * (lib/epilogue_update.wgsl).
   */
  get updatesInBackward(): boolean {
    return !this.spec.spectralNorm && this.layers.every((l) => l.updatesInBackward === true);
  }

  /**
   * Backward from the output gradient, then one update of every parameter by `optimizer`: in
   * the weight-gradient kernels' epilogues where the network allows (updatesInBackward: one
   * dispatch fewer, the same bits), else the optimizer's own dispatch after the pass.
   */
  backwardAndUpdate(ws: NetworkWorkspace, input: Tensor, optimizer: Optimizer, opts: Omit<NetworkBackwardOptions, 'paramGrads' | 'accumulate'> = {}): Step[] {
    if (optimizer.network !== this) throw new ShapeError(`${this.name}.backwardAndUpdate: the optimizer updates '${optimizer.network.name}'`);
    if (!this.updatesInBackward) return [...this.backward(ws, input, { ...opts, paramGrads: true }), ...optimizer.recordUpdate()];
    return [...this.backward(ws, input, { ...opts, paramGrads: true }, optimizer.elementUpdate()), ...optimizer.recordAfterUpdate()];
  }

  /** Backward from the output gradient (filled by a loss): parameter and input gradients. */
  backward(ws: NetworkWorkspace, input: Tensor, opts: NetworkBackwardOptions, update?: ElementUpdate): Step[] {
    this.expectInput('backward', ws, input);
    if (update && (!opts.paramGrads || opts.accumulate || !this.updatesInBackward)) {
      throw new ShapeError(`${this.name}.backward: an update in the backward pass needs fresh parameter gradients of a network whose layers all apply it`);
    }
    const steps: Step[] = [];
    for (let i = this.layers.length - (opts.belowLast ? 2 : 1); i >= 0; i--) {
      const below = i === 0 ? input : ws.layers[i - 1].output;
      const inputGrad = i === 0 ? opts.inputGrad : { tensor: ws.layers[i - 1].delta, gradOf: this.gradOf(ws, i - 1) };
      steps.push(...this.layers[i].backward(ws.layers[i], below, { paramGrads: opts.paramGrads, accumulate: opts.accumulate, inputGrad, blocks: opts.blocks ?? 1, update }));
      const sn = this.spectral[i];
      if (sn && opts.paramGrads) {
        // The layer wrote dL/d(W / sigma); the optimizer needs dL/dW.
        if (opts.accumulate) throw new ShapeError(`${this.name}.backward: spectral normalisation cannot accumulate gradients across passes`);
        steps.push(spectralGradient(this.ctx, sn.wSn, this.grads.byKey.get(`${sn.index}.weight`)!, sn.state, { label: `${this.name}.${sn.index} spectral-norm gradient` }));
      }
    }
    return steps;
  }

  private gradOf(ws: NetworkWorkspace, i: number): GradOf {
    return { output: ws.layers[i].output, activation: this.plan.running[i].plan.activation, leak: this.leak };
  }

  private expectInput(op: string, ws: NetworkWorkspace, input: Tensor): void {
    if (input.rank !== 2 || input.shape[0] !== ws.rows || input.shape[1] !== this.inputSize) {
      throw new ShapeError(`${this.name}.${op}: input ${input} must have shape [${ws.rows}, ${this.inputSize}]`);
    }
  }
}

/** The sizes a network maps through, e.g. `784-512-256-10` or `100-7x7x128-14x14x64-28x28x1`. */
export function describeNetwork(name: string, spec: NetworkSpec): string {
  const plan = planNetwork(name, spec);
  return [plan.input, ...plan.running.map((l) => l.plan.output)].map(formatSample).join('-');
}
