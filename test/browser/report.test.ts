// report.html as a user opens it: from disk (file://) in Debian's headless Chromium, with every
// network request refused and counted. The reports of a short toy-1d run and a short mnist run,
// and their comparison, must open with no page error and no request, draw their charts, and show
// the last frame on the slider; Chromium's own GIF decoder must find the frames config.json states.

import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FRAMES_DIR, frameIteration } from '../../src/report/frame.ts';
import { runCli, tempDir } from '../cli-process.ts';
import { ARTIFACTS, chromiumMissingMessage, launchChromium } from './harness.ts';

const skip = process.env.SKIP_BROWSER_TESTS === '1';

let browser: Browser;
const runs: Record<'toy' | 'mnist', string> = { toy: '', mnist: '' };
let comparison = '';

interface Opened {
  page: Page;
  /** Page errors, console errors and every request that was not the report itself. */
  trouble: string[];
}

/** Opens a report file with every request but the file itself refused and noted. */
async function openReport(file: string): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const trouble: string[] = [];
  const own = pathToFileURL(file).href;
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url === own) return route.continue();
    trouble.push(`request refused: ${url.slice(0, 120)}`);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('request', (r) => {
    const url = r.url();
    if (url !== own && !url.startsWith('data:')) trouble.push(`request: ${url.slice(0, 120)}`);
  });
  page.on('pageerror', (e) => trouble.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') trouble.push(`console.error: ${m.text()}`);
  });
  await page.goto(own);
  await page.waitForSelector('body[data-ready=true]', { timeout: 20_000 }).catch(() => trouble.push('the page never finished drawing'));
  return { page, trouble };
}

/** Per chart: its canvas size, the pixels drawn, and how many pixels have each of `colors` (#rrggbb). */
async function chartPixels(page: Page, colors: string[]) {
  return page.evaluate((colors) => {
    const rgb = colors.map((c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)));
    return Array.from(document.querySelectorAll<HTMLElement>('[data-chart]')).map((el) => {
      const canvas = el.querySelector('canvas');
      if (!canvas || !canvas.width || !canvas.height) return { chart: el.dataset.chart, width: 0, drawn: 0, byColor: colors.map(() => 0) };
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let drawn = 0;
      const byColor = colors.map(() => 0);
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0) continue;
        drawn++;
        rgb.forEach(([r, g, b], k) => {
          if (Math.abs(data[i] - r) < 12 && Math.abs(data[i + 1] - g) < 12 && Math.abs(data[i + 2] - b) < 12) byColor[k]++;
        });
      }
      return { chart: el.dataset.chart, width: canvas.width, drawn, byColor };
    });
  }, colors);
}

function frameFiles(dir: string): string[] {
  return readdirSync(join(dir, FRAMES_DIR))
    .filter((n) => frameIteration(n) !== null)
    .sort();
}

/** What the slider shows: its position, its label, and each picture's source and decoded size. */
async function sliderState(page: Page) {
  return page.evaluate(() => {
    const slider = document.querySelector<HTMLInputElement>('[data-testid=frame-slider]')!;
    const label = document.querySelector<HTMLElement>('[data-testid=frame-label]')!;
    const images = Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid=frame-image]'));
    return {
      value: Number(slider.value),
      max: Number(slider.max),
      label: label.textContent,
      iteration: Number(label.dataset.iteration),
      images: images.map((img) => ({ src: img.src, complete: img.complete, width: img.naturalWidth, iteration: Number(img.dataset.iteration) })),
    };
  });
}

/** Chromium's own decoder (WebCodecs ImageDecoder) on a GIF: its frame count and first frame's size. */
async function chromiumGifFrames(page: Page, gif: Uint8Array): Promise<{ frames: number; width: number; height: number }> {
  return page.evaluate(async (bytes) => {
    const decoder = new ImageDecoder({ data: new Uint8Array(bytes), type: 'image/gif' });
    await decoder.tracks.ready;
    await decoder.completed;
    const { image } = await decoder.decode({ frameIndex: 0 });
    return { frames: decoder.tracks.selectedTrack!.frameCount, width: image.displayWidth, height: image.displayHeight };
  }, [...gif]);
}

