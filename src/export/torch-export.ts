// A checkpoint's generator (or discriminator) as a PyTorch nn.Sequential: the modules, their
// state dict in torch's names and layouts, and a safetensors file that
// `model.load_state_dict(safetensors.torch.load_file(path))` loads, so that the torch model
// computes what ours computes in inference mode (batch norm on its running statistics).
//
// Layouts. Dense weights are [in, out] here, torch.nn.Linear's [out, in]; conv weights are
// [KH, KW, Cin, Cout] here, Conv2d's [Cout, Cin, KH, KW] and ConvTranspose2d's [Cin, Cout, KH,
// KW]. Our images are NHWC, torch's NCHW. A convolution maps images to images in either layout
// with the weights permuted, but a reshape between flat features and an image does not: ours
// reads feature (y * W + x) * C + c as pixel (y, x) channel c, nn.Unflatten(1, (C, H, W)) reads
// feature c * H * W + y * W + x. So each run of flat features carries an order (torch's feature
// j is our feature order[j]); a dense layer that produces the run is exported with its output
// units (and a batch norm in the run with its channels) in that order, and a dense layer that
// consumes a run exported with its input columns in the run's order.

import type { CheckpointContents } from '../gan/checkpoint.ts';
import type { GanConfig } from '../gan/config.ts';
import type { SampleWeights } from '../gan/sampler.ts';
import { AVERAGE_STATE } from '../nn/optimizer.ts';
import { dataShape, type DataSpec } from '../data/source.ts';
import { DEFAULT_LEAK, type Activation } from '../kernels/common.ts';
import { CheckpointError, encodeSafetensors, type SafeI64Tensor, type SafeTensor } from '../io/safetensors.ts';
import { elements, formatSample, type BatchNormSpec, type Conv2dSpec, type ConvTranspose2dSpec, type SampleShape } from '../nn/layer.ts';
import { planNetwork, type PlannedLayer } from '../nn/network.ts';
import { pythonSequential, stateEntries, type ExportedModule, type TorchModule } from './torch-modules.ts';

export const TORCH_EXPORT_FORMAT = 'webgpu-gan-torch/1';

export type ExportedNet = 'generator' | 'discriminator';
export const EXPORTED_NETS: readonly ExportedNet[] = ['generator', 'discriminator'];

/** A network that has no faithful nn.Sequential of the modules this export writes. */
export class ExportError extends Error {
  override name = 'ExportError';
}

export type TorchTensor = SafeTensor | SafeI64Tensor;

export interface TorchExport {
  net: ExportedNet;
  modules: ExportedModule[];
  /** The state dict, `<module index>.<name>` as nn.Sequential names it, in module order. */
  state: Map<string, TorchTensor>;
  /** Python that builds the nn.Sequential (named after `net`). */
  python: string;
  /** What the model takes and gives, in words with the torch expressions. */
  input: string;
  output: string;
  /** What the export changed or what a user must know (spectral normalisation, label columns). */
  notes: string[];
}

/** An order of flat features: torch feature j is our feature order[j]; null is the identity. */
type Order = Int32Array | null;

/** The order nn.Flatten / nn.Unflatten give an NHWC image of [h, w, c]: channel-major. */
function nchwOrder([h, w, c]: readonly number[]): Order {
  if (c === 1 || h * w === 1) return null;
  const order = new Int32Array(h * w * c);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) order[ch * h * w + p] = p * c + ch;
  return order;
}

function sameOrder(a: Order, b: Order): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

const isImage = (shape: SampleShape) => shape.length === 3;

/** Layers that keep a flat run's order: elementwise ones and flat-to-flat reshapes. */
function keepsOrder(layer: PlannedLayer): boolean {
  return layer.kind === 'batchnorm' || layer.kind === 'activation' || (layer.kind === 'reshape' && !isImage(layer.plan.output));
}

