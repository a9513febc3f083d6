// The page's modules that run without a browser, in Node on the machine's adapter: the phase
// runner against trainer.run, the plane's points and units, the heatmap's colour scale, the
// Fréchet distance of the worker against the engine's, the latent walk's inputs, the charts'
// history in checkpoints, and the own-data config.

import { describe, expect, test } from 'vitest';
import { datasetFromCsv, type Dataset } from '../src/data/dataset.ts';
import { toDataUnits } from '../src/data/source.ts';
import { featureStats, frechetDistance } from '../src/eval/frechet.ts';
import { readCheckpoint, saveCheckpoint, trainerFromCheckpoint } from '../src/gan/checkpoint.ts';
import type { GanConfig } from '../src/gan/config.ts';
import { presetForData } from '../src/gan/fit-data.ts';
import { preset } from '../src/gan/presets.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import { ownDataConfig, seededRandom, normalFrom } from '../src/browser/drawing.ts';
import { frechetFromReal, realSide } from '../src/browser/frechet.ts';
import { decodeHistory, HISTORY_KEY, POINTS_KEY, pointsCsv, withPageMetadata, type PageHistory } from '../src/browser/history.ts';
import { interpolate, walkInputs, withLabel, WALK_FRAMES } from '../src/browser/latent-walk.ts';
import { runPhase } from '../src/browser/phases.ts';
import { computePlaneViews, heatmapPoints, HEATMAP_SIZE, isPlaneConfig, noiseGrid, planeFrame, PLANE_SAMPLES, toModelUnits } from '../src/browser/plane.ts';
import { arrowScale, heatColor, heatScale, valueOfColor } from '../src/browser/plane-render.ts';
import { download } from '../src/tensor/tensor.ts';
import { useGpu } from './gpu.ts';

const gpu = useGpu();

async function state(trainer: GanTrainer): Promise<Map<string, number[]>> {
  const ckpt = readCheckpoint(await saveCheckpoint(trainer));
  return new Map([...ckpt.tensors].map(([k, t]) => [k, Array.from(t.data)]));
}

function points(n: number, seed: number, centres: [number, number][]): Dataset {
  const random = seededRandom(seed);
  const values = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = centres[i % centres.length];
    values[2 * i] = cx + 0.05 * normalFrom(random);
    values[2 * i + 1] = cy + 0.05 * normalFrom(random);
  }
  return { source: 'drawing', format: 'csv', shape: [2], count: n, values };
}

/**
 * On a data set (G's noise rides with D's real rows): a second iteration run as D's phase then
 * G's leaves the state of run(2), bit for bit. Returns the trainer stepped by phases.
 */
async function phasesMatchRun(change: Partial<GanConfig>): Promise<GanTrainer> {
  const data = points(400, 5, [[1, 1], [-1, -1]]);
  const config = { ...presetForData('grid25', data, 'drawing'), batch: 64, ...change };
  const whole = await GanTrainer.create(gpu.ctx, config, { dataset: data });
  await whole.run(2);
  const want = await state(whole);
  whole.destroy();
  const halves = await GanTrainer.create(gpu.ctx, config, { dataset: data });
  await halves.run(1);
  await runPhase(halves, 'd');
  await runPhase(halves, 'g', { keepSums: true });
  const got = await state(halves);
  for (const [key, values] of want) expect(got.get(key), key).toEqual(values);
  return halves;
}