describe.skipIf(skip)('report.html in headless Chromium, opened from disk', () => {
  beforeAll(async () => {
    const missing = chromiumMissingMessage();
    if (missing) throw new Error(missing);
    mkdirSync(ARTIFACTS, { recursive: true });
    runs.toy = tempDir('gan-report-toy-');
    runs.mnist = tempDir('gan-report-mnist-');
    const toy = await runCli('train', ['--preset', 'toy-1d', '--iters', '200', '--log-every', '10', '--checkpoint-every', '100', '--out', runs.toy]);
    expect(toy.code, toy.stderr).toBe(0);
    const mnist = await runCli('train', ['--preset', 'mnist', '--iters', '60', '--log-every', '10', '--checkpoint-every', '30', '--out', runs.mnist], { deadlineMs: 240_000 });
    expect(mnist.code, mnist.stderr).toBe(0);
    comparison = join(tempDir('gan-report-cmp-'), 'comparison.html');
    const cmp = await runCli('report', [runs.toy, runs.mnist, '--out', comparison]);
    expect(cmp.code, cmp.stderr).toBe(0);
    browser = await launchChromium({ webgpu: false });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
  });

  test.each(['toy', 'mnist'] as const)('the %s run: no error, no request, charts drawn, the slider on the last frame, the GIF whole', async (which) => {
    const dir = runs[which];
    const { page, trouble } = await openReport(join(dir, 'report.html'));
    await page.screenshot({ path: join(ARTIFACTS, `report-${which}.png`), fullPage: true });
    expect(trouble).toEqual([]);

    // Losses (D red, G blue), D's outputs (D(x) green, D(G(z)) orange) and it/s (purple), each drawn.
    const charts = await chartPixels(page, ['#d62728', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd']);
    expect(charts.map((c) => c.chart)).toEqual(['losses', 'outputs', 'speed']);
    for (const c of charts) {
      expect(c.width, c.chart).toBeGreaterThan(200);
      expect(c.drawn, c.chart).toBeGreaterThan(1000);
    }
    const [losses, outputs, speed] = charts;
    expect(losses.byColor[0] > 30 && losses.byColor[1] > 30, `losses ${losses.byColor}`).toBe(true);
    expect(outputs.byColor[2] > 30 && outputs.byColor[3] > 30, `outputs ${outputs.byColor}`).toBe(true);
    expect(speed.byColor[4], `speed ${speed.byColor}`).toBeGreaterThan(30);

    // The slider stands on the last frame, whose picture is the last PNG in samples/.
    const files = frameFiles(dir);
    const frames = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).frames;
    expect(files).toHaveLength(frames.count);
    const lastIteration = frameIteration(files.at(-1)!)!;
    const shown = await sliderState(page);
    expect([shown.value, shown.max, shown.iteration]).toEqual([files.length - 1, files.length - 1, lastIteration]);
    expect(shown.label).toBe(`iteration ${lastIteration} (frame ${files.length} of ${files.length})`);
    const lastPng = readFileSync(join(dir, FRAMES_DIR, files.at(-1)!));
    expect(shown.images).toHaveLength(1);
    expect(shown.images[0].src).toBe(`data:image/png;base64,${lastPng.toString('base64')}`);
    expect(shown.images[0].complete).toBe(true);
    expect(shown.images[0].width).toBe(lastPng.readUInt32BE(16));

    // Moving the slider shows the first frame.
    await page.locator('[data-testid=frame-slider]').fill('0');
    const first = await sliderState(page);
    expect([first.iteration, first.images[0].iteration]).toEqual([0, 0]);
    expect(first.images[0].src).toBe(`data:image/png;base64,${readFileSync(join(dir, FRAMES_DIR, files[0])).toString('base64')}`);

    // Chromium decodes samples.gif to the frames config.json states.
    const gif = await chromiumGifFrames(page, new Uint8Array(readFileSync(join(dir, 'samples.gif'))));
    expect(gif).toEqual({ frames: frames.count, width: lastPng.readUInt32BE(16), height: lastPng.readUInt32BE(20) });
    expect(trouble).toEqual([]);
    await page.context().close();
  });

  test('the comparison: no error, no request, every chart with both runs, one picture per run on the slider', async () => {
    const { page, trouble } = await openReport(comparison);
    await page.screenshot({ path: join(ARTIFACTS, 'report-comparison.png'), fullPage: true });
    expect(trouble).toEqual([]);
    // Runs are drawn in the first two run colours.
    const charts = await chartPixels(page, ['#1f77b4', '#d62728']);
    expect(charts.map((c) => c.chart)).toEqual(['dLoss', 'gLoss', 'dReal', 'dFake', 'itPerSec']);
    for (const c of charts) expect(c.byColor.every((n) => n > 30), `${c.chart}: ${c.byColor}`).toBe(true);
    const shown = await sliderState(page);
    // The slider runs over every iteration either run has a frame at; each run shows its latest.
    const iterations = [...new Set([...frameFiles(runs.toy), ...frameFiles(runs.mnist)].map((n) => frameIteration(n)!))].sort((a, b) => a - b);
    expect([shown.value, shown.max, shown.iteration]).toEqual([iterations.length - 1, iterations.length - 1, 200]);
    expect(shown.images.map((i) => i.iteration)).toEqual([200, 60]);
    expect(shown.images.every((i) => i.complete && i.width > 0)).toBe(true);
    const names = await page.locator('[data-testid=config-diff] tr td:first-child').allTextContents();
    expect(names).toEqual(expect.arrayContaining(['preset', 'data.kind', 'iterations', 'optimizerG.lr']));
    expect(existsSync(comparison)).toBe(true);
    await page.context().close();
  });
});
