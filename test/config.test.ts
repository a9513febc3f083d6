// Config validation: a bad combination is a ShapeError naming the field before any GPU work.

import { describe, expect, test } from 'vitest';
import { validateConfig, type GanConfig } from '../src/gan/config.ts';
import { ShapeError } from '../src/gpu/errors.ts';
import { dcganNetworks, preset } from '../src/gan/presets.ts';
import { updatesPerIteration } from '../src/gan/schedules.ts';
import { planNetwork, shapeChain } from '../src/nn/network.ts';

function expectInvalid(config: GanConfig, ...fragments: string[]): void {
  let error: unknown;
  try {
    validateConfig(config);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ShapeError);
  for (const f of fragments) expect((error as Error).message).toContain(f);
}

const packed = (pack: number, batch = 64): GanConfig => {
  const c = preset('mnist');
  return { ...c, batch, pack, discriminator: { ...c.discriminator, input: 784 * pack } };
};

describe('reuseFakes', () => {
  test('valid on the alternating schedule, packed or not', () => {
    expect(() => validateConfig({ ...preset('dcgan'), reuseFakes: true })).not.toThrow();
    expect(() => validateConfig({ ...packed(2), reuseFakes: true })).not.toThrow();
  });
  test('a boolean, not with the epoch schedule or a conditional GAN', () => {
    expectInvalid({ ...preset('dcgan'), reuseFakes: 'yes' as unknown as boolean }, 'reuseFakes must be true or false, got "yes"');
    expectInvalid({ ...preset('seed'), reuseFakes: true }, 'reuseFakes: the epoch schedule');
    expectInvalid({ ...preset('cgan'), reuseFakes: true }, 'reuseFakes: a conditional GAN');
  });
});

describe('PacGAN pack', () => {
  test('a packed mnist config is valid, and pack 1 is the plain GAN', () => {
    expect(() => validateConfig(packed(2))).not.toThrow();
    expect(() => validateConfig(packed(1))).not.toThrow();
  });
  test("D's input must be the data dimension times pack", () => {
    expectInvalid({ ...packed(2), discriminator: preset('mnist').discriminator }, 'discriminator input 784 != data dimension 784 x pack 2');
  });
  test('batch must be a multiple of pack; pack a positive integer', () => {
    expectInvalid(packed(3, 64), 'batch 64 must be a multiple of pack 3');
    expectInvalid({ ...packed(1), pack: 0 }, 'pack must be a positive integer, got 0');
    expectInvalid({ ...packed(2), pack: 1.5 }, 'pack must be a positive integer, got 1.5');
  });
  test('not with the epoch schedule or a conditional GAN', () => {
    const seed = preset('seed');
    expectInvalid({ ...seed, pack: 2, discriminator: { ...seed.discriminator, input: 1568 } }, 'pack > 1 uses the alternating schedule');
    const cgan = preset('cgan');
    expectInvalid({ ...cgan, pack: 2, discriminator: { ...cgan.discriminator, input: 1578 } }, 'pack > 1 is for an unconditional GAN');
  });
  test('a packed conv D reads the images stacked along height, never along channels', () => {
    const dcgan = preset('dcgan');
    const stacked = dcganNetworks([28, 28, 1], undefined, 100, 2).discriminator;
    expect(() => validateConfig({ ...dcgan, pack: 2, discriminator: stacked })).not.toThrow();
    // [28, 28, 2] has the same size, but in NHWC it would read neighbouring pixels as channels.
    const channels = dcganNetworks([28, 28, 2]).discriminator;
    expectInvalid({ ...dcgan, pack: 2, discriminator: channels }, 'stacked along height: input [56,28,1] for images of [28,28,1], got [28,28,2]');
  });
});

describe('conditional.mismatch', () => {
  test('must be a boolean', () => {
    const cgan = preset('cgan');
    expectInvalid({ ...cgan, conditional: { ...cgan.conditional!, mismatch: 'yes' as unknown as boolean } }, 'conditional.mismatch must be true or false');
  });
});

describe("an optimizer's weight average", () => {
  test('is a decay in (0, 1), on any kind', () => {
    const c = preset('dcgan');
    for (const average of [0.999, 0.5]) expect(() => validateConfig({ ...c, optimizerG: { ...c.optimizerG, average } })).not.toThrow();
    expect(() => validateConfig({ ...c, optimizerD: { kind: 'sgd', lr: 0.1, momentum: 0.5, l2: 0, average: 0.9 } })).not.toThrow();
    for (const average of [0, 1, -0.5, NaN]) expectInvalid({ ...c, optimizerG: { ...c.optimizerG, average } }, "optimizer of 'generator'", 'average', 'must be in (0, 1)', String(average));
  });
});