describe('phases', () => {
  test("D's phase then G's is one iteration of run(), bit for bit; each phase alone leaves the other net alone", async () => {
    const config = { ...preset('ring8'), batch: 64 };
    const whole = await GanTrainer.create(gpu.ctx, config);
    await whole.run(2);
    const want = await state(whole);
    whole.destroy();

    const halves = await GanTrainer.create(gpu.ctx, config);
    await halves.run(1);
    const d = await runPhase(halves, 'd');
    expect(d.iteration).toBe(1);
    expect(Number.isFinite(d.dLoss) && Number.isNaN(d.gLoss)).toBe(true);
    const g = await runPhase(halves, 'g', { keepSums: true });
    expect(g.iteration).toBe(2);
    expect(Number.isFinite(g.dLoss) && Number.isFinite(g.gLoss)).toBe(true);
    const got = await state(halves);
    for (const [key, values] of want) expect(got.get(key), key).toEqual(values);

    // Step D only: D moves, G and its optimizer stay, the clock ticks.
    const before = await state(halves);
    await runPhase(halves, 'd+tick');
    const afterD = await state(halves);
    expect(halves.iteration).toBe(3);
    expect(afterD.get('clock')![0]).toBe(3);
    for (const [key, values] of before) {
      if (key.startsWith('generator.')) expect(afterD.get(key), key).toEqual(values);
    }
    expect(afterD.get('discriminator.0.weight')).not.toEqual(before.get('discriminator.0.weight'));
    // Step G only: the other way round.
    await runPhase(halves, 'g');
    const afterG = await state(halves);
    for (const [key, values] of afterD) {
      if (key.startsWith('discriminator.')) expect(afterG.get(key), key).toEqual(values);
    }
    expect(afterG.get('generator.0.weight')).not.toEqual(afterD.get('generator.0.weight'));
    halves.destroy();
  });

  test("on a data set, where G's noise rides with D's real rows: the phases are still one iteration, and G alone draws fresh noise", async () => {
    const halves = await phasesMatchRun({});
    expect(halves.phases.gAlone.length).toBe(halves.phases.g.length + 1);
    // Step G only, twice: each iteration's G trains on its own noise.
    const z = halves.draws.get('G.z')!;
    await runPhase(halves, 'g');
    const first = await download(gpu.ctx, z);
    await runPhase(halves, 'g');
    expect(await download(gpu.ctx, z)).not.toEqual(first);
    halves.destroy();
  });

  test("G reusing D's fakes (reuseFakes): the phases are one iteration; stepped alone, G makes its fakes itself", async () => {
    const halves = await phasesMatchRun({ reuseFakes: true });
    // Alone, G redraws the last D update's noise and runs G on it before its step.
    const before = await state(halves);
    await runPhase(halves, 'g');
    const after = await state(halves);
    for (const [key, values] of before) if (key.startsWith('discriminator.')) expect(after.get(key), key).toEqual(values);
    expect(after.get('generator.0.weight')).not.toEqual(before.get('generator.0.weight'));
    expect(after.get('generator.0.weight')!.every(Number.isFinite)).toBe(true);
    halves.destroy();
  });
});

