// A preset fitted to a user's data set: `--preset` picks the architecture and the objective,
// `--data` the data. Image data sets get the convolutional networks sized to their images (or a
// dense preset's networks widened to their pixels); point data sets a dense preset's networks
// with their dimension. Bytes map to what G's output can produce (tanh: [-1, 1]; sigmoid:
// [0, 1]); points are standardised per column, with the statistics kept in the config so
// samples come back in the data's units.

import type { Dataset } from '../data/dataset.ts';
import { defaultScaling, type DataScaling } from '../data/source.ts';
import { ShapeError } from '../gpu/errors.ts';
import type { Activation } from '../kernels/common.ts';
import type { DenseSpec, LayerSpec } from '../nn/layer.ts';
import { planNetwork } from '../nn/network.ts';
import type { GanConfig } from './config.ts';
import { dcganNetworks, preset } from './presets.ts';

/** The preset a data set gets when none is named: DCGAN for images, ring8's networks for points. */
export function defaultPresetFor(d: Dataset): string {
  return d.shape.length === 3 ? 'dcgan' : 'ring8';
}

/** Presets whose networks are convolutional (rebuilt for the data's image size). */
const CONV_PRESETS = new Set(['dcgan', 'dcgan-fashion']);

export function presetForData(name: string, d: Dataset, path: string, opts: { imageSize?: number; channels?: 1 | 3 } = {}): GanConfig {
  const base = preset(name);
  const what = `preset '${name}' on ${path}`;
  if (base.conditional) throw new ShapeError(`${what}: a conditional GAN needs class labels, which a data file does not give`);
  if (base.schedule.kind === 'epoch' || base.noise.bank) throw new ShapeError(`${what}: preset '${name}' is the MNIST tutorial experiment; pick another preset`);
  const image = d.shape.length === 3;
  const dim = d.shape.reduce((a, b) => a * b, 1);
  let networks: Pick<GanConfig, 'generator' | 'discriminator'>;
  if (CONV_PRESETS.has(name)) {
    if (!image) throw new ShapeError(`${what}: a convolutional preset needs images, and the data are points of ${dim} values`);
    networks = dcganNetworks(d.shape, undefined, base.noise.dim, base.pack);
  } else {
    networks = { generator: resizeOutput(base.generator, dim, what), discriminator: { ...base.discriminator, input: dim * (base.pack ?? 1) } };
    planNetwork('discriminator', networks.discriminator);
  }
  const gOut = planNetwork('generator', networks.generator).running.at(-1)!.plan.activation;
  return {
    ...base,
    description: `${base.description}; fitted to ${path} (${d.count} samples of ${d.shape.join('x')})`,
    data: { kind: 'dataset', path, format: d.format, shape: d.shape, count: d.count, imageSize: opts.imageSize, channels: opts.channels, scaling: scalingFor(d, gOut, what) },
    ...networks,
  };
}

/** A dense network whose last layer now has `units` outputs. */
function resizeOutput(spec: GanConfig['generator'], units: number, what: string): GanConfig['generator'] {
  const layers = [...spec.layers];
  const last = layers.length - 1;
  if (layers[last].kind !== undefined && layers[last].kind !== 'dense') throw new ShapeError(`${what}: the generator's last layer is not dense`);
  layers[last] = { ...(layers[last] as DenseSpec), units } as LayerSpec;
  return { ...spec, layers };
}

function scalingFor(d: Dataset, gOutput: Activation, what: string): DataScaling {
  const bytes = d.values instanceof Uint8Array;
  if (bytes && gOutput === 'tanh') return { kind: 'range', lo: -1, hi: 1 };
  if (bytes && gOutput === 'sigmoid') return { kind: 'range', lo: 0, hi: 1 };
  if (!bytes && gOutput === 'sigmoid') {
    throw new ShapeError(`${what}: the generator's sigmoid output cannot reach standardised values; pick a preset whose generator ends in identity or tanh (e.g. ring8)`);
  }
  return bytes ? { kind: 'range', lo: -1, hi: 1 } : defaultScaling(d);
}
