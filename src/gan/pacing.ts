// How long the trainer sleeps before reading a window's metrics back. The GPU runs windows back
// to back, so a window ends about `iterations` iterations after the later of its submission and
// the previous window's end. Sleeping through most of that before mapping keeps Dawn's Node
// binding from busy-polling a core away from a CPU adapter; the estimate of an iteration's time
// comes from the windows before.
//
// A read that resolves at once after the sleep found the window already done: the time measured
// is then the sleep, an overestimate, taken as it is (10% under the last estimate). From the
// third such window in a row the estimate is plainly too long (one slow window, such as the
// first, would keep later sleeps long for dozens of windows) and each shrinks it by a further
// fifth; noise, whose oversleeps come alone or in pairs, does not cut the sleeps short (a read
// waiting on the GPU polls a core).
//
// The estimate at most doubles from one window to the next. A window that took minutes because
// the process was stopped and continued (Ctrl-Z and fg, a suspended laptop or VM) would otherwise
// set sleeps of minutes for the windows after it, with the GPU idle through each; a real
// slowdown still reaches its rate within a few windows, polling meanwhile.

/** The share of a window's expected time slept through before reading its metrics. */
export const SLEEP_SHARE = 0.9;
/** A read resolving this soon after the sleep before it found the window already done. */
export const OVERSLEPT_MS = 2;
/** How much more each overslept window in a row, from the third, shrinks the estimate. */
export const OVERSLEEP_SHRINK = 0.8;
/** The most the estimate grows from one window to the next. */
export const MAX_GROWTH = 2;

export class ReadPacer {
  /** Wall milliseconds per iteration (0 until a window completes: no sleep). */
  msPerIteration = 0;
  /** Windows in a row whose read found them already done. */
  private oversleeps = 0;

  /**
   * The sleep before reading a window of `iterations` that started on the GPU at `started`
   * (ms, the clock of `now`), and the time left in it by the estimate.
   */
  plan(iterations: number, started: number, now: number): { sleep: number; idle: number } {
    const idle = started + iterations * this.msPerIteration - now;
    return { sleep: idle > 2 ? SLEEP_SHARE * idle : 0, idle };
  }

  /**
   * The window's read woke at `woke` and resolved at `done`: the estimate follows. Oversleeps
   * are judged only where the sleep left enough of the window that a read finding it done says
   * something.
   */
  settle(iterations: number, started: number, plan: { sleep: number; idle: number }, woke: number, done: number): void {
    const measured = (done - started) / iterations;
    const overslept = plan.idle - plan.sleep > 2 * OVERSLEPT_MS && done - woke < OVERSLEPT_MS;
    this.oversleeps = overslept ? this.oversleeps + 1 : 0;
    const next = measured * OVERSLEEP_SHRINK ** Math.max(0, this.oversleeps - 2);
    this.msPerIteration = this.msPerIteration > 0 ? Math.min(next, MAX_GROWTH * this.msPerIteration) : next;
  }
}
