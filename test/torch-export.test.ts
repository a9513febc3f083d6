// The PyTorch export: the file holds exactly the state dict its nn.Sequential text expects, and
// that model, run by a float64 stand-in for torch written from torch's documented layouts
// (test/torch-reference.ts: NCHW, weights [out, in] and [out, in, kh, kw] / [in, out, kh, kw],
// eval-mode batch norm), computes what ours computes: on the host against the float64 twin of
// our network, and on the GPU against the Sampler (npm run sample's generator) and the trainer's
// D, for an MLP preset, the conditional preset and a DCGAN trained a few iterations.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hostRandom } from '../src/checks/check.ts';
import { loadMnist } from '../src/data/mnist-node.ts';
import type { Mnist } from '../src/data/mnist.ts';
import { encodeTorchExport, ExportError, exportForTorch, TORCH_EXPORT_FORMAT, type ExportedNet } from '../src/export/torch-export.ts';
import { readCheckpoint, saveCheckpoint, type CheckpointContents } from '../src/gan/checkpoint.ts';
import { randomCheckpoint, twinForward } from './checkpoint-fixture.ts';
import type { GanConfig } from '../src/gan/config.ts';
import { preset } from '../src/gan/presets.ts';
import { Sampler } from '../src/gan/sampler.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { elements } from '../src/nn/layer.ts';
import { planNetwork } from '../src/nn/network.ts';
import { runCli, tempDir } from './cli-process.ts';
import { openTestContext } from './gpu.ts';
import { expectedStateDict, nhwcToNchw, parseSequential, readSafetensorsFile, torchForward, type Nd } from './torch-reference.ts';

/** The exported file read back as torch would load it: its modules, state dict and metadata. */
function loadExport(bytes: Uint8Array, net: ExportedNet) {
  const file = readSafetensorsFile(bytes);
  expect(file.metadata.format).toBe(TORCH_EXPORT_FORMAT);
  const modules = parseSequential(file.metadata.module, net);
  // load_state_dict(strict=True): every key the modules register, of its shape, and no other.
  const expected = expectedStateDict(modules);
  expect([...file.tensors.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, want] of expected) {
    const got = file.tensors.get(key)!;
    expect({ key, dtype: got.dtype, shape: got.shape }).toEqual({ key, ...want });
    // torch views each tensor of the file in place: its offset must suit its element size.
    expect(file.offsets.get(key)! % (got.dtype === 'I64' ? 8 : 4)).toBe(0);
  }
  return { modules, state: file.tensors, metadata: file.metadata, forward: (x: Nd) => torchForward(modules, file.tensors, x) };
}

/** The torch model's input for our input rows [n, features or h*w*c (NHWC)]. */
function torchInput(x: ArrayLike<number>, n: number, shape: readonly number[]): Nd {
  return shape.length === 3 ? nhwcToNchw(x, n, shape) : { shape: [n, shape[0]], data: Float64Array.from(x) };
}

/** The torch model's output [n, ...] as our rows (NCHW images back to NHWC). */
function ourLayout(y: Nd): Float64Array {
  if (y.shape.length !== 4) return y.data;
  const [n, c, h, w] = y.shape;
  const out = new Float64Array(y.data.length);
  for (let r = 0; r < n; r++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[(r * h * w + p) * c + ch] = y.data[(r * c + ch) * h * w + p];
  return out;
}

/** max |a - b| / (abs + rel |b|): at most 1 passes. */
function worst(a: ArrayLike<number>, b: ArrayLike<number>, abs: number, rel: number): { ratio: number; maxAbs: number } {
  expect(a.length).toBe(b.length);
  let ratio = 0;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    maxAbs = Math.max(maxAbs, d);
    ratio = Math.max(ratio, d / (abs + rel * Math.abs(b[i])));
  }
  return { ratio, maxAbs };
}

/** Standard normal rows from a seeded generator (Box-Muller), as f32. */
function normalRows(n: number, seed: number): Float32Array {
  const next = hostRandom(seed);
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()));
}

// --- On the host: checkpoints of random weights against our float64 twin ----------------------