describe('the plane', () => {
  test('the heatmap grid covers the frame row by row from the top; units round-trip through the model', async () => {
    const ring = preset('ring8');
    expect(isPlaneConfig(ring)).toBe(true);
    expect(isPlaneConfig(preset('mnist'))).toBe(false);
    const frame = planeFrame(ring, null);
    expect(frame.half).toBeCloseTo(1.5);
    const grid = heatmapPoints(frame);
    const cell = 3 / HEATMAP_SIZE;
    expect([grid[0], grid[1]]).toEqual([Math.fround(-1.5 + cell / 2), Math.fround(1.5 - cell / 2)]);
    expect(grid[2 * (HEATMAP_SIZE * HEATMAP_SIZE - 1)]).toBeCloseTo(1.5 - cell / 2, 6);
    expect(grid[2 * (HEATMAP_SIZE * HEATMAP_SIZE - 1) + 1]).toBeCloseTo(-1.5 + cell / 2, 6);

    const data = points(400, 3, [[10, -4], [12, -1]]);
    const config = presetForData('grid25', data, 'drawing');
    const f = planeFrame(config, data.values as Float32Array);
    const model = toModelUnits(f, data.values as Float32Array);
    const back = toDataUnits(config.data, model);
    back.forEach((v, i) => expect(v).toBeCloseTo(data.values[i], 4));
    // The frame holds every point, with margin.
    for (let i = 0; i < data.count; i++) {
      expect(Math.abs(data.values[2 * i] - f.cx)).toBeLessThan(f.half);
      expect(Math.abs(data.values[2 * i + 1] - f.cy)).toBeLessThan(f.half);
    }
    const noise = noiseGrid(ring, 3);
    expect(Array.from(noise)).toEqual([-2, -2, 0, -2, 2, -2, -2, 0, 0, 0, 2, 0, -2, 2, 0, 2, 2, 2]);
  });

  test("the views are the trainer's own numbers: D on the grid, G on the noise grid, arrows minus the gradient in data units", async () => {
    const data = points(400, 5, [[1, 1], [-1, 0]]);
    const config = presetForData('grid25', data, 'drawing');
    const trainer = await GanTrainer.create(gpu.ctx, config, { dataset: data });
    await trainer.run(5);
    const frame = planeFrame(config, data.values as Float32Array);
    const views = await computePlaneViews(trainer, frame, { heatmap: true, arrows: true, manifold: true });
    expect(views.heatmap).not.toBeNull();
    expect(Array.from(views.heatmap!)).toEqual(Array.from(await trainer.discriminate(toModelUnits(frame, heatmapPoints(frame)))));
    expect(Array.from(views.manifold!)).toEqual(Array.from(toDataUnits(config.data, await trainer.generate(noiseGrid(config)))));
    const model = await trainer.generate(trainer.fixedNoise(PLANE_SAMPLES));
    const { gradient } = await trainer.generatorLossGradient(model.slice(0, 400));
    const std = config.data.kind === 'dataset' && config.data.scaling.kind === 'standardize' ? config.data.scaling.std : [1, 1];
    expect(Array.from(views.arrows!.directions)).toEqual(Array.from(gradient, (g, i) => Math.fround(-g * std[i % 2])));
    expect(views.samples.length).toBe(2 * PLANE_SAMPLES);
    trainer.destroy();
  });

  test('the colour scale is one-to-one: a colour reads back to its value', () => {
    const scale = heatScale(new Float32Array([0.2]), 'probability');
    expect([scale.lo, scale.hi]).toEqual([0, 1]);
    for (const v of [0, 0.1, 0.37, 0.5, 0.81, 1]) expect(valueOfColor(heatColor(v), scale)).toBeCloseTo(v, 2);
    expect(heatColor(0.5)).toEqual([255, 255, 255]);
    const scores = heatScale(new Float32Array([-3, 1, 5]), 'score');
    expect([scores.lo, scores.hi]).toEqual([-3, 5]);
    expect(valueOfColor(heatColor(0.75), scores)).toBeCloseTo(3, 1);
    // Arrows: the 90th percentile length maps to 6% of the canvas.
    const dirs = Float32Array.from({ length: 20 }, (_, i) => (i % 2 ? 0 : (i + 2) / 2));
    expect(arrowScale(dirs, 500) * 9).toBeCloseTo(30, 6);
  });
});

test("the worker's Fréchet distance, with the real side's square root kept, is the engine's", () => {
  const random = seededRandom(11);
  const dim = 12;
  const feats = (n: number, shift: number) => Float32Array.from({ length: n * dim }, (_, i) => normalFrom(random) * (1 + (i % dim) / 6) + shift * (i % 3));
  const real = featureStats(feats(500, 0), dim);
  const fake = feats(300, 0.4);
  const want = frechetDistance(real, featureStats(fake, dim));
  expect(frechetFromReal(realSide(real), fake)).toBeCloseTo(want, 9);
  expect(want).toBeGreaterThan(0.1);
});

