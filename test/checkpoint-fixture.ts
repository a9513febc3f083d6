// Checkpoints made without a GPU: a preset's tensor names and shapes (Adam state included),
// filled from a seeded generator, for tests of the file format and of the command lines'
// refusals.

import { CHECKPOINT_FORMAT } from '../src/gan/checkpoint.ts';
import { preset, type PresetName } from '../src/gan/presets.ts';
import { encodeSafetensors, type SafeTensor } from '../src/io/safetensors.ts';

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

/** A valid checkpoint of an Adam-trained preset at iteration 1234, weights in [-0.5, 0.5). */
export function syntheticCheckpoint(name: PresetName): Uint8Array {
  const config = preset(name);
  const rnd = randomSource(1);
  const tensors = new Map<string, SafeTensor>();
  const floats = (shape: number[], positive = false) => {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (positive ? rnd.next() * 1e-3 : rnd.next() - 0.5));
    return { dtype: 'F32' as const, shape, data };
  };
  for (const [net, spec] of [['generator', config.generator], ['discriminator', config.discriminator]] as const) {
    let input = spec.input;
    spec.layers.forEach((layer, l) => {
      const w = [input, layer.units];
      tensors.set(`${net}.${l}.weight`, floats(w));
      tensors.set(`${net}.${l}.bias`, floats([layer.units]));
      tensors.set(`${net}.${l}.weight.adam_m`, floats(w));
      tensors.set(`${net}.${l}.bias.adam_m`, floats([layer.units]));
      tensors.set(`${net}.${l}.weight.adam_v`, floats(w, true));
      tensors.set(`${net}.${l}.bias.adam_v`, floats([layer.units], true));
      input = layer.units;
    });
    tensors.set(`${net}.optimizer_step`, { dtype: 'U32', shape: [1], data: Uint32Array.of(1234) });
  }
  tensors.set('clock', { dtype: 'U32', shape: [1], data: Uint32Array.of(1234) });
  return encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, config: JSON.stringify(config), iteration: '1234', adapter: 'test' });
}
