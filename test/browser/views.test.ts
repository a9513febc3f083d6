// What the page shows of a GAN training, in headless Chromium (WebGPU on SwiftShader): D's
// heatmap and G's gradient arrows on ring8 after a short training, read back from the canvas
// and the page; the views' cost against the page's speed with them off; a live learning-rate
// edit changing the very next update; D and G stepped alone and in slow motion; a drawn
// distribution the samples move toward; the charts coming back with a checkpoint; and bad
// input refused beside its control with training untouched.

import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readCheckpoint, type CheckpointContents } from '../../src/gan/checkpoint.ts';
import { RING8 } from '../../src/data/toy.ts';
import { ARTIFACTS, describePage, openPage, startServedPages, START_TIMEOUT_MS } from './harness.ts';
import { downloadFrom, openPreset, pageErrors, setField, snapshot, trainTo, waitForState } from './page-driver.ts';

const skip = process.env.SKIP_BROWSER_TESTS === '1';

let server: Server;
let baseUrl: string;
let browser: Browser;

interface PlaneSnapshot {
  iteration: number;
  samples: number[];
  arrows: { points: number[]; directions: number[] } | null;
}

/** The plane views the page drew last (its inspection handle). */
async function planeViews(page: Page): Promise<PlaneSnapshot> {
  return page.evaluate(() => {
    const plane = (window as unknown as { webgpuGanPage: { plane: { views: { iteration: number; samples: Float32Array; arrows: { points: Float32Array; directions: Float32Array } | null } } | null } }).webgpuGanPage.plane;
    if (!plane) throw new Error('the page has drawn no plane');
    const { views } = plane;
    return {
      iteration: views.iteration,
      samples: Array.from(views.samples),
      arrows: views.arrows && { points: Array.from(views.arrows.points), directions: Array.from(views.arrows.directions) },
    };
  });
}

/**
 * D's value at data points, read from the heatmap as painted: the canvas pixel under each
 * point (where the page's frame puts it), matched to the nearest colour of the page's own
 * colour scale, whose ends are its shown range. Only the heatmap layer is on.
 */
async function heatmapAt(page: Page, points: [number, number][]): Promise<number[]> {
  return page.evaluate((pts) => {
    const handle = (window as unknown as { webgpuGanPage: { toPixel(x: number, y: number): [number, number] | null } }).webgpuGanPage;
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=samples]')!;
    const scale = document.querySelector<HTMLCanvasElement>('[data-testid=heat-scale]')!;
    const [lo, hi] = [Number(scale.dataset.lo), Number(scale.dataset.hi)];
    const shades = scale.getContext('2d')!.getImageData(0, 0, scale.width, 1).data;
    const g = canvas.getContext('2d')!;
    return pts.map(([x, y]) => {
      const [px, py] = handle.toPixel(x, y)!;
      const c = g.getImageData(Math.floor(px), Math.floor(py), 1, 1).data;
      let best = 0;
      let bestDistance = Infinity;
      for (let i = 0; i < scale.width; i++) {
        const d = (shades[4 * i] - c[0]) ** 2 + (shades[4 * i + 1] - c[1]) ** 2 + (shades[4 * i + 2] - c[2]) ** 2;
        if (d < bestDistance) [best, bestDistance] = [i, d];
      }
      return lo + ((hi - lo) * best) / (scale.width - 1);
    });
  }, points);
}

async function setLayers(page: Page, on: string[]): Promise<void> {
  for (const layer of ['real', 'samples', 'heatmap', 'arrows', 'manifold']) {
    await page.locator(`[data-testid=layer-${layer}]`).setChecked(on.includes(layer));
  }
}

async function checkpointOf(page: Page): Promise<CheckpointContents> {
  const { bytes, name } = await downloadFrom(page, 'save-checkpoint');
  return readCheckpoint(bytes, name);
}

function tensor(ckpt: CheckpointContents, key: string): number[] {
  const t = ckpt.tensors.get(key);
  if (!t) throw new Error(`${ckpt.source}: no tensor ${key}`);
  return Array.from(t.data);
}

function netKeys(ckpt: CheckpointContents, net: 'generator' | 'discriminator'): string[] {
  return [...ckpt.tensors.keys()].filter((k) => k.startsWith(`${net}.`));
}

