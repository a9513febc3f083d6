// The page (index.html + src/browser/) built into dist/ and driven in Debian's headless
// Chromium, whose WebGPU runs on its bundled SwiftShader: it trains toy-1d and seed, shows
// finite metrics that move and a picture that is not blank, writes checkpoints Node reads back
// with the same samples (and reads Node's), and says what it needs when WebGPU is off.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readCheckpoint, saveCheckpoint, trainerFromCheckpoint } from '../../src/gan/checkpoint.ts';
import { preset, PRESET_NAMES } from '../../src/gan/presets.ts';
import { GanTrainer } from '../../src/gan/trainer.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import { decodeNpy } from '../../src/io/npy.ts';
import { loadMnist } from '../../src/data/mnist-node.ts';
import { previewCount } from '../../src/viz/samples.ts';
import { BROWSER_WEBGPU_HINT } from '../../src/gpu/browser.ts';
import { openTestContext } from '../gpu.ts';
import { ARTIFACTS, describePage, launchChromium, openPage, startServedPages, START_TIMEOUT_MS } from './harness.ts';
import { canvasVariance, downloadFrom, expectClose, expectTrainingShown, snapshot, state, train as trainPreset } from './page-driver.ts';

const skip = process.env.SKIP_BROWSER_TESTS === '1';

let server: Server;
let baseUrl: string;
let browser: Browser;
let ctx: GpuContext | null = null;

async function nodeContext(): Promise<GpuContext> {
  ctx ??= await openTestContext();
  return ctx;
}

