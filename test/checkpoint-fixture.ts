// A checkpoint made without a GPU: the toy-1d preset's tensor names and shapes (Adam state
// included), filled from a seeded generator, for tests of the file format and of the command
// lines' refusals.

import { CHECKPOINT_FORMAT } from '../src/gan/checkpoint.ts';
import { preset } from '../src/gan/presets.ts';
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
