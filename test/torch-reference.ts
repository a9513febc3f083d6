// A float64 stand-in for PyTorch, written from torch's documentation and not from this
// project's code, for testing exported files: a safetensors reader, a parser for the
// `nn.Sequential(...)` text an export carries, the state-dict names and shapes each module
// registers (what load_state_dict(strict=True) insists on), and the forward pass in eval mode of
// Linear, Conv2d, ConvTranspose2d, BatchNorm1d/2d, ReLU, LeakyReLU, Sigmoid, Tanh, Flatten and
// Unflatten over NCHW tensors.

/** A row-major tensor. */
export interface Nd {
  shape: number[];
  data: Float64Array;
}

export interface FileTensor {
  dtype: string;
  shape: number[];
  /** F32 values as numbers; I64 values as bigints. */
  values: number[] | bigint[];
}

/** safetensors: u64 header length, JSON header, data; read with DataView, little-endian. */
export function readSafetensorsFile(bytes: Uint8Array): { tensors: Map<string, FileTensor>; metadata: Record<string, string>; offsets: Map<string, number> } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const base = 8 + n;
  const tensors = new Map<string, FileTensor>();
  const offsets = new Map<string, number>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries<any>(header)) {
    if (name === '__metadata__') {
      metadata = entry;
      continue;
    }
    const [begin, end] = entry.data_offsets as [number, number];
    offsets.set(name, begin);
    const count = (entry.shape as number[]).reduce((a, b) => a * b, 1);
    if (entry.dtype === 'F32') {
      if (end - begin !== 4 * count) throw new Error(`${name}: ${end - begin} bytes for ${count} F32`);
      tensors.set(name, { dtype: 'F32', shape: entry.shape, values: Array.from({ length: count }, (_, i) => view.getFloat32(base + begin + 4 * i, true)) });
    } else if (entry.dtype === 'I64') {
      if (end - begin !== 8 * count) throw new Error(`${name}: ${end - begin} bytes for ${count} I64`);
      tensors.set(name, { dtype: 'I64', shape: entry.shape, values: Array.from({ length: count }, (_, i) => view.getBigInt64(base + begin + 8 * i, true)) });
    } else {
      throw new Error(`${name}: unexpected dtype ${entry.dtype}`);
    }
  }
  return { tensors, metadata, offsets };
}

/** One module of the text: its class and its constructor arguments. */
export interface ParsedModule {
  type: string;
  args: (number | number[])[];
  kwargs: Record<string, number | boolean | number[]>;
}

function parseValue(text: string): number | boolean | number[] {
  const t = text.trim();
  if (t === 'True' || t === 'False') return t === 'True';
  if (t.startsWith('(')) return t.slice(1, -1).split(',').filter((s) => s.trim()).map(Number);
  const v = Number(t);
  if (!Number.isFinite(v)) throw new Error(`cannot read the Python value '${t}'`);
  return v;
}

/** Splits on commas outside parentheses. */
function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (text.slice(start).trim()) out.push(text.slice(start));
  return out;
}