describe('the latent walk', () => {
  test('the strip runs from one end to the other; normal noise walks the sphere; labels are set', () => {
    const config = preset('cgan');
    const width = config.noise.dim + 10;
    const random = seededRandom(2);
    const fixed = Float32Array.from({ length: 3 * width }, () => normalFrom(random));
    const rows = walkInputs(config, fixed, [0, 2], 0.25, 7);
    expect(rows.length).toBe((WALK_FRAMES + 1) * width);
    const noise = (r: Float32Array, i: number) => Array.from(r.subarray(i * width, i * width + config.noise.dim));
    noise(rows, 0).forEach((v, i) => expect(v).toBeCloseTo(fixed[i], 5));
    noise(rows, WALK_FRAMES - 1).forEach((v, i) => expect(v).toBeCloseTo(fixed[2 * width + i], 5));
    for (let f = 0; f <= WALK_FRAMES; f++) {
      const labels = Array.from(rows.subarray(f * width + config.noise.dim, (f + 1) * width));
      expect(labels).toEqual(Array.from({ length: 10 }, (_, c) => (c === 7 ? 4 : 0)));
    }
    const a = fixed.subarray(0, 100);
    const b = fixed.subarray(2 * width, 2 * width + 100);
    const norm = (v: Float32Array) => Math.hypot(...v);
    const mid = interpolate(a, b, 0.5, true);
    expect(norm(mid)).toBeGreaterThan(0.9 * Math.min(norm(a), norm(b)));
    expect(norm(interpolate(a, b, 0.5, false))).toBeLessThan(norm(mid));
    const labelled = withLabel(config, fixed, 3);
    expect(labelled[config.noise.dim + 3]).toBe(4);
    expect(labelled[2 * width + config.noise.dim + 3]).toBe(4);
  });
});

describe('page checkpoints', () => {
  test('carry the charts and the points, read by readCheckpoint as before, and restore the same state', async () => {
    const data = points(300, 9, [[0, 1]]);
    const config = ownDataConfig(data);
    const trainer = await GanTrainer.create(gpu.ctx, config, { dataset: data });
    await trainer.run(3);
    const history: PageHistory = {
      metrics: [1, 2, 3].map((i) => ({ iteration: i, dLoss: 1 / i, gLoss: i === 2 ? NaN : i, dReal: 0.5, dFake: 0.25 })),
      quality: [
        { kind: 'modes', iteration: 2, modesCovered: 3, modes: 8, highQualityShare: 0.5 },
        { kind: 'classifier', iteration: 3, histogram: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], classesCovered: 9, klFromUniform: 0.1, frechet: NaN },
      ],
    };
    const plain = await saveCheckpoint(trainer);
    const bytes = withPageMetadata(plain, { history, points: data });
    const ckpt = readCheckpoint(bytes, 'page.safetensors');
    expect(ckpt.iteration).toBe(3);
    const back = decodeHistory(ckpt.metadata[HISTORY_KEY], 3)!;
    expect(back.metrics.map((m) => m.gLoss)).toEqual([1, NaN, 3]);
    expect(back.quality).toEqual(history.quality);
    expect(decodeHistory(ckpt.metadata[HISTORY_KEY], 2)!.metrics.length).toBe(2);
    expect(decodeHistory('{"format":"other"}', 3)).toBeNull();
    const points2 = datasetFromCsv(ckpt.metadata[POINTS_KEY], 'drawing');
    expect(Array.from(points2.values)).toEqual(Array.from(data.values));
    expect(pointsCsv(points2)).toBe(pointsCsv(data));
    const restored = await trainerFromCheckpoint(gpu.ctx, ckpt, { dataset: points2 });
    await Promise.all([trainer.run(2), restored.run(2)]);
    expect(await state(restored)).toEqual(await state(trainer));
    trainer.destroy();
    restored.destroy();
  });
});

test('own data: 2-D points only, and enough of them for a batch', () => {
  expect(() => ownDataConfig(points(100, 1, [[0, 0]]))).toThrow(/100 points, of which 90 train.*at least 285 points/);
  expect(ownDataConfig(points(100, 1, [[0, 0]]), 64).batch).toBe(64);
  const threeD: Dataset = { source: 'xyz.csv', format: 'csv', shape: [3], count: 400, values: new Float32Array(1200) };
  expect(() => ownDataConfig(threeD)).toThrow(/xyz.csv: 3 values per sample; the page trains on 2-D points/);
  expect(() => datasetFromCsv('a,b\n1,2\nx,3\n', 'bad.csv')).toThrow(/bad.csv, line 3, column 1: 'x' is not a number/);
});