describe("an optimizer's learning-rate decay", () => {
  test('is { start, end } in whole steps, end after start, on Adam only', () => {
    const c = preset('dcgan');
    const adam = c.optimizerG as Extract<GanConfig['optimizerG'], { kind: 'adam' }>;
    expect(() => validateConfig({ ...c, optimizerG: { ...adam, lrDecay: { start: 0, end: 4000 } } })).not.toThrow();
    for (const lrDecay of [{ start: 10, end: 10 }, { start: 20, end: 10 }]) {
      expectInvalid({ ...c, optimizerG: { ...adam, lrDecay } }, "optimizer of 'generator'", `lrDecay.end (${lrDecay.end}) must come after lrDecay.start (${lrDecay.start})`);
    }
    for (const lrDecay of [{ start: -1, end: 10 }, { start: 0, end: 2.5 }, { start: 0, end: 2 ** 25 }, { start: 0 }, null]) {
      expectInvalid({ ...c, optimizerD: { ...adam, lrDecay: lrDecay as never } }, "optimizer of 'discriminator'", 'lrDecay must be { start, end } with whole step counts');
    }
    expectInvalid({ ...c, optimizerD: { kind: 'sgd', lr: 0.1, momentum: 0.5, l2: 0, lrDecay: { start: 0, end: 10 } } as never }, "optimizer of 'discriminator'", "lrDecay needs a step count, which kind 'sgd' does not keep");
    expectInvalid({ ...c, optimizerD: { kind: 'rmsprop', lr: 1e-3, alpha: 0.9, eps: 1e-8, lrDecay: { start: 0, end: 10 } } as never }, "optimizer of 'discriminator'", "lrDecay needs a step count, which kind 'rmsprop' does not keep");
  });

  // Past its end a decay leaves the rate at 0: steps that change no weight. Steps are each net's
  // updates, which the schedule decides (k D steps an iteration; the epoch schedule's batches).
  test('must last the run: a net steps past its end only by mistake', () => {
    const c = { ...preset('dcgan'), iterations: 100 };
    const adam = c.optimizerG as Extract<GanConfig['optimizerG'], { kind: 'adam' }>;
    const decay = (end: number) => ({ ...adam, lrDecay: { start: 0, end } });
    expect(() => validateConfig({ ...c, optimizerG: decay(100), optimizerD: decay(100) })).not.toThrow();
    expect(() => validateConfig({ ...c, optimizerG: decay(1000) })).not.toThrow();
    expectInvalid({ ...c, optimizerG: decay(99) }, 'optimizerG.lrDecay brings the rate to 0 at step 99, but 100 iterations are 100 steps of G: the last 1 would change no weight; end the decay at step 100 or train fewer iterations');
    expectInvalid({ ...c, k: 3, optimizerD: decay(200) }, 'optimizerD.lrDecay brings the rate to 0 at step 200, but 100 iterations are 300 steps of D');
    expect(updatesPerIteration({ ...c, k: 3 })).toEqual({ d: 3, g: 1 });
    const seed = preset('seed');
    expect(seed.schedule).toEqual({ kind: 'epoch', epochRows: 1000 });
    expect(updatesPerIteration({ ...seed, k: 2 })).toEqual({ d: 2 * (2 * 1000) / seed.batch, g: 1000 / seed.batch });
  });
});

describe('shapeChain', () => {
  test("names the shapes a network passes through; the dcgan description is made from it", () => {
    const nets = dcganNetworks([28, 28, 1]);
    expect(shapeChain(planNetwork('G', nets.generator))).toBe('100 -> 7x7x64 -> 14x14x32 -> 14x14x32 -> 28x28x1');
    expect(shapeChain(planNetwork('D', nets.discriminator))).toBe('28x28x1 -> 14x14x32 -> 7x7x64 -> 1');
    expect(shapeChain(planNetwork('mlp', preset('mnist').generator))).toBe('100 -> 256 -> 512 -> 784');
    expect(preset('dcgan').description).toContain('G 100 -> 7x7x64 -> 14x14x32 -> 14x14x32 -> 28x28x1');
  });
});

describe('minibatch stddev', () => {
  const withStd = (group?: number): GanConfig => {
    const c = preset('dcgan');
    const layers = [...c.discriminator.layers];
    layers.splice(3, 0, { kind: 'minibatch-stddev', ...(group !== undefined ? { group } : {}) });
    layers[4] = { kind: 'reshape', shape: [7 * 7 * 65] };
    return { ...c, discriminator: { ...c.discriminator, layers } };
  };
  test("in D after its last conv: valid with the default group or one that divides D's rows of one kind", () => {
    expect(() => validateConfig(withStd())).not.toThrow();
    expect(() => validateConfig(withStd(8))).not.toThrow();
  });
  test('a group that does not divide the batch, a generator layer, a bad group or eps: refused, naming the layer', () => {
    expectInvalid({ ...withStd(5) }, 'discriminator layer 4 (minibatch-stddev) compares groups of 5 rows, which do not divide');
    const c = preset('dcgan');
    expectInvalid({ ...c, generator: { ...c.generator, layers: [...c.generator.layers.slice(0, -1), { kind: 'minibatch-stddev' }, { kind: 'conv-transpose2d', filters: 1, kernel: 4, stride: 2, padding: 1, activation: 'tanh' }] } }, 'is a discriminator\'s layer');
    expectInvalid(withStd(0), 'group must be a positive integer, got 0');
    expectInvalid({ ...withStd(), discriminator: { ...withStd().discriminator, layers: withStd().discriminator.layers.map((l) => (l.kind === 'minibatch-stddev' ? { ...l, eps: -1 } : l)) } }, 'eps must be a positive number, got -1');
  });
});
