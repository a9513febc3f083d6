// When a run keeps a frame of its fixed-noise samples. Frames are taken where a metrics window
// ends (stopping mid-window would split the window and change metrics.csv), every N windows,
// with N chosen so a whole run keeps at most 100 frames and, when it has enough windows, at
// least 50: enough to watch the samples change, few enough to keep the GIF and report small.

/** The most frames a run keeps (iteration 0's included). */
export const MAX_FRAMES = 100;

export interface FrameSchedule {
  /** A frame every this many metrics windows... */
  everyWindows: number;
  /** ...that is, every this many iterations (a multiple of logEvery). */
  everyIterations: number;
  /** Frames the run holds once it reaches its target (those already kept, and the ones to come). */
  count: number;
}

/**
 * The schedule of a run training to `iterations` with metrics every `logEvery`, starting at
 * iteration `from` with `kept` frames up to it, its own included (a new run: 0, and 1 for the
 * frame of the untrained generator).
 */
export function frameSchedule(iterations: number, logEvery: number, start: { from: number; kept: number } = { from: 0, kept: 1 }): FrameSchedule {
  if (!Number.isInteger(iterations) || iterations < 0) throw new RangeError(`frameSchedule: iterations must be an integer >= 0, got ${iterations}`);
  if (!Number.isInteger(logEvery) || logEvery < 1) throw new RangeError(`frameSchedule: logEvery must be a positive integer, got ${logEvery}`);
  const windows = Math.ceil(iterations / logEvery);
  // Frames at every multiple of the period, plus iteration 0 and a last one off the period:
  // a period of ceil(windows / 99) windows keeps that at or under 100.
  const everyWindows = Math.max(1, Math.ceil(windows / (MAX_FRAMES - 1)));
  const everyIterations = everyWindows * logEvery;
  const count = start.kept + framesAfter(start.from, iterations, everyIterations);
  return { everyWindows, everyIterations, count };
}

/** How many frames fall in (from, to]: one per multiple of `every`, and `to` itself. */
function framesAfter(from: number, to: number, every: number): number {
  if (to <= from) return 0;
  const multiples = Math.floor(to / every) - Math.floor(from / every);
  return multiples + (to % every === 0 ? 0 : 1);
}

/** True where the schedule takes a frame. */
export function onSchedule(schedule: FrameSchedule, iteration: number): boolean {
  return iteration % schedule.everyIterations === 0;
}