describe.skipIf(skip)('the views of training in headless Chromium (WebGPU on SwiftShader)', () => {
  beforeAll(async () => {
    ({ server, baseUrl, browser } = await startServedPages());
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  test("ring8: D's heatmap is high at the modes and low at the origin, the arrows point to the modes, every view on keeps >= 80% of the speed, and the charts come back with a checkpoint", async () => {
    const { page, log } = await openPage(browser);
    await openPreset(page, log, baseUrl, 'ring8');
    // D at 2e-3 learns in 20 iterations what the preset's 4e-4 takes longer for (measured in
    // Node on lavapipe: D 0.79-0.84 at the modes, 0.17 at the origin).
    await setField(page, 'lr-d', '0.002');
    const { seconds } = await trainTo(page, log, 20, 200_000);
    expect(await page.getAttribute('[data-testid=samples]', 'data-iteration')).toBe('20');
    await page.screenshot({ path: join(ARTIFACTS, 'ring8-views.png'), fullPage: true });

    await setLayers(page, ['heatmap']);
    const values = await heatmapAt(page, [...RING8.centers, [0, 0]]);
    const [modes, origin] = [values.slice(0, 8), values[8]];
    console.log(`ring8 after 20 iterations (${seconds.toFixed(0)} s): D read from the heatmap at the modes ${modes.map((v) => v.toFixed(2)).join(' ')}, at the origin ${origin.toFixed(2)}`);
    for (const v of modes) expect(v, 'D at a mode').toBeGreaterThan(0.5);
    expect(origin, 'D at the origin').toBeLessThan(0.35);

    // The arrows: on average along the way to the nearest mode.
    const { arrows } = await planeViews(page);
    expect(arrows).not.toBeNull();
    let cosine = 0;
    const n = arrows!.points.length / 2;
    for (let i = 0; i < n; i++) {
      const [x, y] = [arrows!.points[2 * i], arrows!.points[2 * i + 1]];
      const [mx, my] = RING8.centers.reduce((best, c) => (Math.hypot(c[0] - x, c[1] - y) < Math.hypot(best[0] - x, best[1] - y) ? c : best));
      const [dx, dy] = [arrows!.directions[2 * i], arrows!.directions[2 * i + 1]];
      cosine += ((mx - x) * dx + (my - y) * dy) / (Math.hypot(mx - x, my - y) * Math.hypot(dx, dy));
    }
    cosine /= n;
    console.log(`ring8: mean cosine between the ${n} arrows and the way to the nearest mode: ${cosine.toFixed(2)}`);
    expect(cosine).toBeGreaterThan(0.5);

    // Every view on against none, the same loop otherwise.
    await setLayers(page, ['real', 'samples', 'heatmap', 'arrows', 'manifold']);
    await setField(page, 'measure-iterations', '30');
    await page.click('[data-testid=measure-views]');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid=view-cost]')?.dataset.ratio !== undefined, null, { timeout: 400_000 }).catch(async () => {
      throw new Error(`no measurement of the views' cost; ${await describePage(page, log)}`);
    });
    const cost = await page.locator('[data-testid=view-cost]').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
    console.log(`ring8 views' cost in Chromium: ${await page.textContent('[data-testid=view-cost]')}`);
    // Both speeds are printed; the load of a shared machine moves between blocks by more than
    // the views cost, so the bound is on the views' share of the very blocks they ran in.
    expect(Number(cost.on)).toBeGreaterThan(0);
    expect(Number(cost.off)).toBeGreaterThan(0);
    expect(Number(cost.viewShare)).toBeGreaterThan(0);
    expect(Number(cost.sameLoadRatio)).toBeGreaterThanOrEqual(0.8);

    // The charts travel with a checkpoint saved by the page.
    const rows = await page.evaluate(() => (window as unknown as { webgpuGanPage: { chartRows: { metrics: number; quality: number } } }).webgpuGanPage.chartRows);
    expect(rows.metrics).toBeGreaterThan(5);
    expect(rows.quality).toBeGreaterThan(2);
    const saved = await downloadFrom(page, 'save-checkpoint');
    const iteration = readCheckpoint(saved.bytes).iteration;
    await openPreset(page, log, baseUrl, 'toy-1d');
    await page.setInputFiles('[data-testid=load-checkpoint]', { name: saved.name, mimeType: 'application/octet-stream', buffer: Buffer.from(saved.bytes) });
    await page.waitForFunction((it) => document.querySelector('[data-testid=samples]')?.getAttribute('data-iteration') === String(it), iteration, { timeout: 60_000 });
    const back = await page.evaluate(() => (window as unknown as { webgpuGanPage: { chartRows: { metrics: number; quality: number; lastIteration: number } } }).webgpuGanPage.chartRows);
    expect(back.metrics).toBe(rows.metrics);
    // The restored run redraws its own quality row at the checkpoint's iteration, replacing the saved one.
    expect(back.quality).toBe(rows.quality);
    expect(back.lastIteration).toBe(iteration);
    expect(await page.inputValue('[data-testid=preset]')).toBe('ring8');
    expect(pageErrors(log)).toEqual([]);
  }, 900_000);

  test('a learning-rate edit changes the next update: the G step it scales is 4 times as large, D and the iteration count carry on', async () => {
    const { page, log } = await openPage(browser);
    await openPreset(page, log, baseUrl, 'toy-1d');
    await page.click('[data-testid=step]');
    await page.waitForFunction(() => document.querySelector('[data-testid=iteration]')?.textContent === '1', null, { timeout: 60_000 });
    await waitForState(page, log, ['paused'], 30_000);
    const first = await checkpointOf(page);
    // LR of G 5e-4 -> 2e-3, live.
    await setField(page, 'lr-g', '0.002');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid=status]')?.dataset.edited === '1', null, { timeout: 30_000 });
    await page.click('[data-testid=step]');
    await page.waitForFunction(() => document.querySelector('[data-testid=iteration]')?.textContent === '2', null, { timeout: 60_000 });
    await waitForState(page, log, ['paused'], 30_000);
    const edited = await checkpointOf(page);
    expect(edited.iteration).toBe(2);
    expect(edited.config.optimizerG.lr).toBe(0.002);
    // A value that is not a positive number: said beside the field, the run keeps its rate.
    for (const bad of ['-1', '0', 'fast']) {
      await setField(page, 'lr-g', bad);
      expect(await page.textContent('[data-testid=lr-g-error]')).toBe(`LR of G must be a positive number, got '${bad}'`);
      expect(await page.evaluate(() => (window as unknown as { webgpuGanPage: { config: { optimizerG: { lr: number } } } }).webgpuGanPage.config.optimizerG.lr)).toBe(0.002);
    }
    expect(await page.isVisible('[data-testid=error]')).toBe(false);

    // The same two iterations without the edit.
    await page.click('[data-testid=reset]');
    await waitForState(page, log, ['ready'], 30_000);
    await setField(page, 'lr-g', '0.0005');
    for (const expected of ['1', '2']) {
      await page.click('[data-testid=step]');
      await page.waitForFunction((it) => document.querySelector('[data-testid=iteration]')?.textContent === it, expected, { timeout: 60_000 });
      await waitForState(page, log, ['paused'], 30_000);
    }
    const plain = await checkpointOf(page);
    // D's second update saw the same G and the same draws: bit for bit the same either way.
    for (const key of netKeys(plain, 'discriminator')) expect(tensor(edited, key), key).toEqual(tensor(plain, key));
    // Adam's step is lr m^/(sqrt(v^) + eps) of the same gradient: 4 times the rate, 4 times the
    // step. f32 rounding of the parameters (values ~0.1-1, steps ~1e-3) bounds the difference
    // by a few ulps of the parameter, far below the 3x step a missed edit would leave.
    let worst = 0;
    let largest = 0;
    for (const key of netKeys(plain, 'generator').filter((k) => /^generator\.\d+\.(weight|bias)$/.test(k))) {
      const [a, b, c] = [tensor(first, key), tensor(edited, key), tensor(plain, key)];
      a.forEach((before, i) => {
        worst = Math.max(worst, Math.abs(b[i] - before - 4 * (c[i] - before)));
        largest = Math.max(largest, Math.abs(b[i] - before));
      });
    }
    console.log(`live LR edit: largest G step ${largest.toExponential(2)}, max |step - 4 x unedited step| ${worst.toExponential(2)}`);
    expect(largest).toBeGreaterThan(1e-4);
    expect(worst).toBeLessThan(0.01 * largest);
    expect(pageErrors(log)).toEqual([]);
  }, 300_000);

  test('Step D and Step G update one net each; slow motion runs D then G, one per frame, and says which', async () => {
    const { page, log } = await openPage(browser);
    await openPreset(page, log, baseUrl, 'ring8');
    await page.click('[data-testid=step]');
    await waitForState(page, log, ['paused'], 60_000);
    const start = await checkpointOf(page);
    await page.click('[data-testid=step-d]');
    await page.waitForFunction(() => document.querySelector('[data-testid=iteration]')?.textContent === '2', null, { timeout: 60_000 });
    await waitForState(page, log, ['paused'], 30_000);
    const afterD = await checkpointOf(page);
    expect(Number.isNaN((await snapshot(page)).gLoss), 'no G loss in an iteration without a G update').toBe(true);
    await page.click('[data-testid=step-g]');
    await page.waitForFunction(() => document.querySelector('[data-testid=iteration]')?.textContent === '3', null, { timeout: 60_000 });
    await waitForState(page, log, ['paused'], 30_000);
    const afterG = await checkpointOf(page);
    for (const key of netKeys(start, 'generator')) expect(tensor(afterD, key), `${key} after Step D`).toEqual(tensor(start, key));
    for (const key of netKeys(start, 'discriminator')) expect(tensor(afterG, key), `${key} after Step G`).toEqual(tensor(afterD, key));
    expect(tensor(afterD, 'discriminator.0.weight')).not.toEqual(tensor(start, 'discriminator.0.weight'));
    expect(tensor(afterG, 'generator.0.weight')).not.toEqual(tensor(afterD, 'generator.0.weight'));
    expect(tensor(afterG, 'clock')[0]).toBe(3);

    // Slow motion: record the phase marker's changes as the page makes them.
    await page.evaluate(() => {
      const marker = document.querySelector<HTMLElement>('[data-testid=phase]')!;
      const seen: string[] = ((window as unknown as { phasesSeen: string[] }).phasesSeen = []);
      new MutationObserver(() => seen.push(`${marker.dataset.phase}:${marker.textContent}`)).observe(marker, { attributes: true, childList: true, characterData: true, subtree: true });
    });
    await page.locator('[data-testid=slow-motion]').setChecked(true);
    await trainTo(page, log, 5, 120_000);
    const seen = await page.evaluate(() => (window as unknown as { phasesSeen: string[] }).phasesSeen);
    const order = seen.filter((s) => s.endsWith('updating…')).map((s) => s[0]);
    expect(order).toEqual(['d', 'g', 'd', 'g']);
    expect(seen).toContain('d:D updated');
    expect(seen).toContain('g:G updated');
    expect(await page.getAttribute('[data-testid=samples]', 'data-iteration')).toBe('5');
    expect(pageErrors(log)).toEqual([]);
  }, 300_000);

  test('a distribution drawn with the mouse trains, and the samples move toward it', async () => {
    const { page, log } = await openPage(browser);
    await openPreset(page, log, baseUrl, 'ring8');
    await page.locator('[data-testid=draw-pad]').scrollIntoViewIfNeeded();
    const pad = (await page.locator('[data-testid=draw-pad]').boundingBox())!;
    const at = (x: number, y: number) => [pad.x + ((x + 2) / 4) * pad.width, pad.y + ((2 - y) / 4) * pad.height] as const;
    // A cluster held at (1, 1), and a curve dragged from (-1.5, -1) to (0, -1.5).
    await page.mouse.move(...at(1, 1));
    await page.mouse.down();
    await page.waitForTimeout(1500);
    await page.mouse.up();
    await page.mouse.move(...at(-1.5, -1));
    await page.mouse.down();
    for (let i = 1; i <= 30; i++) {
      await page.mouse.move(...at(-1.5 + (1.5 * i) / 30, -1 - (0.5 * i) / 30));
      await page.waitForTimeout(40);
    }
    await page.mouse.up();
    const count = Number(await page.getAttribute('[data-testid=draw-count]', 'data-count'));
    console.log(`drawn: ${count} points`);
    expect(count).toBeGreaterThanOrEqual(285);
    await page.click('[data-testid=draw-train]');
    await waitForState(page, log, ['training'], 60_000);
    // D at twice its rate (measured in Node: G's samples then close most of the way in 20-40
    // iterations), set while paused so that it holds from the iteration measured first: set
    // live, it lands wherever the page is, and an early swing (0.80 -> 1.00 at iteration 42,
    // under a loaded machine) failed the test once.
    await page.click('[data-testid=pause]');
    await waitForState(page, log, ['paused'], 60_000);
    await setField(page, 'lr-d', '0.002');
    await page.waitForFunction(() => (window as unknown as { webgpuGanPage: { config: { optimizerD: { lr: number } } } }).webgpuGanPage.config.optimizerD.lr === 0.002, null, { timeout: 60_000 });
    expect(await page.inputValue('[data-testid=preset]')).toBe('own-data');
    const drawn = await page.evaluate(() => Array.from((window as unknown as { webgpuGanPage: { ownData: { values: Float32Array } } }).webgpuGanPage.ownData.values));
    const distance = (samples: number[]) => {
      let sum = 0;
      for (let i = 0; i < samples.length; i += 2) {
        let best = Infinity;
        for (let j = 0; j < drawn.length; j += 2) best = Math.min(best, Math.hypot(samples[i] - drawn[j], samples[i + 1] - drawn[j + 1]));
        sum += best;
      }
      return sum / (samples.length / 2);
    };
    // The views as paused, then after 60 more iterations.
    const before = await planeViews(page);
    await page.click('[data-testid=start]');
    await page
      .waitForFunction((from) => Number(document.querySelector('[data-testid=samples]')?.getAttribute('data-iteration')) >= from + 60, before.iteration, { timeout: 300_000 })
      .catch(async () => {
        throw new Error(`the drawing did not train 60 iterations; ${await describePage(page, log)}`);
      });
    await page.click('[data-testid=pause]');
    await waitForState(page, log, ['paused'], 60_000);
    const after = await planeViews(page);
    const [d0, d1] = [distance(before.samples.slice(0, 1000)), distance(after.samples.slice(0, 1000))];
    console.log(`drawn data: mean distance from a sample to the nearest drawn point ${d0.toFixed(3)} at iteration ${before.iteration}, ${d1.toFixed(3)} at ${after.iteration}`);
    expect(d1).toBeLessThan(0.6 * d0);
    await page.screenshot({ path: join(ARTIFACTS, 'drawn.png'), fullPage: true });
    expect(pageErrors(log)).toEqual([]);
  }, 420_000);

  test('bad input is refused beside its control, and training is untouched', async () => {
    const { page, log } = await openPage(browser);
    await openPreset(page, log, baseUrl, 'ring8');
    // An empty drawing.
    await page.click('[data-testid=draw-train]');
    expect(await page.textContent('[data-testid=own-data-error]')).toMatch(/^the drawing is empty/);
    expect(await page.inputValue('[data-testid=preset]')).toBe('ring8');
    // Own data picked with none drawn or loaded.
    await page.selectOption('[data-testid=preset]', 'own-data');
    expect(await page.textContent('[data-testid=preset-error]')).toMatch(/Draw points on the pad or load a CSV of points first/);
    expect(await page.inputValue('[data-testid=preset]')).toBe('ring8');

    // Training ring8, then files that are not 2-D points, and learning rates that are not positive numbers.
    await setField(page, 'iterations', '1000');
    await page.click('[data-testid=start]');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=iteration]')?.textContent) >= 2, null, { timeout: 120_000 });
    for (const [name, text, message] of [
      ['words.csv', 'x,y\n1,2\nfoo,3\n', /^words\.csv, line 3, column 1: 'foo' is not a number/],
      ['ragged.csv', '1,2\n3\n', /^ragged\.csv, line 2: 1 fields, expected 2/],
      ['three.csv', '1,2,3\n4,5,6\n', /^three\.csv: 3 values per sample; the page trains on 2-D points/],
      ['few.csv', '1,2\n3,4\n', /^few\.csv: 2 points.*a batch of 256 needs at least 256 points/],
    ] as const) {
      await page.setInputFiles('[data-testid=load-csv]', { name, mimeType: 'text/csv', buffer: Buffer.from(text) });
      await page.waitForFunction(() => !document.querySelector<HTMLElement>('[data-testid=own-data-error]')!.hidden, null, { timeout: 10_000 });
      expect(await page.textContent('[data-testid=own-data-error]')).toMatch(message);
      await page.click('[data-testid=draw-clear]');
    }
    for (const bad of ['abc', '-0.001', '0', '']) {
      await setField(page, 'lr-d', bad);
      expect(await page.textContent('[data-testid=lr-d-error]')).toBe(`LR of D must be a positive number, got '${bad}'`);
    }
    const before = Number(await page.textContent('[data-testid=iteration]'));
    await page.waitForFunction((it) => Number(document.querySelector('[data-testid=iteration]')?.textContent) > it, before, { timeout: 120_000 });
    expect(await page.getAttribute('[data-testid=status]', 'data-state')).toBe('training');
    expect(await page.inputValue('[data-testid=preset]')).toBe('ring8');
    expect(await page.evaluate(() => (window as unknown as { webgpuGanPage: { config: { optimizerD: { lr: number } } } }).webgpuGanPage.config.optimizerD.lr)).toBe(4e-4);
    // A good value clears the message and applies.
    await setField(page, 'lr-d', '0.0008');
    expect(await page.isVisible('[data-testid=lr-d-error]')).toBe(false);
    await page.waitForFunction(() => (window as unknown as { webgpuGanPage: { config: { optimizerD: { lr: number } } } }).webgpuGanPage.config.optimizerD.lr === 0.0008, null, { timeout: 60_000 });
    await page.click('[data-testid=pause]');
    await waitForState(page, log, ['paused'], 60_000);
    expect(await page.isVisible('[data-testid=error]')).toBe(false);
    expect(pageErrors(log)).toEqual([]);
  }, 300_000);
});