function hostCase(config: GanConfig, net: ExportedNet, seed: number, tolerance: { abs: number; rel: number }) {
  const ckpt = randomCheckpoint(config, seed);
  const torch = loadExport(encodeTorchExport(exportForTorch(ckpt, net), ckpt), net);
  const spec = config[net];
  const plan = planNetwork(net, spec);
  const rows = 3;
  const x = Float64Array.from({ length: rows * elements(plan.input) }, hostRandom(seed + 1)).map((v) => 2 * v - 1);
  const ours = twinForward(ckpt, net, x, rows);
  const theirs = ourLayout(torch.forward(torchInput(x, rows, plan.input)));
  const w = worst(theirs, ours, tolerance.abs, tolerance.rel);
  console.log(`${config.preset}${spec.spectralNorm ? ' (spectral norm)' : ''} ${net}: max |torch - ours| ${w.maxAbs.toExponential(2)} over ${ours.length} outputs`);
  expect(w.ratio).toBeLessThanOrEqual(1);
  return torch;
}

describe('torch export on the host', () => {
  // The export moves the checkpoint's f32 values without changing them, so both forwards
  // multiply the same numbers and differ only in float64 summation order (~1e-15 of the sums);
  // a misplaced index moves outputs by O(0.1).
  const exact = { abs: 1e-12, rel: 1e-12 };
  // With spectral normalisation the export rounds W / sigma to f32 (6e-8 relative per weight)
  // where our twin keeps it in float64; through 3-4 layers of 100-3136 terms that stays below
  // 1e-6 of the outputs' scale (measured 4e-8).
  const rounded = { abs: 1e-6, rel: 1e-6 };

  test('dcgan generator: Linear, BatchNorm1d, Unflatten, ConvTranspose2d, Conv2d, BatchNorm2d; its state dict as torch names it', () => {
    const torch = hostCase(preset('dcgan'), 'generator', 1, exact);
    expect(torch.modules.map((m) => m.type)).toEqual(['Linear', 'BatchNorm1d', 'ReLU', 'Unflatten', 'ConvTranspose2d', 'BatchNorm2d', 'ReLU', 'Conv2d', 'BatchNorm2d', 'ReLU', 'ConvTranspose2d', 'Tanh']);
    // Iteration 7 of the alternating schedule with k = 1: G ran in training mode twice per iteration.
    expect(torch.state.get('1.num_batches_tracked')).toEqual({ dtype: 'I64', shape: [], values: [14n] });
    expect(torch.metadata.output).toContain('[n, 1, 28, 28] (NCHW)');
  });

  test('dcgan discriminator: Conv2d, BatchNorm2d, Flatten before a Linear whose columns follow NCHW', () => {
    const torch = hostCase(preset('dcgan'), 'discriminator', 2, exact);
    const types = ['Conv2d', 'LeakyReLU', 'Conv2d', 'BatchNorm2d', 'LeakyReLU', 'Flatten', 'Linear', 'Sigmoid'];
    expect(torch.modules.map((m) => m.type)).toEqual(types);
    // A dense layer reading the image directly (no reshape) gets the same Flatten.
    const config = preset('dcgan');
    config.discriminator = { ...config.discriminator, layers: config.discriminator.layers.filter((l) => l.kind !== 'reshape') };
    expect(hostCase(config, 'discriminator', 3, exact).modules.map((m) => m.type)).toEqual(types);
  });

  test('spectral normalisation is exported as W / sigma, and says so', () => {
    const config = preset('dcgan');
    for (const net of ['generator', 'discriminator'] as const) {
      config[net] = { ...config[net], spectralNorm: true };
      const torch = hostCase(config, net, 3, rounded);
      expect(torch.metadata.notes).toContain('W / sigma');
    }
  });

  test('MLP and conditional presets: Linear layers with their activations; the label columns are described', () => {
    hostCase(preset('mnist'), 'generator', 4, exact);
    const torch = hostCase(preset('cgan'), 'generator', 5, exact);
    expect(torch.metadata.input).toContain('one_hot(labels, 10)');
    expect(torch.metadata.notes).toContain('conditional generator');
    hostCase(preset('cgan'), 'discriminator', 6, exact);
  });

  test('a channel-major run between a dense layer with 3 channels per pixel and a conv', () => {
    // 3 channels per pixel, odd sizes, a conv2d after the unflatten and flat batch norm between.
    const config = preset('dcgan');
    config.generator = {
      input: 5,
      init: 'dcgan',
      layers: [
        { units: 3 * 5 * 3 },
        { kind: 'batchnorm', activation: 'leaky_relu' },
        { kind: 'reshape', shape: [3, 5, 3] },
        { kind: 'conv2d', filters: 2, kernel: 3, padding: 1, activation: 'sigmoid' },
        { kind: 'reshape', shape: [30] },
        { units: 4 },
      ],
    };
    const torch = hostCase(config, 'generator', 7, exact);
    expect(torch.modules.map((m) => m.type)).toEqual(['Linear', 'BatchNorm1d', 'LeakyReLU', 'Unflatten', 'Conv2d', 'Sigmoid', 'Flatten', 'Linear']);
  });

  test('what torch modules cannot reproduce is refused, saying why', () => {
    const config = preset('dcgan');
    config.generator = { input: 12, init: 'dcgan', layers: [{ units: 12 }, { kind: 'reshape', shape: [2, 2, 3] }, { kind: 'reshape', shape: [3, 2, 2] }] };
    expect(() => exportForTorch(randomCheckpoint(config, 8))).toThrow(ExportError);
    expect(() => exportForTorch(randomCheckpoint(config, 8))).toThrow(/reshape between images/);
    // An image flattened straight into the output: torch's Flatten gives channel-major order.
    config.generator = { input: 12, init: 'dcgan', layers: [{ units: 12 }, { kind: 'reshape', shape: [2, 2, 3] }, { kind: 'conv2d', filters: 3, kernel: 1 }, { kind: 'reshape', shape: [12] }] };
    expect(() => exportForTorch(randomCheckpoint(config, 9))).toThrow(/reach the network's output in our NHWC order/);
    // The input read as an image of 3 channels: torch's Unflatten would read z in another order.
    config.generator = { input: 12, init: 'dcgan', layers: [{ kind: 'reshape', shape: [2, 2, 3] }, { kind: 'conv2d', filters: 1, kernel: 1 }] };
    expect(() => exportForTorch(randomCheckpoint(config, 10))).toThrow(/from the network's input reach generator.0 \(reshape to 2x2x3\)/);
  });
});

describe('npm run export refuses bad flags before writing anything', () => {
  test('each bad flag exits 2 naming it; a missing checkpoint exits 1 saying so', async () => {
    const dir = tempDir('gan-export-flags-');
    const src = join(dir, 'checkpoint.safetensors');
    const ckpt = randomCheckpoint(preset('mnist'), 12);
    writeFileSync(src, encodeTorchExport(exportForTorch(ckpt), ckpt));
    const cases: [string[], number, string][] = [
      [['--format', 'onnx'], 2, "--format must be one of torch, got 'onnx'"],
      [['--out', join(dir, 'G.npy')], 2, '--out must name a .safetensors file'],
      [['--net', 'critic'], 2, "--net must be one of generator, discriminator, got 'critic'"],
      [['--weights', 'ema'], 2, "--weights must be average or trained, got 'ema'"],
      // An exported file is not a checkpoint: it is refused as one.
      [['--out', join(dir, 'G.safetensors')], 1, `not a webgpu-gan checkpoint (format '${TORCH_EXPORT_FORMAT}'`],
    ];
    for (const [flags, code, message] of cases) {
      const r = await runCli('export', ['--checkpoint', src, ...flags]);
      expect({ flags, code: r.code }).toEqual({ flags, code });
      expect(r.stderr).toContain(message);
    }
    const missing = await runCli('export', ['--checkpoint', join(dir, 'none.safetensors')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file');
  }, 60_000);
});

// --- On the GPU: trained checkpoints against the Sampler and the trainer ----------------------

let ctx: GpuContext;
let mnist: Mnist;
beforeAll(async () => {
  ctx = await openTestContext();
  mnist = await loadMnist();
});
afterAll(async () => {
  await ctx?.destroy();
});

/** A checkpoint of `config` after `iterations` iterations, and the trainer (to be destroyed). */
async function trained(config: GanConfig, iterations: number): Promise<{ ckpt: CheckpointContents; bytes: Uint8Array; trainer: GanTrainer }> {
  const trainer = await GanTrainer.create(ctx, { ...config, iterations, logEvery: iterations }, { mnist });
  await trainer.run(iterations);
  const bytes = await saveCheckpoint(trainer);
  return { ckpt: readCheckpoint(bytes, config.preset), bytes, trainer };
}

// The GPU computes in f32 and the stand-in in float64 from the same f32 weights: the gap is the
// GPU's rounding through 3-4 layers (f32 sums of 100-3136 terms), measured 1.2e-7 at most on
// lavapipe; the bound leaves 100x for other adapters' summation orders. The outputs are
// bounded by sigmoid or tanh, and a wrong layout is O(0.1) off.
const GPU = { abs: 1e-5, rel: 1e-5 };

describe('torch export of trained checkpoints matches the sampler', () => {
  test('mnist (MLP) generator, 2 iterations', async () => {
    const { ckpt, trainer } = await trained(preset('mnist'), 2);
    trainer.destroy();
    const torch = loadExport(encodeTorchExport(exportForTorch(ckpt), ckpt), 'generator');
    const sampler = new Sampler(ctx, ckpt);
    const n = 5;
    const z = normalRows(n * 100, 11);
    const ours = await sampler.generate(z);
    sampler.destroy();
    const w = worst(ourLayout(torch.forward(torchInput(z, n, [100]))), ours, GPU.abs, GPU.rel);
    console.log(`mnist generator on the GPU: max |torch - sampler| ${w.maxAbs.toExponential(2)}`);
    expect(w.ratio).toBeLessThanOrEqual(1);
  }, 120_000);

  test('cgan generator: the one-hot label columns appended to z, as the metadata says', async () => {
    const config = preset('cgan');
    const { ckpt, trainer } = await trained(config, 1);
    trainer.destroy();
    const torch = loadExport(encodeTorchExport(exportForTorch(ckpt), ckpt), 'generator');
    const sampler = new Sampler(ctx, ckpt);
    const n = 4;
    const labels = [3, 0, 9, 7];
    const z = normalRows(n * 100, 12);
    const ours = await sampler.generate(z, labels);
    sampler.destroy();
    // torch.cat([z, 4 * one_hot(labels, 10)], dim=1)
    const input = new Float64Array(n * 110);
    for (let r = 0; r < n; r++) {
      input.set(z.subarray(r * 100, (r + 1) * 100), r * 110);
      input[r * 110 + 100 + labels[r]] = config.conditional!.labelScale!;
    }
    const w = worst(ourLayout(torch.forward({ shape: [n, 110], data: input })), ours, GPU.abs, GPU.rel);
    console.log(`cgan generator on the GPU: max |torch - sampler| ${w.maxAbs.toExponential(2)}`);
    expect(w.ratio).toBeLessThanOrEqual(1);
  }, 120_000);

  test('dcgan (batch 16, 3 iterations) through npm run export: G against the sampler, D against the trainer', async () => {
    const { ckpt, bytes, trainer } = await trained({ ...preset('dcgan'), batch: 16 }, 3);
    try {
      // Batch norm's running statistics have moved away from 0 and 1.
      const rv = ckpt.tensors.get('generator.4.running_var')!.data;
      expect(Math.max(...Array.from(rv, (v) => Math.abs(v - 1)))).toBeGreaterThan(0.05);
      const dir = tempDir('gan-export-');
      const [src, gOut, dOut] = ['checkpoint.safetensors', 'G.safetensors', 'D.safetensors'].map((f) => join(dir, f));
      writeFileSync(src, bytes);
      const g = await runCli('export', ['--checkpoint', src, '--format', 'torch', '--out', gOut]);
      expect(g.code, g.stderr).toBe(0);
      expect(g.stdout).toContain('generator = nn.Sequential(');
      expect(g.stdout).toContain('nn.Unflatten(1, (64, 7, 7))');
      const d = await runCli('export', ['--checkpoint', src, '--net', 'discriminator', '--out', dOut]);
      expect(d.code, d.stderr).toBe(0);

      const G = loadExport(readFileSync(gOut), 'generator');
      expect(G.metadata.module).toBe(g.stdout.slice(0, G.metadata.module.length));
      const sampler = new Sampler(ctx, ckpt);
      const n = 3;
      const z = normalRows(n * 100, 13);
      const images = await sampler.generate(z);
      sampler.destroy();
      const torchImages = torch4(G.forward(torchInput(z, n, [100])));
      expect(torchImages.shape).toEqual([n, 1, 28, 28]);
      const wg = worst(ourLayout(torchImages), images, GPU.abs, GPU.rel);

      const D = loadExport(readFileSync(dOut), 'discriminator');
      const scores = await trainer.discriminate(images);
      const wd = worst(D.forward(nhwcToNchw(images, n, [28, 28, 1])).data, scores, GPU.abs, GPU.rel);
      console.log(`dcgan on the GPU: max |torch - ours| G ${wg.maxAbs.toExponential(2)}, D ${wd.maxAbs.toExponential(2)}`);
      expect(wg.ratio).toBeLessThanOrEqual(1);
      expect(wd.ratio).toBeLessThanOrEqual(1);
    } finally {
      trainer.destroy();
    }
  }, 300_000);

  // G's weight average is read by default by the sampler and the export alike, with the running
  // statistics saveCheckpoint made for it (the trained weights' would not fit it); the trained
  // weights on request. The two generators differ far beyond the bounds, so neither comparison
  // could pass for the other.
  test('dcgan with G\'s weight average (0.9; batch 16, 3 iterations): sampler and export read the average and its statistics', async () => {
    const base = preset('dcgan');
    const config: GanConfig = { ...base, batch: 16, optimizerG: { ...base.optimizerG, average: 0.9 } };
    const { ckpt, trainer } = await trained(config, 3);
    trainer.destroy();
    const keys = [...ckpt.tensors.keys()];
    const gKeys = keys.filter((k) => k.startsWith('generator.') && !k.endsWith('.adam_m') && !k.endsWith('.adam_v') && !k.endsWith('.average') && k !== 'generator.optimizer_step');
    for (const k of gKeys) expect(keys, k).toContain(`${k}.average`);
    const [trainedVar, averageVar] = ['generator.4.running_var', 'generator.4.running_var.average'].map((k) => ckpt.tensors.get(k)!.data);
    expect(Math.max(...Array.from(trainedVar, (v, i) => Math.abs(v - averageVar[i])))).toBeGreaterThan(1e-3);

    const n = 3;
    const z = normalRows(n * 100, 14);
    const run = async (weights: 'average' | 'trained' | undefined) => {
      const sampler = new Sampler(ctx, ckpt, { weights });
      const torch = loadExport(encodeTorchExport(exportForTorch(ckpt, 'generator', weights), ckpt), 'generator');
      try {
        const ours = await sampler.generate(z);
        return { weights: sampler.weights, passes: sampler.standingPasses, ours, theirs: ourLayout(torch.forward(torchInput(z, n, [100]))) };
      } finally {
        sampler.destroy();
      }
    };
    const [average, trainedWeights] = [await run(undefined), await run('trained')];
    expect([average.weights, average.passes, trainedWeights.weights]).toEqual(['average', 0, 'trained']);
    const wa = worst(average.theirs, average.ours, GPU.abs, GPU.rel);
    const wt = worst(trainedWeights.theirs, trainedWeights.ours, GPU.abs, GPU.rel);
    console.log(`dcgan, weight average: max |torch - sampler| ${wa.maxAbs.toExponential(2)} (average), ${wt.maxAbs.toExponential(2)} (trained)`);
    expect(wa.ratio).toBeLessThanOrEqual(1);
    expect(wt.ratio).toBeLessThanOrEqual(1);
    expect(worst(average.ours, trainedWeights.ours, GPU.abs, GPU.rel).ratio).toBeGreaterThan(100);

    // The saved statistics are the sampler's own standing passes, bit for bit: without them it
    // makes the same ones.
    const bare = { ...ckpt, tensors: new Map([...ckpt.tensors].filter(([k]) => !(k.endsWith('.average') && k.includes('running_')))) };
    const remade = new Sampler(ctx, bare);
    try {
      expect(remade.standingPasses).toBe(16);
      expect(await remade.generate(z)).toEqual(average.ours);
    } finally {
      remade.destroy();
    }
    // A checkpoint without an average refuses to sample or export one.
    const plain = { ...ckpt, config: { ...ckpt.config, optimizerG: base.optimizerG } };
    expect(() => new Sampler(ctx, plain, { weights: 'average' })).toThrow(/keeps no average of G's weights/);
    expect(() => exportForTorch(plain, 'generator', 'average')).toThrow(/keeps no average of G's weights/);
    expect(() => exportForTorch(ckpt, 'discriminator', 'average')).toThrow(/only the generator/);
  }, 300_000);
});

function torch4(y: Nd): Nd {
  expect(y.shape.length).toBe(4);
  return y;
}