describe.skipIf(skip)('the page in headless Chromium (WebGPU on SwiftShader)', () => {
  beforeAll(async () => {
    ({ server, baseUrl, browser } = await startServedPages());
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    server?.close();
    await ctx?.destroy();
  });

  test('without WebGPU it says what the browser needs', async () => {
    const plain = await launchChromium({ webgpu: false });
    try {
      const { page, log } = await openPage(plain);
      await page.goto(baseUrl);
      await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.getAttribute('data-state') !== 'loading', null, { timeout: 30_000 });
      expect(await state(page), await describePage(page, log)).toBe('no-webgpu');
      const message = page.locator('[data-testid=webgpu-error]');
      expect(await message.isVisible()).toBe(true);
      expect(await message.textContent()).toContain(BROWSER_WEBGPU_HINT);
      expect(await page.isDisabled('[data-testid=start]')).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'no-webgpu.png'), fullPage: true });
      expect(log.filter((l) => l.startsWith('page error')), 'uncaught page errors').toEqual([]);
    } finally {
      await plain.close();
    }
  });

  test("trains toy-1d, and Node samples the page's checkpoint alike", async () => {
    const { page, log } = await openPage(browser);
    const iterations = 100;
    const { snapshots, seconds } = await trainPreset(page, log, baseUrl, 'toy-1d', iterations, 100_000);
    expectTrainingShown(snapshots, iterations, log);
    expect(await page.locator('[data-testid=samples]').getAttribute('data-iteration')).toBe(String(iterations));
    // A blank canvas is uniform white (variance 0); the histogram, density and D(x) curves of
    // Figure 1 on white measure in the hundreds.
    expect(await canvasVariance(page)).toBeGreaterThan(50);
    await page.screenshot({ path: join(ARTIFACTS, 'toy-1d.png'), fullPage: true });
    const itPerSec = Number(await page.getAttribute('[data-testid=it-per-sec]', 'data-average'));
    expect(itPerSec).toBeGreaterThan(0);
    console.log(`toy-1d in Chromium: ${iterations} iterations in ${seconds.toFixed(1)} s on the page, ${itPerSec.toFixed(1)} it/s of training`);

    const checkpoint = await downloadFrom(page, 'save-checkpoint');
    expect(checkpoint.name).toBe(`toy-1d-iteration-${iterations}.safetensors`);
    writeFileSync(join(ARTIFACTS, checkpoint.name), checkpoint.bytes);
    const samples = decodeNpy((await downloadFrom(page, 'save-npy')).bytes);
    expect(samples.shape).toEqual([previewCount(preset('toy-1d').data), 1]);

    const ckpt = readCheckpoint(checkpoint.bytes, checkpoint.name);
    expect(ckpt.iteration).toBe(iterations);
    expect(ckpt.metadata.adapter).toMatch(/backend browser/);
    const trainer = await trainerFromCheckpoint(await nodeContext(), ckpt);
    try {
      const node = await trainer.generate(trainer.fixedNoise(samples.shape[0]));
      // The same weights and the same Philox noise words on both sides; only float rounding
      // differs (SwiftShader and lavapipe contract and order the 32-term dot products of the
      // hidden layers their own way, and the uniform draw's int-to-float conversion is exact).
      // Each layer adds a few f32 ulps relative to sum |w x| (values of order 1 to 10 here):
      // 1e-5 absolute on outputs near 4 is ~80 ulps, far below any change training makes
      // (one Adam step moves an output by ~1e-3). Measured here: 0 (bit-identical).
      expectClose(samples.data, node, 1e-5, 'toy-1d G(z) for the fixed noise');
    } finally {
      trainer.destroy();
    }
    expect(log.filter((l) => l.startsWith('page error')), 'uncaught page errors').toEqual([]);
  });

  test('lists the engine presets; Pause stops a 2-D run that shows its mode coverage, Reset discards it', async () => {
    const { page, log } = await openPage(browser);
    await page.goto(`${baseUrl}?preset=ring8`);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.getAttribute('data-state') === 'ready', null, { timeout: 30_000 });
    expect(await page.locator('[data-testid=preset] option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual([...PRESET_NAMES, 'own-data']);
    await page.click('[data-testid=start]');
    await page
      .waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-testid=coverage]')?.dataset.modesCovered ?? -1) >= 0 && Number(document.querySelector('[data-testid=iteration]')?.textContent) >= 10, null, { timeout: 90_000 })
      .catch(async () => {
        throw new Error(`ring8 showed no coverage by iteration 10; ${await describePage(page, log)}`);
      });
    // The page answers while training: a round trip through its event loop is quick.
    const probeStarted = Date.now();
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    const probeMs = Date.now() - probeStarted;
    expect(probeMs, 'event-loop round trip during training').toBeLessThan(2000);
    expect(await page.textContent('[data-testid=coverage]')).toMatch(/^Modes covered: \d of 8; high-quality samples/);
    await page.click('[data-testid=pause]');
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.getAttribute('data-state') === 'paused', null, { timeout: 30_000 });
    const pausedAt = await page.textContent('[data-testid=iteration]');
    await page.waitForTimeout(1000);
    expect(await page.textContent('[data-testid=iteration]'), 'iterations after Pause').toBe(pausedAt);
    expect(await page.isDisabled('[data-testid=seed]'), 'the seed is locked while a trainer exists').toBe(true);
    expect(await page.isDisabled('[data-testid=lr-g]'), 'learning rates stay editable: they apply live').toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'ring8.png'), fullPage: true });
    await page.click('[data-testid=reset]');
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.getAttribute('data-state') === 'ready', null, { timeout: 30_000 });
    expect(await page.textContent('[data-testid=iteration]')).toBe('0');
    expect(await page.isDisabled('[data-testid=seed]')).toBe(false);
    expect(await page.isDisabled('[data-testid=save-checkpoint]')).toBe(true);
    expect(await canvasVariance(page), 'the sample canvas is blank after Reset').toBe(0);
    expect(log.filter((l) => l.startsWith('page error')), 'uncaught page errors').toEqual([]);
    console.log(`ring8 paused at iteration ${pausedAt}; event-loop round trip while training ${probeMs} ms`);
  });

  test('loads a checkpoint written in Node and shows its samples', async () => {
    const node = await nodeContext();
    const trainer = await GanTrainer.create(node, { ...preset('toy-1d'), seed: 7 });
    let bytes: Uint8Array;
    let expected: Float32Array;
    try {
      await trainer.run(60);
      bytes = await saveCheckpoint(trainer);
      expected = await trainer.generate(trainer.fixedNoise(previewCount(trainer.config.data)));
    } finally {
      trainer.destroy();
    }
    const { page, log } = await openPage(browser);
    await page.goto(`${baseUrl}?preset=ring8`);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.getAttribute('data-state') === 'ready', null, { timeout: 30_000 });
    await page.setInputFiles('[data-testid=load-checkpoint]', { name: 'node.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await page.waitForFunction(() => document.querySelector('[data-testid=samples]')?.getAttribute('data-iteration') === '60', null, { timeout: 60_000 }).catch(async () => {
      throw new Error(`the page did not show the loaded checkpoint; ${await describePage(page, log)}`);
    });
    expect(await page.inputValue('[data-testid=preset]')).toBe('toy-1d');
    expect(await page.inputValue('[data-testid=seed]')).toBe('7');
    expect(await page.textContent('[data-testid=iteration]')).toBe('60');
    const shown = decodeNpy((await downloadFrom(page, 'save-npy')).bytes);
    expectClose(shown.data, expected, 1e-5, "the page's G(z) for a Node checkpoint");
    // Training on from the loaded state works in the page too.
    await page.click('[data-testid=step]');
    await page.waitForFunction(() => document.querySelector('[data-testid=iteration]')?.textContent === '61', null, { timeout: 30_000 });
    expect(Number.isFinite((await snapshot(page)).dLoss)).toBe(true);
    expect(log.filter((l) => l.startsWith('page error')), 'uncaught page errors').toEqual([]);
  });

  test('trains the seed experiment on MNIST loaded from the static asset', async () => {
    const { page, log } = await openPage(browser);
    const iterations = 3;
    const { snapshots, seconds } = await trainPreset(page, log, baseUrl, 'seed', iterations, 150_000);
    expectTrainingShown(snapshots, iterations, log);
    // 100 digits in gray on a dark grid: far from a uniform picture.
    expect(await canvasVariance(page)).toBeGreaterThan(50);
    await page.screenshot({ path: join(ARTIFACTS, 'seed.png'), fullPage: true });
    const itPerSec = Number(await page.getAttribute('[data-testid=it-per-sec]', 'data-average'));
    console.log(`seed in Chromium: ${iterations} iterations in ${seconds.toFixed(1)} s on the page (MNIST load and build included), ${itPerSec.toFixed(2)} it/s of training`);

    const png = await downloadFrom(page, 'save-png');
    expect([...png.bytes.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    const checkpoint = await downloadFrom(page, 'save-checkpoint');
    const samples = decodeNpy((await downloadFrom(page, 'save-npy')).bytes);
    expect(samples.shape).toEqual([100, 784]);
    const trainer = await trainerFromCheckpoint(await nodeContext(), readCheckpoint(checkpoint.bytes), { mnist: await loadMnist() });
    try {
      const node = await trainer.generate(trainer.fixedNoise(100));
      // Here the fixed noise is the first rows of the normal noise bank, drawn on each side
      // with its own log/sqrt/cos (a few ulps apart) and min-max scaled to [0, 1]; G is one
      // sigmoid layer over 100 inputs, whose pre-activation error is at most ~100 * |w| * |dz|
      // plus f32 accumulation, and sigmoid's slope is at most 1/4. 1e-4 on pixels in [0, 1]
      // (1/40 of a grey level) bounds both with room, yet fails on any wrong weight. Measured
      // here: 1.2e-7, one ulp below 1.
      expectClose(samples.data, node, 1e-4, 'seed G(z) for the fixed noise');
    } finally {
      trainer.destroy();
    }
    expect(log.filter((l) => l.startsWith('page error')), 'uncaught page errors').toEqual([]);
  }, 240_000);
});