/**
 * The order of every activation (stage s is the network's input for s = 0, else layer s - 1's
 * output) that is flat, chosen so that every producer and consumer of a run agree: the input and
 * a flatten fix a run's order, a dense layer producing it is free to take any; an unflatten
 * needs channel-major order, the network's output needs ours, a dense consumer takes any.
 */
function flatOrders(name: string, stages: readonly SampleShape[], layers: readonly PlannedLayer[]): Order[] {
  const orders: Order[] = stages.map(() => null);
  for (let s = 0; s < stages.length; ) {
    if (isImage(stages[s])) {
      s++;
      continue;
    }
    let e = s;
    while (e + 1 < stages.length && !isImage(stages[e + 1]) && keepsOrder(layers[e])) e++;
    const producer = s === 0 ? null : layers[s - 1];
    const consumer = e + 1 < stages.length ? layers[e] : null;
    const fixed: Order | 'free' = producer?.kind === 'dense' ? 'free' : producer ? nchwOrder(producer.input) : null;
    const needed: Order | 'any' = consumer?.kind === 'dense' ? 'any' : consumer ? nchwOrder(consumer.plan.output) : null;
    let order: Order;
    if (fixed === 'free') order = needed === 'any' ? null : needed;
    else if (needed === 'any' || sameOrder(fixed, needed)) order = fixed;
    else {
      const from = producer ? `${name}.${producer.index} (flatten of ${formatSample(producer.input)})` : `the network's input`;
      const to = consumer ? `${name}.${consumer.index} (reshape to ${formatSample(consumer.plan.output)})` : `the network's output`;
      throw new ExportError(
        `${name}: the flat features from ${from} reach ${to} in our NHWC order, which torch's channel-major ` +
          'nn.Flatten / nn.Unflatten cannot reproduce without a layer that permutes features; put a dense layer between them',
      );
    }
    for (let k = s; k <= e; k++) orders[k] = order;
    s = e + 1;
  }
  return orders;
}

const at = (order: Order, j: number) => (order ? order[j] : j);

function permuted(data: ArrayLike<number>, order: Order): Float32Array {
  return Float32Array.from({ length: data.length }, (_, j) => data[at(order, j)]);
}

/** Our dense weight [in, out] as torch.nn.Linear's [out, in], rows and columns in the runs' orders. */
function linearWeight(w: ArrayLike<number>, fanIn: number, units: number, inOrder: Order, outOrder: Order): Float32Array {
  const out = new Float32Array(fanIn * units);
  for (let o = 0; o < units; o++) {
    const col = at(outOrder, o);
    for (let i = 0; i < fanIn; i++) out[o * fanIn + i] = w[at(inOrder, i) * units + col];
  }
  return out;
}

/** Our conv weight [KH, KW, Cin, Cout] as Conv2d's [Cout, Cin, KH, KW] or ConvTranspose2d's [Cin, Cout, KH, KW]. */
function convWeight(w: ArrayLike<number>, k: number, cin: number, cout: number, transposed: boolean): Float32Array {
  const out = new Float32Array(w.length);
  for (let kh = 0; kh < k; kh++) {
    for (let kw = 0; kw < k; kw++) {
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) {
          const to = transposed ? ((ci * cout + co) * k + kh) * k + kw : ((co * cin + ci) * k + kh) * k + kw;
          out[to] = w[((kh * k + kw) * cin + ci) * cout + co];
        }
      }
    }
  }
  return out;
}

function activationModule(act: Activation, leak: number): TorchModule | null {
  switch (act) {
    case 'identity':
      return null;
    case 'relu':
      return { type: 'ReLU' };
    case 'leaky_relu':
      return { type: 'LeakyReLU', slope: leak };
    case 'sigmoid':
      return { type: 'Sigmoid' };
    case 'tanh':
      return { type: 'Tanh' };
    default:
      throw new ExportError(`activation '${act}' has no torch module in this export`);
  }
}

