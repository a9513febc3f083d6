// Driving the training page (index.html) in the browser tests: its state, the shown metrics,
// training a preset to a target, downloads, the sample canvas as painted, and the page's
// inspection handle (window.webgpuGanPage).

import { readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { luminanceVariance } from '../../src/viz/image.ts';
import { describePage } from './harness.ts';

export interface Snapshot {
  iteration: number;
  dLoss: number;
  gLoss: number;
  dReal: number;
  dFake: number;
}

export async function snapshot(page: Page): Promise<Snapshot> {
  return page.evaluate(() => {
    const value = (id: string) => Number(document.querySelector<HTMLElement>(`[data-testid=${id}]`)?.dataset.value ?? NaN);
    return { iteration: value('iteration'), dLoss: value('d-loss'), gLoss: value('g-loss'), dReal: value('d-real'), dFake: value('d-fake') };
  });
}

export async function state(page: Page): Promise<string> {
  return (await page.getAttribute('[data-testid=status]', 'data-state')) ?? '?';
}

/** Waits for one of `states`, failing with the page's state, error and console otherwise. */
export async function waitForState(page: Page, log: string[], states: string[], timeoutMs: number): Promise<string> {
  await page
    .waitForFunction((wanted) => wanted.includes(document.querySelector('[data-testid=status]')?.getAttribute('data-state') ?? ''), states, { timeout: timeoutMs })
    .catch(async () => {
      throw new Error(`the page did not reach ${states.join(' or ')}; ${await describePage(page, log)}`);
    });
  return state(page);
}

/** Opens the page on a preset and waits for it to be ready. */
export async function openPreset(page: Page, log: string[], baseUrl: string, presetName: string): Promise<void> {
  await page.goto(`${baseUrl}?preset=${presetName}`);
  expect(await waitForState(page, log, ['ready', 'no-webgpu', 'error'], 30_000), await describePage(page, log)).toBe('ready');
  expect(await page.inputValue('[data-testid=preset]')).toBe(presetName);
}

/** Sets a field as a person does: types the value, then leaves the field (its change event). */
export async function setField(page: Page, testId: string, value: string): Promise<void> {
  await page.fill(`[data-testid=${testId}]`, value);
  await page.locator(`[data-testid=${testId}]`).dispatchEvent('change');
}

/** Sets the iteration target, presses Start and waits for done, keeping each shown window. */
export async function trainTo(page: Page, log: string[], iterations: number, timeoutMs: number): Promise<{ snapshots: Snapshot[]; seconds: number }> {
  await setField(page, 'iterations', String(iterations));
  await page.click('[data-testid=start]');
  const snapshots: Snapshot[] = [];
  const started = Date.now();
  for (;;) {
    const s = await state(page);
    const snap = await snapshot(page);
    if (Number.isFinite(snap.dLoss) && snapshots.at(-1)?.iteration !== snap.iteration) snapshots.push(snap);
    if (s === 'done') break;
    if (s === 'error' || s === 'no-webgpu' || Date.now() - started > timeoutMs) {
      throw new Error(`training did not reach iteration ${iterations} (${s} after ${(Date.now() - started) / 1000} s); ${await describePage(page, log)}`);
    }
    await page.waitForTimeout(200);
  }
  snapshots.push(await snapshot(page));
  return { snapshots, seconds: (Date.now() - started) / 1000 };
}

/** Opens the page on a preset, sets its iteration target, presses Start and waits for done. */
export async function train(page: Page, log: string[], baseUrl: string, presetName: string, iterations: number, timeoutMs: number): Promise<{ snapshots: Snapshot[]; seconds: number }> {
  await openPreset(page, log, baseUrl, presetName);
  return trainTo(page, log, iterations, timeoutMs);
}

/** The luminance variance of the sample canvas as the browser painted it (its CSS border cut off). */
export async function canvasVariance(page: Page, testId = 'samples'): Promise<number> {
  const png = decode(await page.locator(`[data-testid=${testId}]`).screenshot());
  const border = 2;
  const width = png.width - 2 * border;
  const height = png.height - 2 * border;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = ((y + border) * png.width + x + border) * png.channels;
      for (let c = 0; c < 4; c++) rgba[4 * (y * width + x) + c] = c < png.channels ? Number(png.data[src + c]) : 255;
    }
  }
  return luminanceVariance({ width, height, data: rgba });
}

export async function downloadFrom(page: Page, testId: string): Promise<{ bytes: Uint8Array; name: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${testId}]`)]);
  const path = await download.path();
  return { bytes: new Uint8Array(readFileSync(path)), name: download.suggestedFilename() };
}

export function expectTrainingShown(snapshots: Snapshot[], iterations: number, log: string[]): void {
  const last = snapshots.at(-1)!;
  expect(last.iteration, log.join('\n')).toBe(iterations);
  for (const s of snapshots) {
    for (const [k, v] of Object.entries(s)) expect(Number.isFinite(v), `${k} at iteration ${s.iteration} is ${v}`).toBe(true);
    expect(s.dReal).toBeGreaterThanOrEqual(0);
    expect(s.dReal).toBeLessThanOrEqual(1);
  }
  // The display moves: several windows were shown, with different metrics.
  expect(new Set(snapshots.map((s) => s.iteration)).size).toBeGreaterThanOrEqual(2);
  expect(new Set(snapshots.map((s) => s.dLoss)).size).toBeGreaterThanOrEqual(2);
}

export function pageErrors(log: string[]): string[] {
  return log.filter((l) => l.startsWith('page error'));
}

/** max |a - b| and the tolerance check, with the worst index in the message. */
export function expectClose(a: Float32Array, b: Float32Array, tolerance: number, what: string): number {
  expect(a.length, `${what}: lengths`).toBe(b.length);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) [worst, at] = [d, i];
  }
  console.log(`${what}: max |browser - node| = ${worst.toExponential(2)} (tolerance ${tolerance})`);
  expect(worst, `${what}: max |browser - node| = ${worst} at ${at} (${a[at]} vs ${b[at]}), tolerance ${tolerance}`).toBeLessThanOrEqual(tolerance);
  return worst;
}
