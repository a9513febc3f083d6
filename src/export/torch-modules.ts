// The PyTorch side of an export: the torch.nn modules an exported network is made of, the
// state-dict entries each one owns (names and shapes as torch has them), and the Python text that
// builds them as an nn.Sequential. Nothing here knows our layers; torch-export.ts maps onto these.

/** One module of an exported nn.Sequential, with its constructor arguments. */
export type TorchModule =
  | { type: 'Linear'; inFeatures: number; outFeatures: number; bias: boolean }
  | {
      type: 'Conv2d' | 'ConvTranspose2d';
      inChannels: number;
      outChannels: number;
      kernel: number;
      stride: number;
      padding: number;
      /** ConvTranspose2d only. */
      outputPadding: number;
      bias: boolean;
    }
  | { type: 'BatchNorm1d' | 'BatchNorm2d'; features: number; eps: number; momentum: number }
  | { type: 'ReLU' | 'Sigmoid' | 'Tanh' | 'Flatten' }
  | { type: 'LeakyReLU'; slope: number }
  /** nn.Unflatten(1, (channels, height, width)): flat features to an NCHW image. */
  | { type: 'Unflatten'; channels: number; height: number; width: number };

/** A module in the exported sequence, with a note of the layer of ours it comes from. */
export interface ExportedModule {
  module: TorchModule;
  from: string;
}

/**
 * The state-dict entries torch's module of this kind and size registers, name and shape, in
 * registration order (what load_state_dict with strict=True expects, no more and no fewer).
 */
export function stateEntries(m: TorchModule): { name: string; shape: number[]; dtype: 'F32' | 'I64' }[] {
  const f32 = (name: string, shape: number[]) => ({ name, shape, dtype: 'F32' as const });
  switch (m.type) {
    case 'Linear':
      return [f32('weight', [m.outFeatures, m.inFeatures]), ...(m.bias ? [f32('bias', [m.outFeatures])] : [])];
    case 'Conv2d':
      return [f32('weight', [m.outChannels, m.inChannels, m.kernel, m.kernel]), ...(m.bias ? [f32('bias', [m.outChannels])] : [])];
    case 'ConvTranspose2d':
      return [f32('weight', [m.inChannels, m.outChannels, m.kernel, m.kernel]), ...(m.bias ? [f32('bias', [m.outChannels])] : [])];
    case 'BatchNorm1d':
    case 'BatchNorm2d': {
      const c = [m.features];
      return [f32('weight', c), f32('bias', c), f32('running_mean', c), f32('running_var', c), { name: 'num_batches_tracked', shape: [], dtype: 'I64' }];
    }
    default:
      return [];
  }
}

/** A number as a Python float literal (1.0, not 1). */
function pyFloat(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

/** The constructor call, e.g. `nn.Linear(100, 3136, bias=False)`. */
export function pythonCall(m: TorchModule): string {
  const bias = (b: boolean) => (b ? '' : ', bias=False');
  switch (m.type) {
    case 'Linear':
      return `nn.Linear(${m.inFeatures}, ${m.outFeatures}${bias(m.bias)})`;
    case 'Conv2d':
    case 'ConvTranspose2d': {
      const op = m.type === 'ConvTranspose2d' && m.outputPadding ? `, output_padding=${m.outputPadding}` : '';
      return `nn.${m.type}(${m.inChannels}, ${m.outChannels}, kernel_size=${m.kernel}, stride=${m.stride}, padding=${m.padding}${op}${bias(m.bias)})`;
    }
    case 'BatchNorm1d':
    case 'BatchNorm2d':
      return `nn.${m.type}(${m.features}, eps=${pyFloat(m.eps)}, momentum=${pyFloat(m.momentum)})`;
    case 'LeakyReLU':
      return `nn.LeakyReLU(${pyFloat(m.slope)})`;
    case 'Unflatten':
      return `nn.Unflatten(1, (${m.channels}, ${m.height}, ${m.width}))`;
    default:
      return `nn.${m.type}()`;
  }
}

/**
 * Python that builds the sequence: `name = nn.Sequential(...)`, one module per line with its
 * state-dict index and the layer it comes from, after `header` lines written as comments and
 * `helpers` (Python definitions the comments refer to).
 */
export function pythonSequential(name: string, modules: readonly ExportedModule[], header: readonly string[] = [], helpers: readonly string[] = []): string {
  const lines = ['import torch', 'from torch import nn', '', ...helpers, ...header.map((h) => `# ${h}`), `${name} = nn.Sequential(`];
  modules.forEach(({ module, from }, i) => lines.push(`    ${pythonCall(module)},  # ${i}: ${from}`));
  lines.push(')');
  return lines.join('\n');
}