/**
 * Training forward passes per iteration that moved a network's running statistics, which torch
 * counts in num_batches_tracked: the alternating schedule runs G k + 1 times (k D updates, one G
 * update) and D k + 1 times (D judges G's batch in training mode in the G update too); the epoch
 * schedule runs G once over the epoch and once per G minibatch, D per D minibatch of every
 * epoch and per G minibatch.
 */
function trainingPassesPerIteration(config: GanConfig, net: ExportedNet): number {
  if (config.schedule.kind === 'epoch') {
    const gBatches = config.schedule.epochRows / config.batch;
    return net === 'generator' ? 1 + gBatches : config.k * 2 * gBatches + gBatches;
  }
  return config.k + 1;
}

/** The seed experiment's noise: each row min-max scaled to [0, 1], as Python. */
const MINMAX_ROWS = [
  'def minmax_rows(z):',
  '    lo, hi = z.min(1, keepdim=True).values, z.max(1, keepdim=True).values',
  '    return (z - lo) / (hi - lo)',
  '',
].join('\n');

/** What G's input is made of, as a torch expression for n rows. */
function noiseExpression(config: GanConfig, n: string): string {
  const { noise } = config;
  let z = noise.distribution === 'normal' ? `torch.randn(${n}, ${noise.dim})` : `torch.rand(${n}, ${noise.dim}) * ${(noise.hi ?? 1) - (noise.lo ?? -1)} + ${noise.lo ?? -1}`;
  if (noise.minmax) z = `minmax_rows(${z})`;
  const c = config.conditional;
  if (!c) return z;
  return `torch.cat([${z}, ${c.labelScale ?? 1} * nn.functional.one_hot(labels, ${c.classes}).float()], dim=1)`;
}

/** The expression that maps y in [lo, hi] to [0, 1]. */
function toUnit(lo: number, hi: number): string {
  const shifted = lo === 0 ? 'y' : lo < 0 ? `(y + ${-lo})` : `(y - ${lo})`;
  return hi - lo === 1 ? shifted : `${shifted} / ${hi - lo}`;
}

/** What G's output values stand for, in the data's terms. */
function unitsOf(data: DataSpec): string {
  switch (data.kind) {
    case 'mnist':
    case 'fashion': {
      const [lo, hi] = data.range ?? [0, 1];
      const minmax = data.kind === 'mnist' && data.minmax ? ', each real image min-max scaled to [0, 1]' : '';
      return lo === 0 && hi === 1 ? `pixel intensities in [0, 1]${minmax}` : `pixel intensities mapped to [${lo}, ${hi}]; intensity = ${toUnit(lo, hi)}`;
    }
    case 'dataset': {
      const s = data.scaling;
      if (s.kind === 'range') return `the data's values mapped to [${s.lo}, ${s.hi}]; value in [0, 1] = ${toUnit(s.lo, s.hi)}`;
      if (s.kind === 'standardize') return "standardised per column: y * std + mean gives the data's units (mean and std are in the config's data.scaling)";
      return "the data's units";
    }
    default:
      return "points in the data's units";
  }
}

function describeShape(shape: SampleShape, n = 'n'): string {
  return isImage(shape) ? `[${n}, ${shape[2]}, ${shape[0]}, ${shape[1]}] (NCHW)` : `[${n}, ${shape[0]}]`;
}

