// Checkpoints made without a GPU: the toy-1d preset's tensor names and shapes (Adam state
// included), filled from a seeded generator, for tests of the file format and of the command
// lines' refusals; and any config's networks with random weights (no optimizer state).

import { hostRandom } from '../src/checks/check.ts';
import { CHECKPOINT_FORMAT, type CheckpointContents } from '../src/gan/checkpoint.ts';
import type { GanConfig } from '../src/gan/config.ts';
import { preset } from '../src/gan/presets.ts';
import { encodeSafetensors, type SafeTensor } from '../src/io/safetensors.ts';
import { elements } from '../src/nn/layer.ts';
import { planNetwork, type NetworkSpec } from '../src/nn/network.ts';
import { refForward, type RefNet } from '../src/reference/network.ts';

/** xorshift32: a small seeded generator, so every use is reproducible from its seed. */
export function randomSource(seed: number) {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] };
}

/** The toy-1d preset's networks, layer widths from input to output (its Figure 1 MLPs). */
const TOY_WIDTHS = { generator: [1, 32, 32, 1], discriminator: [1, 128, 128, 1] } as const;

/**
 * A valid checkpoint of the toy-1d preset (Adam) at iteration 1234, weights in [-0.5, 0.5).
 * The shapes are written out here rather than read from the config, so the fixture does not
 * follow the config's network format.
 */
export function syntheticCheckpoint(): Uint8Array {
  const config = preset('toy-1d');
  const rnd = randomSource(1);
  const tensors = new Map<string, SafeTensor>();
  const floats = (shape: number[], positive = false) => {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (positive ? rnd.next() * 1e-3 : rnd.next() - 0.5));
    return { dtype: 'F32' as const, shape, data };
  };
  for (const [net, widths] of Object.entries(TOY_WIDTHS)) {
    for (let l = 0; l + 1 < widths.length; l++) {
      const w = [widths[l], widths[l + 1]];
      const b = [widths[l + 1]];
      tensors.set(`${net}.${l}.weight`, floats(w));
      tensors.set(`${net}.${l}.bias`, floats(b));
      tensors.set(`${net}.${l}.weight.adam_m`, floats(w));
      tensors.set(`${net}.${l}.bias.adam_m`, floats(b));
      tensors.set(`${net}.${l}.weight.adam_v`, floats(w, true));
      tensors.set(`${net}.${l}.bias.adam_v`, floats(b, true));
    }
    tensors.set(`${net}.optimizer_step`, { dtype: 'U32', shape: [1], data: Uint32Array.of(1234) });
  }
  tensors.set('clock', { dtype: 'U32', shape: [1], data: Uint32Array.of(1234) });
  return encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, config: JSON.stringify(config), iteration: '1234', adapter: 'test' });
}

/**
 * A checkpoint of `config` without training: every parameter uniform in [-0.5, 0.5), running
 * means in [-0.5, 0.5) and variances in [0.2, 2.2) (far from the initial 0 and 1), sigma in
 * [1, 3) where spectrally normalised.
 */
export function randomCheckpoint(config: GanConfig, seed: number): CheckpointContents {
  const next = hostRandom(seed);
  const tensors = new Map<string, SafeTensor>();
  const put = (name: string, shape: readonly number[], lo: number, hi: number) =>
    tensors.set(name, { dtype: 'F32', shape: [...shape], data: Float32Array.from({ length: elements(shape) }, () => lo + (hi - lo) * next()) });
  for (const [net, spec] of [['generator', config.generator], ['discriminator', config.discriminator]] as const) {
    for (const l of planNetwork(net, spec).running) {
      for (const p of l.plan.params) {
        put(`${net}.${l.index}.${p.name}`, p.shape, -0.5, 0.5);
        if (spec.spectralNorm && p.name === 'weight') put(`${net}.${l.index}.weight_sigma`, [1], 1, 3);
      }
      for (const b of l.plan.buffers) put(`${net}.${l.index}.${b.name}`, b.shape, b.name === 'running_var' ? 0.2 : -0.5, b.name === 'running_var' ? 2.2 : 0.5);
    }
  }
  return { config, iteration: 7, tensors, metadata: {}, source: 'random checkpoint' };
}

/** Our float64 twin of `net` over the checkpoint's tensors: batch norm on its running statistics, or with `training` on the rows' own. */
export function twinForward(ckpt: CheckpointContents, net: 'generator' | 'discriminator', x: Float64Array, rows: number, training = false): Float64Array {
  const spec: NetworkSpec = ckpt.config[net];
  const params = new Map<string, Float64Array>();
  const buffers = new Map<string, Float64Array>();
  const plan = planNetwork(net, spec);
  for (const [name, t] of ckpt.tensors) {
    if (!name.startsWith(`${net}.`)) continue;
    const key = name.slice(net.length + 1);
    const [index, what] = [Number(key.split('.')[0]), key.slice(key.indexOf('.') + 1)];
    const isParam = plan.layers[index].plan.params.some((p) => p.name === what);
    (isParam ? params : buffers).set(key, Float64Array.from(t.data));
  }
  const outputs = refForward({ plan, leak: spec.leak ?? 0.2, params, buffers } satisfies RefNet, x, rows, { training });
  return outputs[outputs.length - 1];
}
