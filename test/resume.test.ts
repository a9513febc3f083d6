// A checkpoint holds the whole training state: stopping, saving, restoring into a new trainer and
// going on gives the bits of a run that never stopped, including state a network derives from
// its parameters (spectral normalisation's W / sigma).

import { describe, expect, test } from 'vitest';
import type { GanConfig } from '../src/gan/config.ts';
import { continueWith, readCheckpoint, restoreCheckpoint, saveCheckpoint, trainerFromCheckpoint } from '../src/gan/checkpoint.ts';
import { preset } from '../src/gan/presets.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import { useGpu } from './gpu.ts';

const gpu = useGpu();

function hingeWithSpectralNorm(): GanConfig {
  const base = preset('toy-1d');
  const layers = base.discriminator.layers.map((l, i, all) => (i === all.length - 1 ? { ...l, activation: 'identity' as const } : l));
  return { ...base, loss: 'hinge', batch: 32, discriminator: { ...base.discriminator, layers, spectralNorm: true } };
}

describe('resuming from a checkpoint', () => {
  test('hinge loss with a spectrally normalised D: 3 + 3 iterations equal 6', async () => {
    const config = hingeWithSpectralNorm();
    const straight = await GanTrainer.create(gpu.ctx, config);
    await straight.run(6);
    const want = readCheckpoint(await saveCheckpoint(straight));
    straight.destroy();

    const first = await GanTrainer.create(gpu.ctx, config);
    await first.run(3);
    const saved = readCheckpoint(await saveCheckpoint(first));
    first.destroy();
    expect([...saved.tensors.keys()]).toContain('discriminator.0.weight_u');
    const resumed = await trainerFromCheckpoint(gpu.ctx, saved);
    await resumed.run(3);
    const got = readCheckpoint(await saveCheckpoint(resumed));
    for (const [key, t] of want.tensors) expect(Array.from(got.tensors.get(key)!.data), key).toEqual(Array.from(t.data));
    // A trainer restored from the straight run's checkpoint reads the same W / sigma: D agrees.
    const x = Float32Array.from({ length: 64 }, (_, i) => (i - 32) / 8);
    const restored = await GanTrainer.create(gpu.ctx, config);
    await restoreCheckpoint(restored, want);
    expect(Array.from(await restored.discriminate(x))).toEqual(Array.from(await resumed.discriminate(x)));
    restored.destroy();
    resumed.destroy();
  });

  test('continueWith: new learning rates and k carry the whole state on the GPU, as a checkpoint would', async () => {
    const config = preset('toy-1d');
    const changes = { k: 2, optimizerD: { ...config.optimizerD, lr: 1e-3 }, realLabel: 0.9 };
    const a = await GanTrainer.create(gpu.ctx, config);
    await a.run(3);
    const saved = readCheckpoint(await saveCheckpoint(a));
    const live = await continueWith(a, changes);
    await live.run(3);
    const viaCheckpoint = await trainerFromCheckpoint(gpu.ctx, saved, { overrides: changes });
    await viaCheckpoint.run(3);
    const [got, want] = [readCheckpoint(await saveCheckpoint(live)), readCheckpoint(await saveCheckpoint(viaCheckpoint))];
    for (const [key, t] of want.tensors) expect(Array.from(got.tensors.get(key)!.data), key).toEqual(Array.from(t.data));
    expect(got.iteration).toBe(6);
    const wider = { ...config.generator, layers: config.generator.layers.map((l, i) => (i === 0 ? { ...l, units: 48 } : l)) };
    await expect(continueWith(live, { generator: wider })).rejects.toThrow(/does not carry over/);
    live.destroy();
    viaCheckpoint.destroy();
  });
});