/** The input and output in words, and the notes on conditioning and packing. */
function describeEnds(config: GanConfig, net: ExportedNet, input: SampleShape, output: SampleShape, outputActivation: Activation): { input: string; output: string; notes: string[] } {
  const notes: string[] = [];
  const data = dataShape(config.data);
  const hwcRows = isImage(data) && data[2] > 1 ? `, each image's pixels in HWC order (x.permute(0, 2, 3, 1).flatten(1) of an NCHW batch)` : '';
  const c = config.conditional;
  if (net === 'generator') {
    let out = `${describeShape(output)}: ${unitsOf(config.data)}`;
    if (!isImage(output) && isImage(data)) out += `; a row is a ${formatSample(data)} image${data[2] > 1 ? ` in HWC order: x.view(n, ${data.join(', ')}).permute(0, 3, 1, 2) is NCHW` : `: x.view(n, 1, ${data[0]}, ${data[1]})`}`;
    if (c) {
      notes.push(`conditional generator: the label is part of the input, its last ${c.classes} columns holding ${c.labelScale ?? 1} * one_hot(label, ${c.classes}) (labels: an int64 tensor [n])`);
    }
    if (config.noise.minmax) notes.push('the noise rows are min-max scaled to [0, 1] (minmax_rows, defined beside the module)');
    return { input: `${describeShape(input)}: ${noiseExpression(config, 'n')}`, output: out, notes };
  }
  let inText = `${describeShape(input)}: ${isImage(input) ? `images as the generator gives them (${unitsOf(config.data)})` : `samples as the generator gives them (${unitsOf(config.data)})`}`;
  const pack = config.pack ?? 1;
  if (pack > 1) {
    inText = `[n / ${pack}, ${elements(input)}]: ${pack} samples side by side per row, the generator's rows viewed as x.reshape(-1, ${elements(input)})${hwcRows}`;
    notes.push(`packed discriminator (PacGAN): it judges ${pack} samples of one kind at once`);
  }
  if (c) {
    inText = `[n, ${elements(input)}]: torch.cat([x.flatten(1), ${c.labelScale ?? 1} * nn.functional.one_hot(labels, ${c.classes}).float()], dim=1)${hwcRows}`;
    notes.push(`conditional discriminator: the label is part of the input, its last ${c.classes} columns`);
  }
  const outText = `[n, 1]: ${outputActivation === 'sigmoid' ? 'D(x), the probability that x is real' : "D's raw score (higher: more real)"}`;
  return { input: inText, output: outText, notes };
}

/** A checkpoint tensor, checked: present, float and of the shape the config makes. */
function tensorOf(ckpt: CheckpointContents, name: string, shape: readonly number[]): Float32Array {
  const t = ckpt.tensors.get(name);
  const file = ckpt.source ?? 'checkpoint';
  if (!t) throw new CheckpointError(`${file}: tensor '${name}' is missing (the config of preset '${ckpt.config.preset}' needs it)`);
  if (t.dtype !== 'F32' || t.shape.join() !== shape.join()) throw new CheckpointError(`${file}: tensor '${name}' is ${t.dtype}[${t.shape}], the config needs F32[${shape}]`);
  return t.data as Float32Array;
}

