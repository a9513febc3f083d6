// Float64 twin of shaders/mixture.wgsl.

import { boxMuller, mulHiLo, philox4x32, seedKey, type RandomCoordinates } from './random.ts';

export function sampleMixture(c: RandomCoordinates, rows: number, centers: readonly (readonly [number, number])[], std: number) {
  const values = new Float64Array(rows * 2);
  const modes = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) {
    const w = philox4x32([i, 0, c.stream, c.step], seedKey(c.seed));
    const mode = mulHiLo(w[0], centers.length)[0];
    const { z0, z1 } = boxMuller(w[2], w[3]);
    modes[i] = mode;
    values[2 * i] = centers[mode][0] + std * z0;
    values[2 * i + 1] = centers[mode][1] + std * z1;
  }
  return { values, modes };
}
