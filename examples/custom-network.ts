// A network of your own: a small convolutional GAN with the hinge loss and a spectrally
// normalised D, trained on the example folder of 16x16 RGB shapes. Every field is plain data,
// validated before the GPU opens.
// Run: node --import ./scripts/register.mjs examples/custom-network.ts
import { writeFile } from 'node:fs/promises';
import { encodePng, GanTrainer, loadDataset, openNodeContext, previewSamples, type GanConfig } from '../src/node.ts';

const data = await loadDataset('examples/shapes'); // 300 images, shape [16, 16, 3], kept as bytes
const adam = { kind: 'adam' as const, lr: 2e-4, beta1: 0, beta2: 0.9, eps: 1e-8 };
const config: GanConfig = {
  preset: 'custom',
  description: 'G 32 -> 4x4x32 -> 8x8x16 -> 16x16x3, D with spectral norm, hinge loss',
  data: { kind: 'dataset', path: 'examples/shapes', format: data.format, shape: data.shape, count: data.count, scaling: { kind: 'range', lo: -1, hi: 1 } },
  noise: { dim: 32, distribution: 'normal' },
  generator: {
    input: 32,
    init: 'dcgan',
    layers: [
      { units: 4 * 4 * 32, bias: false },
      { kind: 'batchnorm', activation: 'relu' },
      { kind: 'reshape', shape: [4, 4, 32] }, // NHWC: a view, no dispatch
      { kind: 'conv-transpose2d', filters: 16, kernel: 4, stride: 2, padding: 1, bias: false },
      { kind: 'batchnorm', activation: 'relu' },
      { kind: 'conv-transpose2d', filters: 3, kernel: 4, stride: 2, padding: 1, activation: 'tanh' },
    ],
  },
  discriminator: {
    input: [16, 16, 3],
    init: 'dcgan',
    spectralNorm: true,
    layers: [
      { kind: 'conv2d', filters: 16, kernel: 4, stride: 2, padding: 1, activation: 'leaky_relu' },
      { kind: 'conv2d', filters: 32, kernel: 4, stride: 2, padding: 1, activation: 'leaky_relu' },
      { kind: 'reshape', shape: [4 * 4 * 32] },
      { units: 1 }, // a raw score: the hinge loss needs no sigmoid
    ],
  },
  loss: 'hinge',
  gLoss: 'non-saturating',
  optimizerG: adam,
  optimizerD: adam,
  batch: 32,
  k: 1,
  schedule: { kind: 'alternating' },
  iterations: 200,
  seed: 0,
  logEvery: 50,
};

const ctx = await openNodeContext();
const trainer = await GanTrainer.create(ctx, config, { dataset: data });
await trainer.run(config.iterations, { onMetrics: (m) => console.log(`${m.iteration}: D ${m.dLoss.toFixed(3)} G ${m.gLoss.toFixed(3)} score real ${m.dReal.toFixed(2)} fake ${m.dFake.toFixed(2)}`) });
await writeFile('custom-network.png', encodePng((await previewSamples(trainer)).image));
trainer.destroy();
await ctx.destroy();
