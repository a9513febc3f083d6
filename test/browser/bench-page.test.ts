// The benchmark page (bench.html + bench/page.ts) built into dist/ and driven in Debian's
// headless Chromium, WebGPU on its bundled SwiftShader: a filtered run of one square matmul
// and the seed-sized GAN, both against TensorFlow.js's WebGPU backend, shows both sides'
// figures and their ratios in the tables, and its JSON download holds the same figures in the
// Node results file's schema; without WebGPU the page says what it needs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BenchResults } from '../../bench/suite.ts';
import { BROWSER_WEBGPU_HINT } from '../../src/gpu/browser.ts';
import { ARTIFACTS, describePage, launchChromium, openPage, startServedPages, START_TIMEOUT_MS } from './harness.ts';

const skip = process.env.SKIP_BROWSER_TESTS === '1';

/** One small square product and the seed-sized GAN's batch-100 row: the rows the run keeps. */
const MATMUL_ROW = 'A·B 256x256x256';
const TRAINING_ROW = 'seed-sized b100';

let server: Server;
let baseUrl: string;
let browser: Browser;

async function state(page: Page): Promise<string> {
  return (await page.getAttribute('[data-testid=status]', 'data-state')) ?? '?';
}

/** A rendered table's rows as records keyed by column header. */
async function tableRows(page: Page, id: string): Promise<Record<string, string>[]> {
  return page.locator(`table[data-table=${id}]`).evaluate((table) => {
    const header = Array.from(table.querySelectorAll('thead th')).map((th) => th.textContent ?? '');
    return Array.from(table.querySelectorAll('tbody tr')).map((tr) => {
      const row: Record<string, string> = {};
      Array.from(tr.querySelectorAll('td')).forEach((td, i) => (row[header[i]] ??= td.textContent ?? ''));
      return row;
    });
  });
}

/** A cell as a positive finite figure (ratio cells end in `x`). */
function figure(row: Record<string, string>, column: string): number {
  const text = row[column];
  expect(text, `column '${column}' in ${JSON.stringify(row)}`).toBeDefined();
  const value = Number(text.replace(/x$/, ''));
  expect(Number.isFinite(value) && value > 0, `'${column}' is '${text}'`).toBe(true);
  return value;
}

