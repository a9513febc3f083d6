// The trainer's sleep before each metrics read (src/gan/pacing.ts), on simulated windows: the
// GPU takes `actual` ms per iteration, and a read after the sleep resolves when the window ends,
// or at once (0.3 ms) if it already has.
import { describe, expect, test } from 'vitest';
import { ReadPacer } from '../src/gan/pacing.ts';

const READ_MS = 0.3;

/** Runs windows of `n` iterations back to back; returns the sleeps and the time each read polled. */
function simulate(pacer: ReadPacer, actuals: number[], n = 50) {
  let t = 0;
  const out: { sleep: number; polled: number; estimate: number }[] = [];
  for (const actual of actuals) {
    const started = t;
    const end = started + n * actual;
    const plan = pacer.plan(n, started, started);
    const woke = started + plan.sleep;
    const done = Math.max(woke + READ_MS, end);
    pacer.settle(n, started, plan, woke, done);
    out.push({ sleep: plan.sleep, polled: done - woke, estimate: pacer.msPerIteration });
    t = done;
  }
  return out;
}

describe('the read pacer', () => {
  test('with no estimate it does not sleep; an accurate window sets the estimate', () => {
    const pacer = new ReadPacer();
    const [first, second] = simulate(pacer, [10, 10]);
    expect(first.sleep).toBe(0);
    expect(first.estimate).toBeCloseTo(10, 6);
    expect(second.sleep).toBeCloseTo(0.9 * 50 * 10, 6);
    expect(second.estimate).toBeCloseTo(10, 6);
  });

  test('after one slow window, the sleeps come down to the steady rate within a few windows', () => {
    const pacer = new ReadPacer();
    const windows = simulate(pacer, [100, ...Array(12).fill(10)]);
    // Taking each overslept window as it is would still sleep 3.1x too long after 12 windows
    // (0.9^11 * 100 / 10); from the third oversleep in a row each shrinks it by a further fifth.
    const settledAt = windows.findIndex((w, i) => i > 0 && w.polled > 2);
    expect(settledAt).toBeGreaterThan(0);
    expect(settledAt).toBeLessThanOrEqual(8);
    expect(windows.at(-1)!.estimate).toBeCloseTo(10, 6);
  });

  test('noise does not cut the sleeps short: an oversleep or two in a row only takes the window as measured', () => {
    const pacer = new ReadPacer();
    simulate(pacer, [10]);
    // Two windows that finish early, then the steady rate again.
    const windows = simulate(pacer, [8, 8, 10]);
    expect(windows[0].estimate).toBeCloseTo(9 + READ_MS / 50, 6); // the sleep (0.9 of 10) plus the read
    // The second is taken as measured too (its sleep plus the read), not shrunk further.
    expect(windows[1].estimate).toBeCloseTo(0.9 * windows[0].estimate + READ_MS / 50, 6);
    expect(windows[2].estimate).toBeCloseTo(10, 6);
  });

  test('a window stretched by a stop (Ctrl-Z, then fg) does not set long sleeps: the estimate at most doubles', () => {
    const pacer = new ReadPacer();
    simulate(pacer, [10, 10]);
    // One window 40x the steady rate (the process was stopped for most of it), then steady.
    const windows = simulate(pacer, [400, ...Array(6).fill(10)]);
    expect(windows[0].estimate).toBeCloseTo(20, 6);
    // The next sleeps are at most twice a window's time, and within one from the fifth window
    // on (taking the stretched window as measured slept 36x a window, then 32x, ...).
    for (const w of windows.slice(1)) expect(w.sleep).toBeLessThanOrEqual(2 * 50 * 10);
    for (const w of windows.slice(5)) expect(w.sleep).toBeLessThanOrEqual(50 * 10);
    expect(windows.at(-1)!.estimate).toBeCloseTo(10, 6);
  });

  test('a real slowdown is followed within a few windows', () => {
    const pacer = new ReadPacer();
    simulate(pacer, [10, 10]);
    const windows = simulate(pacer, Array(4).fill(50));
    expect(windows.map((w) => w.estimate)).toEqual([20, 40, 50, 50].map((v) => expect.closeTo(v, 6)));
  });
});
