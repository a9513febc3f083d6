// Every kind of preset in the page, in headless Chromium (WebGPU on SwiftShader), for a few
// iterations without errors: grid25 (its 25 modes counted), mnist (the classifier's quality
// chart and histogram, the latent walk and its slider), cgan (the digit picker), and the
// convolutional dcgan (MNIST) and dcgan-fashion (Fashion-MNIST from its own asset), whose grid
// is redrawn after training. SwiftShader runs convolutions slowly: those two train one
// iteration at batch 16.

import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ARTIFACTS, describePage, openPage, startServedPages, START_TIMEOUT_MS } from './harness.ts';
import { canvasVariance, expectTrainingShown, openPreset, pageErrors, setField, trainTo } from './page-driver.ts';

const skip = process.env.SKIP_BROWSER_TESTS === '1';

let server: Server;
let baseUrl: string;
let browser: Browser;

function dataset(page: Page, testId: string): Promise<Record<string, string | undefined>> {
  return page.locator(`[data-testid=${testId}]`).evaluate((el) => ({ ...(el as HTMLElement).dataset }));
}

describe.skipIf(skip)('the presets in headless Chromium (WebGPU on SwiftShader)', () => {
  beforeAll(async () => {
    ({ server, baseUrl, browser } = await startServedPages());
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  test('grid25 trains and counts its 25 modes', async () => {
    const { page, log } = await openPage(browser);
    await openPreset(page, log, baseUrl, 'grid25');
    const { snapshots } = await trainTo(page, log, 8, 200_000);
    expectTrainingShown(snapshots, 8, log);
    expect(await page.textContent('[data-testid=coverage]')).toMatch(/^Modes covered: \d+ of 25;/);
    expect(await page.getAttribute('[data-testid=samples]', 'data-iteration')).toBe('8');
    expect(await canvasVariance(page)).toBeGreaterThan(50);
    expect(pageErrors(log)).toEqual([]);
  }, 300_000);

  test("mnist: the classifier's histogram and distance every N iterations, and a latent walk that follows its slider", async () => {
    const { page, log } = await openPage(browser);
    await openPreset(page, log, baseUrl, 'mnist');
    await setField(page, 'quality-every', '2');
    const { snapshots, seconds } = await trainTo(page, log, 4, 300_000);
    expectTrainingShown(snapshots, 4, log);
    expect(await canvasVariance(page)).toBeGreaterThan(50);
    // The distance comes from the worker after the histogram.
    await page.waitForFunction(() => Number.isFinite((window as unknown as { webgpuGanPage: { lastQuality: { frechet: number } | null } }).webgpuGanPage.lastQuality?.frechet), null, { timeout: 120_000 });
    const last = await page.evaluate(() => (window as unknown as { webgpuGanPage: { lastQuality: { iteration: number; histogram: number[]; frechet: number; classesCovered: number } } }).webgpuGanPage.lastQuality);
    console.log(`mnist in Chromium: 4 iterations in ${seconds.toFixed(0)} s (MNIST and the classifier loaded); quality at iteration ${last.iteration}: digits ${last.histogram.join(' ')}, FD ${last.frechet.toFixed(1)}`);
    expect(last.histogram.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(last.frechet).toBeGreaterThan(0);
    expect((await dataset(page, 'histogram')).histogram).toBe(last.histogram.join(','));

    // The walk: drawn for the current iteration, redrawn as the slider moves.
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid=walk-canvas]')?.dataset.iteration === '4', null, { timeout: 60_000 });
    expect(await canvasVariance(page, 'walk-canvas')).toBeGreaterThan(50);
    await page.locator('[data-testid=walk-t]').fill('0.9');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid=walk-canvas]')?.dataset.t === '0.9', null, { timeout: 60_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'mnist-views.png'), fullPage: true });
    expect(pageErrors(log)).toEqual([]);
  }, 420_000);

  test('cgan: the digit picker redraws the grid with every sample asked for one digit', async () => {
    const { page, log } = await openPage(browser);
    await openPreset(page, log, baseUrl, 'cgan');
    await setField(page, 'quality-every', '1000');
    const { snapshots } = await trainTo(page, log, 2, 300_000);
    expectTrainingShown(snapshots, 2, log);
    expect(await page.isVisible('[data-testid=digit]')).toBe(true);
    const all = await page.locator('[data-testid=samples]').screenshot();
    await page.selectOption('[data-testid=digit]', '7');
    await page.waitForFunction(() => /all asked for class 7/.test(document.querySelector('[data-testid=samples-caption]')?.textContent ?? ''), null, { timeout: 60_000 }).catch(async () => {
      throw new Error(`the grid was not redrawn for digit 7; ${await describePage(page, log)}`);
    });
    expect(Buffer.compare(all, await page.locator('[data-testid=samples]').screenshot())).not.toBe(0);
    expect(await canvasVariance(page)).toBeGreaterThan(50);
    expect(pageErrors(log)).toEqual([]);
  }, 420_000);

  for (const name of ['dcgan', 'dcgan-fashion']) {
    test(`${name}: selectable, trains and redraws its grid`, async () => {
      const { page, log } = await openPage(browser);
      await openPreset(page, log, baseUrl, 'toy-1d');
      await page.selectOption('[data-testid=preset]', name);
      await page.waitForFunction(() => document.querySelector('[data-testid=description]')?.textContent?.startsWith('DCGAN on'));
      await setField(page, 'batch', '16');
      // dcgan's MNIST samples get the classifier's quality chart (not at this iteration); Fashion-MNIST's none.
      expect(await page.isVisible('[data-testid=quality-every]')).toBe(name === 'dcgan');
      if (name === 'dcgan') await setField(page, 'quality-every', '1000');
      const started = Date.now();
      await trainTo(page, log, 1, 600_000);
      const seconds = (Date.now() - started) / 1000;
      expect(await page.getAttribute('[data-testid=samples]', 'data-iteration')).toBe('1');
      expect(Number.isFinite(Number(await page.getAttribute('[data-testid=d-loss]', 'data-value')))).toBe(true);
      // A 10 x 10 grid of 28 x 28 images, upscaled twice, on a dark grid.
      expect(await page.$eval('[data-testid=samples]', (c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height])).toEqual([604, 604]);
      expect(await canvasVariance(page)).toBeGreaterThan(20);
      console.log(`${name} in Chromium: built, trained 1 iteration at batch 16 and redrawn in ${seconds.toFixed(0)} s (data loaded)`);
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
      expect(pageErrors(log)).toEqual([]);
    }, 700_000);
  }
});