/** The modules of `name = nn.Sequential(` ... `)` in Python text, one `nn.X(...)` per line. */
export function parseSequential(python: string, name: string): ParsedModule[] {
  const lines = python.split('\n');
  const first = lines.indexOf(`${name} = nn.Sequential(`);
  if (first < 0) throw new Error(`no '${name} = nn.Sequential(' line`);
  const modules: ParsedModule[] = [];
  for (const line of lines.slice(first + 1)) {
    if (line === ')') return modules;
    const m = /^ {4}nn\.(\w+)\((.*)\),(?: {2}#.*)?$/.exec(line);
    if (!m) throw new Error(`not a module line: ${line}`);
    const args: (number | number[])[] = [];
    const kwargs: ParsedModule['kwargs'] = {};
    for (const part of splitArgs(m[2])) {
      const eq = part.indexOf('=');
      if (eq >= 0) kwargs[part.slice(0, eq).trim()] = parseValue(part.slice(eq + 1));
      else args.push(parseValue(part) as number | number[]);
    }
    modules.push({ type: m[1], args, kwargs });
  }
  throw new Error('the nn.Sequential is not closed');
}

const arg = (m: ParsedModule, i: number, key: string, fallback?: number): number => {
  const v = m.args[i] ?? m.kwargs[key] ?? fallback;
  if (typeof v !== 'number') throw new Error(`${m.type}: no ${key}`);
  return v;
};
const hasBias = (m: ParsedModule) => m.kwargs.bias !== false;

/** The parameters and buffers torch registers for a module, as its documentation lists them. */
export function torchStateShapes(m: ParsedModule): [string, string, number[]][] {
  switch (m.type) {
    case 'Linear': {
      const [i, o] = [arg(m, 0, 'in_features'), arg(m, 1, 'out_features')];
      return [['weight', 'F32', [o, i]], ...(hasBias(m) ? [['bias', 'F32', [o]] as [string, string, number[]]] : [])];
    }
    case 'Conv2d':
    case 'ConvTranspose2d': {
      const [i, o, k] = [arg(m, 0, 'in_channels'), arg(m, 1, 'out_channels'), arg(m, 2, 'kernel_size')];
      const w: number[] = m.type === 'Conv2d' ? [o, i, k, k] : [i, o, k, k];
      return [['weight', 'F32', w], ...(hasBias(m) ? [['bias', 'F32', [o]] as [string, string, number[]]] : [])];
    }
    case 'BatchNorm1d':
    case 'BatchNorm2d': {
      const c = [arg(m, 0, 'num_features')];
      return [['weight', 'F32', c], ['bias', 'F32', c], ['running_mean', 'F32', c], ['running_var', 'F32', c], ['num_batches_tracked', 'I64', []]];
    }
    default:
      return [];
  }
}

/** The state dict an nn.Sequential of these modules expects: `index.name` -> dtype and shape. */
export function expectedStateDict(modules: readonly ParsedModule[]): Map<string, { dtype: string; shape: number[] }> {
  const out = new Map<string, { dtype: string; shape: number[] }>();
  modules.forEach((m, i) => {
    for (const [name, dtype, shape] of torchStateShapes(m)) out.set(`${i}.${name}`, { dtype, shape });
  });
  return out;
}

const f64 = (t: FileTensor | undefined, key: string): Float64Array => {
  if (!t) throw new Error(`state dict lacks ${key}`);
  return Float64Array.from(t.values as number[]);
};

/** y = x W^T + b, x [N, in], W [out, in]. */
function linear(x: Nd, w: Float64Array, b: Float64Array | null, inF: number, outF: number): Nd {
  const [n] = x.shape;
  if (x.shape[1] !== inF) throw new Error(`Linear(${inF}, ${outF}) given ${x.shape}`);
  const y = new Float64Array(n * outF);
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) s += x.data[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = s;
    }
  }
  return { shape: [n, outF], data: y };
}

/**
 * Conv2d: y[n, co, oh, ow] = b[co] + sum x[n, ci, oh s - p + kh, ow s - p + kw] W[co, ci, kh, kw];
 * ConvTranspose2d: x[n, ci, ih, iw] W[ci, co, kh, kw] adds to y[n, co, ih s - p + kh, iw s - p + kw],
 * output size (in - 1) s - 2p + k + output_padding.
 */
function conv(x: Nd, w: Float64Array, b: Float64Array | null, m: ParsedModule, transposed: boolean): Nd {
  const [n, cin, h, wd] = x.shape;
  const [ci0, co, k] = [arg(m, 0, 'in_channels'), arg(m, 1, 'out_channels'), arg(m, 2, 'kernel_size')];
  const [s, p] = [arg(m, 3, 'stride', 1), arg(m, 4, 'padding', 0)];
  if (cin !== ci0) throw new Error(`${m.type}(${ci0}, ...) given ${x.shape}`);
  const op = transposed ? arg(m, 5, 'output_padding', 0) : 0;
  const [oh, ow] = transposed ? [(h - 1) * s - 2 * p + k + op, (wd - 1) * s - 2 * p + k + op] : [Math.floor((h + 2 * p - k) / s) + 1, Math.floor((wd + 2 * p - k) / s) + 1];
  const y = new Float64Array(n * co * oh * ow);
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < co; o++) for (let i = 0; i < oh * ow; i++) y[(r * co + o) * oh * ow + i] = b ? b[o] : 0;
    for (let c = 0; c < cin; c++) {
      for (let o = 0; o < co; o++) {
        for (let kh = 0; kh < k; kh++) {
          for (let kw = 0; kw < k; kw++) {
            const wv = transposed ? w[((c * co + o) * k + kh) * k + kw] : w[((o * cin + c) * k + kh) * k + kw];
            if (transposed) {
              for (let ih = 0; ih < h; ih++) {
                const yh = ih * s - p + kh;
                if (yh < 0 || yh >= oh) continue;
                for (let iw = 0; iw < wd; iw++) {
                  const yw = iw * s - p + kw;
                  if (yw < 0 || yw >= ow) continue;
                  y[((r * co + o) * oh + yh) * ow + yw] += x.data[((r * cin + c) * h + ih) * wd + iw] * wv;
                }
              }
            } else {
              for (let yh = 0; yh < oh; yh++) {
                const ih = yh * s - p + kh;
                if (ih < 0 || ih >= h) continue;
                for (let yw = 0; yw < ow; yw++) {
                  const iw = yw * s - p + kw;
                  if (iw < 0 || iw >= wd) continue;
                  y[((r * co + o) * oh + yh) * ow + yw] += x.data[((r * cin + c) * h + ih) * wd + iw] * wv;
                }
              }
            }
          }
        }
      }
    }
  }
  return { shape: [n, co, oh, ow], data: y };
}

