// What the pictures of training read from a trainer: D's score over points and the gradient of
// G's loss at them (the page's heatmap and arrows), checked against the float64 network twin.

import { expect, test } from 'vitest';
import { preset } from '../src/gan/presets.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import { refBackward, refForward } from '../src/reference/network.ts';
import { useGpu } from './gpu.ts';
import { refNetOf } from './ref-net.ts';

const gpu = useGpu();

test.each([
  ['bce (ring8)', () => preset('ring8')],
  ['hinge with a spectrally normalised D', () => {
    const base = preset('ring8');
    const layers = base.discriminator.layers.map((l, i, all) => (i === all.length - 1 ? { ...l, activation: 'identity' as const } : l));
    return { ...base, loss: 'hinge', discriminator: { ...base.discriminator, layers, spectralNorm: true } };
  }],
])('generatorLossGradient matches the float64 twin: %s', async (_, make) => {
  const trainer = await GanTrainer.create(gpu.ctx, make());
  await trainer.run(20);
  const x = Float32Array.from({ length: 2 * 50 }, (_, i) => Math.sin(i * 1.7) * 1.3);
  const got = await trainer.generatorLossGradient(x);
  const D = await refNetOf(gpu.ctx, trainer.D);
  const loss = trainer.loss.reference;
  const x64 = Float64Array.from(x);
  const out = refForward(D, x64, 50, { logits: loss.logits });
  const want = refBackward(D, x64, 50, out, loss.gGrad(out.at(-1)!)).input;
  // f32 forward and backward through three 128-unit layers: a few hundred roundings per value,
  // relative to the largest gradient entry; a wrong sign or a missing 1/m is off by O(1).
  const scale = Math.max(...want.map(Math.abs));
  want.forEach((w, i) => expect(Math.abs(got.gradient[i] - w), `d/dx[${i}]`).toBeLessThan(1e-4 * scale));
  out.at(-1)!.forEach((w, i) => expect(Math.abs(got.score[i] - w)).toBeLessThan(1e-4 * (1 + Math.abs(w))));
  trainer.destroy();
});