describe.skipIf(skip)('the benchmark page in headless Chromium (WebGPU on SwiftShader)', () => {
  beforeAll(async () => {
    ({ server, baseUrl, browser } = await startServedPages());
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  test('without WebGPU it says what the browser needs', async () => {
    const plain = await launchChromium({ webgpu: false });
    try {
      const { page, log } = await openPage(plain);
      await page.goto(`${baseUrl}bench.html?autorun`);
      await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.getAttribute('data-state') !== 'loading', null, { timeout: 30_000 });
      expect(await state(page), await describePage(page, log)).toBe('no-webgpu');
      expect(await page.textContent('[data-testid=error]')).toContain(BROWSER_WEBGPU_HINT);
      expect(await page.isDisabled('[data-testid=run]')).toBe(true);
      expect(log.filter((l) => l.startsWith('page error')), 'uncaught page errors').toEqual([]);
    } finally {
      await plain.close();
    }
  });

  test('a filtered quick run: ours and tfjs side by side in the tables, every figure in the JSON download', async () => {
    const { page, log } = await openPage(browser);
    const filter = `${MATMUL_ROW}|${TRAINING_ROW}`;
    await page.goto(`${baseUrl}bench.html?mode=quick&filter=${encodeURIComponent(filter)}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.getAttribute('data-state') !== 'loading', null, { timeout: 30_000 });
    expect(await state(page), await describePage(page, log)).toBe('ready');
    expect(await page.inputValue('[data-testid=filter]')).toBe(filter);
    expect(await page.isDisabled('[data-testid=download-json]'), 'nothing to download before a run').toBe(true);
    const adapter = (await page.textContent('[data-testid=adapter]')) ?? '';
    expect(adapter).toMatch(/backend browser/);

    const started = Date.now();
    await page.click('[data-testid=run]');
    await page
      .waitForFunction(() => ['done', 'error'].includes(document.querySelector('[data-testid=status]')?.getAttribute('data-state') ?? ''), null, { timeout: 180_000 })
      .catch(async () => {
        throw new Error(`the run did not finish in 180 s; ${await describePage(page, log)}`);
      });
    const seconds = (Date.now() - started) / 1000;
    expect(await state(page), await describePage(page, log)).toBe('done');
    await page.screenshot({ path: join(ARTIFACTS, 'bench-page.png'), fullPage: true });
    expect(await page.locator('[data-testid=progress] li').count(), 'progress lines while it ran').toBeGreaterThanOrEqual(3);
    expect(await page.textContent('[data-testid=tfjs-adapter]')).toMatch(/backend browser/);

    // The tables: both sides' figures and a finite ratio, and no CPU-time columns (a page has no
    // CPU clock for its own threads).
    const matmul = await tableRows(page, 'matmul');
    expect(matmul.map((r) => r['shape (MxKxN)'])).toEqual([MATMUL_ROW]);
    const mm = matmul[0];
    const [oursGflops, tfjsGflops, matmulRatio] = [figure(mm, 'ours (wall)'), figure(mm, 'tf.matMul (wall)'), figure(mm, 'ours / tfjs')];
    figure(mm, mm['engine uses']);
    expect(Object.keys(mm)).not.toContain('per CPU-s: ours');
    const training = await tableRows(page, 'training');
    expect(training.map((r) => r.config)).toEqual([TRAINING_ROW]);
    const tr = training[0];
    const [oursIt, tfjsIt] = [figure(tr, 'ours it/s'), figure(tr, 'tfjs-webgpu it/s'), figure(tr, 'ours / tfjs')];
    expect(Object.keys(tr)).not.toContain('CPU ms/it: ours');
    expect(await tableRows(page, 'costs')).toHaveLength(1);
    expect(await page.textContent('[data-testid=markdown]')).toContain(`| ${MATMUL_ROW} | square |`);

    // The download: the same figures, in the Node results file's schema.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-json]')]);
    expect(download.suggestedFilename()).toMatch(/^google-swiftshader-\d{4}-\d\d-\d\dT[\d-]+Z\.json$/);
    const results = JSON.parse(readFileSync(await download.path(), 'utf8')) as BenchResults;
    expect(results.adapter.line).toBe(adapter);
    expect(results.adapter.backend).toBe('browser');
    expect(results.tfjsAdapter?.sameAdapter).toBe(true);
    expect(results.config).toMatchObject({ subset: 'browser-quick', quick: true, filter, sections: ['matmul', 'conv', 'train'], tfjs: true, tfjsCpu: false, platform: 'browser' });
    expect(new Date(results.finished).getTime()).toBeGreaterThan(new Date(results.started).getTime());
    expect(results.matmul).toHaveLength(1);
    // The page's quick subset has no conv rows (SwiftShader is too slow for them).
    expect(results.conv).toEqual([]);
    const wall = results.matmul[0].wall!;
    expect([wall.ours, wall.tfjs].map((v) => v.toFixed(2))).toEqual([oursGflops, tfjsGflops].map((v) => v.toFixed(2)));
    expect((wall.ours / wall.tfjs).toFixed(2)).toBe(matmulRatio.toFixed(2));
    // NaN CPU times are written as null: no figure pretends to a CPU clock the page lacks.
    expect(wall.oursPerCpuSecond).toBeNull();
    expect(results.training).toHaveLength(1);
    const t = results.training[0];
    expect(t.label).toBe(TRAINING_ROW);
    expect([t.ours.pipelined.itPerSec, t.tfjs!.pipelined.itPerSec].map((v) => v.toFixed(2))).toEqual([oursIt, tfjsIt].map((v) => v.toFixed(2)));
    expect(t.ours.pipelined.cpuMsPerIteration).toBeNull();
    expect(t.costs.dispatchesPerIteration).toBeGreaterThan(0);
    expect(results.seedExperiment).toBeNull();
    expect(results.targets.map((x) => x.name)).toEqual([`${TRAINING_ROW} training vs tfjs-webgpu (it/s)`, `${TRAINING_ROW} dispatches per iteration`]);
    expect(results.targets[1]).toMatchObject({ target: '<= 14', measured: String(t.costs.dispatchesPerIteration) });
    expect(log.filter((l) => l.startsWith('page error')), 'uncaught page errors').toEqual([]);
    console.log(
      `bench page on SwiftShader (run ${seconds.toFixed(1)} s): ${MATMUL_ROW} ours ${mm['ours (wall)']} vs tf.matMul ${mm['tf.matMul (wall)']} GFLOP/s (${mm['ours / tfjs']}); ` +
        `${TRAINING_ROW} ours ${tr['ours it/s']} vs tfjs ${tr['tfjs-webgpu it/s']} it/s (${tr['ours / tfjs']})`,
    );
  }, 240_000);
});