/** Eval-mode batch norm over dimension 1 (features of [N, C], channels of [N, C, H, W]). */
function batchNorm(x: Nd, g: Float64Array, b: Float64Array, mean: Float64Array, variance: Float64Array, eps: number): Nd {
  const c = x.shape[1];
  const inner = x.shape.slice(2).reduce((a, v) => a * v, 1);
  const y = x.data.map((v, i) => {
    const ch = Math.floor(i / inner) % c;
    return ((v - mean[ch]) / Math.sqrt(variance[ch] + eps)) * g[ch] + b[ch];
  });
  return { shape: x.shape, data: y };
}

/** model.eval()(x) for the parsed nn.Sequential with its state dict. */
export function torchForward(modules: readonly ParsedModule[], state: ReadonlyMap<string, FileTensor>, input: Nd): Nd {
  let x = input;
  modules.forEach((m, i) => {
    const p = (name: string) => f64(state.get(`${i}.${name}`), `${i}.${name}`);
    const bias = hasBias(m) && ['Linear', 'Conv2d', 'ConvTranspose2d'].includes(m.type) ? p('bias') : null;
    switch (m.type) {
      case 'Linear':
        x = linear(x, p('weight'), bias, arg(m, 0, 'in_features'), arg(m, 1, 'out_features'));
        break;
      case 'Conv2d':
      case 'ConvTranspose2d':
        x = conv(x, p('weight'), bias, m, m.type === 'ConvTranspose2d');
        break;
      case 'BatchNorm1d':
      case 'BatchNorm2d':
        x = batchNorm(x, p('weight'), p('bias'), p('running_mean'), p('running_var'), (m.kwargs.eps as number | undefined) ?? 1e-5);
        break;
      case 'ReLU':
        x = { shape: x.shape, data: x.data.map((v) => Math.max(v, 0)) };
        break;
      case 'LeakyReLU': {
        const slope = (m.args[0] as number | undefined) ?? (m.kwargs.negative_slope as number | undefined) ?? 0.01;
        x = { shape: x.shape, data: x.data.map((v) => (v >= 0 ? v : slope * v)) };
        break;
      }
      case 'Sigmoid':
        x = { shape: x.shape, data: x.data.map((v) => 1 / (1 + Math.exp(-v))) };
        break;
      case 'Tanh':
        x = { shape: x.shape, data: x.data.map(Math.tanh) };
        break;
      case 'Flatten':
        x = { shape: [x.shape[0], x.shape.slice(1).reduce((a, v) => a * v, 1)], data: x.data };
        break;
      case 'Unflatten': {
        if (m.args[0] !== 1) throw new Error('Unflatten of a dimension other than 1');
        const dims = m.args[1] as number[];
        if (dims.reduce((a, v) => a * v, 1) !== x.shape[1]) throw new Error(`Unflatten to ${dims} given ${x.shape}`);
        x = { shape: [x.shape[0], ...dims], data: x.data };
        break;
      }
      default:
        throw new Error(`no reference for nn.${m.type}`);
    }
  });
  return x;
}

/** An NHWC batch [n, h, w, c] as NCHW. */
export function nhwcToNchw(data: ArrayLike<number>, n: number, [h, w, c]: readonly number[]): Nd {
  const out = new Float64Array(n * h * w * c);
  for (let r = 0; r < n; r++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[((r * c + ch) * h + y) * w + x] = data[((r * h + y) * w + x) * c + ch];
  return { shape: [n, c, h, w], data: out };
}