/** The network `net` of a checkpoint as torch modules, their state dict and their description. */
export function exportForTorch(ckpt: CheckpointContents, net: ExportedNet = 'generator', weights?: SampleWeights): TorchExport {
  const { config } = ckpt;
  // G's weight average (and the buffers saved with it), as the sampler reads it by default.
  const average = config.optimizerG.average !== undefined;
  const which = weights ?? (net === 'generator' && average ? 'average' : 'trained');
  if (which === 'average' && (net !== 'generator' || !average)) {
    throw new ExportError(net === 'generator' ? `${ckpt.source ?? 'checkpoint'} keeps no average of G's weights (its optimizerG has no 'average'); export the trained weights` : 'only the generator keeps a weight average; export the trained weights');
  }
  const suffix = which === 'average' ? `.${AVERAGE_STATE}` : '';
  const spec = net === 'generator' ? config.generator : config.discriminator;
  const plan = planNetwork(net, spec);
  const leak = spec.leak ?? DEFAULT_LEAK;
  const stages = [plan.input, ...plan.layers.map((l) => l.plan.output)];
  const orders = flatOrders(net, stages, plan.layers);
  const tracked = BigInt(ckpt.iteration * trainingPassesPerIteration(config, net));
  const modules: ExportedModule[] = [];
  const state = new Map<string, TorchTensor>();
  const notes: string[] = [];
  const add = (module: TorchModule, from: string, tensors: Record<string, Float32Array> = {}) => {
    const i = modules.length;
    modules.push({ module, from });
    for (const e of stateEntries(module)) {
      state.set(`${i}.${e.name}`, e.dtype === 'I64' ? { dtype: 'I64', shape: e.shape, data: BigInt64Array.of(tracked) } : { dtype: 'F32', shape: e.shape, data: tensors[e.name] });
    }
  };
  const addActivation = (act: Activation, from: string) => {
    const m = activationModule(act, leak);
    if (m) add(m, from);
  };

  for (const layer of plan.layers) {
    const key = `${net}.${layer.index}`;
    const where = `${key}: ${layer.kind} ${formatSample(layer.input)} -> ${formatSample(layer.plan.output)}`;
    const [inOrder, outOrder] = [orders[layer.index], orders[layer.index + 1]];
    const param = (name: string) => {
      const decl = layer.plan.params.find((p) => p.name === name);
      return decl ? tensorOf(ckpt, `${key}.${name}${suffix}`, decl.shape) : null;
    };
    // A spectrally normalised network computes with W / sigma for its dense and conv weights:
    // that is the weight torch gets.
    const weight = () => {
      const w = param('weight')!;
      if (!spec.spectralNorm || !ckpt.tensors.has(`${key}.weight_sigma${suffix}`)) return w;
      const sigma = tensorOf(ckpt, `${key}.weight_sigma${suffix}`, [1])[0];
      return w.map((v) => v / sigma);
    };
    if (layer.plan.view) {
      // A fused activation is written after the layer it is fused into; a reshape becomes a
      // torch view where the layouts differ.
      if (layer.kind !== 'reshape') continue;
      const [from, to] = [layer.input, layer.plan.output];
      if (isImage(from) && isImage(to)) {
        if (from.join() !== to.join()) {
          throw new ExportError(`${where}: a reshape between images reorders NHWC memory, which no torch view in NCHW reproduces; reshape through a dense layer instead`);
        }
      } else if (isImage(to)) add({ type: 'Unflatten', channels: to[2], height: to[0], width: to[1] }, `${where} (NHWC here)`);
      else if (isImage(from)) add({ type: 'Flatten' }, `${where} (NHWC here; the next dense layer's columns follow torch's order)`);
      continue;
    }
    switch (layer.kind) {
      case 'dense': {
        const fanIn = elements(layer.input);
        const units = layer.plan.output[0];
        let order = inOrder;
        if (isImage(layer.input)) {
          add({ type: 'Flatten' }, `${key} reads its ${formatSample(layer.input)} input as flat features`);
          order = nchwOrder(layer.input);
        }
        const b = param('bias');
        add({ type: 'Linear', inFeatures: fanIn, outFeatures: units, bias: b !== null }, where, {
          weight: linearWeight(weight(), fanIn, units, order, outOrder),
          ...(b ? { bias: permuted(b, outOrder) } : {}),
        });
        break;
      }
      case 'conv2d':
      case 'conv-transpose2d': {
        const s = layer.spec as Conv2dSpec | ConvTranspose2dSpec;
        const transposed = layer.kind === 'conv-transpose2d';
        const [cin, cout] = [layer.input[2], layer.plan.output[2]];
        const b = param('bias');
        const module: TorchModule = {
          type: transposed ? 'ConvTranspose2d' : 'Conv2d',
          inChannels: cin,
          outChannels: cout,
          kernel: s.kernel,
          stride: s.stride ?? 1,
          padding: s.padding ?? 0,
          outputPadding: transposed ? ((s as ConvTranspose2dSpec).outputPadding ?? 0) : 0,
          bias: b !== null,
        };
        add(module, where, { weight: convWeight(weight(), s.kernel, cin, cout, transposed), ...(b ? { bias: b } : {}) });
        break;
      }
      case 'batchnorm': {
        const s = layer.spec as BatchNormSpec;
        const image = isImage(layer.input);
        const features = image ? layer.input[2] : elements(layer.input);
        const order = image ? null : inOrder;
        const buffer = (name: string) => permuted(tensorOf(ckpt, `${key}.${name}${suffix}`, [features]), order);
        add({ type: image ? 'BatchNorm2d' : 'BatchNorm1d', features, eps: s.eps ?? 1e-5, momentum: s.momentum ?? 0.1 }, where, {
          weight: permuted(weight(), order),
          bias: permuted(param('bias')!, order),
          running_mean: buffer('running_mean'),
          running_var: buffer('running_var'),
        });
        break;
      }
      case 'activation':
        break;
      default:
        throw new ExportError(`${where}: layer kind '${layer.kind}' has no torch module in this export`);
    }
    addActivation(layer.plan.activation, `${key}'s ${layer.plan.activation}`);
  }

  if (spec.spectralNorm) {
    notes.push(
      'spectral normalisation: each weight is exported as W / sigma, sigma from the checkpoint\'s last power iteration, as a plain weight; ' +
        'the torch model computes what ours does, but further training in torch would not keep the normalisation ' +
        '(wrap the layers in torch.nn.utils.parametrizations.spectral_norm for that, which starts its own power iteration afresh)',
    );
  }
  if (modules.some((m) => m.module.type.startsWith('BatchNorm'))) {
    notes.push(`batch norm: call ${net}.eval() to normalise with the running statistics, as sampling here does; num_batches_tracked is ${tracked}, the training passes that moved them`);
  }
  if (which === 'average') {
    notes.push(`weights: the moving average of G's weights that training kept (decay ${config.optimizerG.average}), with the running statistics made for it, as sampling here reads them; --weights trained exports the last update's`);
  }
  const ends = describeEnds(config, net, plan.input, plan.output, plan.running[plan.running.length - 1].plan.activation);
  notes.unshift(...ends.notes);
  const header = [`${net} of preset '${config.preset}' at iteration ${ckpt.iteration}, exported by webgpu-gan`, `input: ${ends.input}`, `output: ${ends.output}`];
  const helpers = config.noise.minmax && net === 'generator' ? [MINMAX_ROWS] : [];
  return { net, modules, state, python: pythonSequential(net, modules, header, helpers), input: ends.input, output: ends.output, notes };
}

/**
 * Python lines that load the file into the module `python` builds and run it: `n` samples drawn
 * from the generator, or the discriminator's verdict on them.
 */
export function pythonUsage(e: TorchExport, config: GanConfig, file: string): string {
  const lines = ['from safetensors.torch import load_file', `${e.net}.load_state_dict(load_file(${JSON.stringify(file)}))`, `${e.net}.eval()`, 'with torch.no_grad():'];
  if (config.conditional) lines.push(`    labels = torch.arange(16) % ${config.conditional.classes}`);
  if (e.net === 'generator') {
    lines.push(`    z = ${noiseExpression(config, '16')}`, `    x = generator(z)  # ${describeShape(planNetwork('generator', config.generator).output, '16')}`);
  } else {
    lines.push('    score = discriminator(x)  # x: samples as the input line above describes');
  }
  return lines.join('\n');
}

/**
 * The export as safetensors bytes: the state dict, int64 tensors first (torch views each tensor
 * in place, which needs its offset aligned to its element size), and in the metadata the Python
 * module, the input and output, the notes and the source checkpoint's config.
 */
export function encodeTorchExport(e: TorchExport, ckpt: CheckpointContents): Uint8Array {
  const ordered = new Map([...e.state].sort(([, a], [, b]) => Number(b.dtype === 'I64') - Number(a.dtype === 'I64')));
  return encodeSafetensors(ordered, {
    format: TORCH_EXPORT_FORMAT,
    net: e.net,
    module: e.python,
    input: e.input,
    output: e.output,
    notes: e.notes.join('\n'),
    preset: ckpt.config.preset,
    iteration: String(ckpt.iteration),
    config: JSON.stringify(ckpt.config),
  });
}
