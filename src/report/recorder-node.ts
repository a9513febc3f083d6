// What `npm run train` keeps beside its checkpoint so a run can be looked at: a frame of the
// fixed-noise samples every few metrics windows (samples/), those frames as samples.gif, and
// report.html. The training loop calls one object: a window was submitted (the run's
// afterWindow), training stopped (a last frame), a checkpoint was saved, finish.
//
// Training never stops for a frame: the run calls afterWindow between windows, where the frame's
// sample reads are submitted (previewSamples submits them before it returns, so training
// submitted next cannot change the picture) and mapped once a later window is read back, so no
// pending map polls a core while the GPU trains. Drawing, encoding and writing happen while the
// next windows train, and the GIF and the report are rewritten after each checkpoint the same
// way; `finish` waits for all of it.

import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { GanTrainer } from '../gan/trainer.ts';
import { previewSamples } from '../viz/samples.ts';
import { reportAssets } from './assets-node.ts';
import { decodeFrame, FRAMES_DIR, frameFileName, frameIteration, pngDamage } from './frame.ts';
import { encodeFrame } from './frame-node.ts';
import { assembleGif, gifFrame, indexColors, type GifFrame } from './gif.ts';
import { runReportHtml } from './html.ts';
import { readRunDir } from './run-dir-node.ts';
import { frameSchedule, onSchedule, type FrameSchedule } from './schedule.ts';

/** Files the record adds to a run directory, beside the frames in samples/. */
export const RECORD_FILES = ['samples.gif', 'report.html'] as const;

/** Writes a whole file or nothing (the command-line tools' writeFileAtomic). */
export type WriteFile = (path: string, data: Uint8Array | string) => Promise<void>;

export interface RecorderOptions {
  /** The run directory (it exists). */
  dir: string;
  /** The trainer, restored to the iteration the run starts from. */
  trainer: GanTrainer;
  /** A points data set's own rows, drawn under the samples (as in samples.png). */
  dataPoints?: Float32Array;
  /** The run goes on in its own directory (a resume): its frames up to now are kept. Else any frames there are removed. */
  continuing: boolean;
  writeFile: WriteFile;
}

/** Deletes the record of a run from `dir` (a new run replacing it): the frames, the GIF, the report. */
export async function removeRecord(dir: string): Promise<void> {
  const framesDir = join(dir, FRAMES_DIR);
  for (const name of await readdir(framesDir).catch(() => [] as string[])) {
    if (frameIteration(name) !== null) await unlink(join(framesDir, name));
  }
  for (const f of RECORD_FILES) await unlink(join(dir, f)).catch(() => undefined);
}

export class RunRecorder {
  /** How often frames are taken (written into config.json by the caller). */
  readonly schedule: FrameSchedule;
  private readonly options: RecorderOptions;
  /** Each frame's GIF piece, by iteration. */
  private readonly gifFrames = new Map<number, GifFrame>();
  /** Frames taken or kept, by iteration (the pieces arrive later). */
  private readonly taken = new Set<number>();
  /** The work in flight, in order: frames drawn and written, the GIF and the report rewritten. */
  private work: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private savedAt: number | undefined;
  /** A rewrite of the GIF and the report is queued and has not started. */
  private rewriteWaiting = false;
  /** The checkpoint the GIF and the report last written show, in the order of the work (null: a frame came since). */
  private writtenAt: number | null = null;

  private constructor(options: RecorderOptions, schedule: FrameSchedule) {
    this.options = options;
    this.schedule = schedule;
  }

  /**
   * Opens the record of the run in `dir` at the trainer's iteration. A continuing run keeps its
   * frames up to there for the GIF and loses those after (the part trained again); a new run
   * starts without any. The trainer's current samples become a frame unless one exists.
   */
  static async open(options: RecorderOptions): Promise<RunRecorder> {
    const { dir, trainer } = options;
    const framesDir = join(dir, FRAMES_DIR);
    await mkdir(framesDir, { recursive: false }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw new Error(`cannot create ${framesDir}: ${e.message}`);
    });
    if (!options.continuing) await removeRecord(dir);
    const start = trainer.iteration;
    const kept: { iteration: number; gif: GifFrame }[] = [];
    for (const name of (await readdir(framesDir)).sort()) {
      const iteration = frameIteration(name);
      if (iteration === null) continue;
      const path = join(framesDir, name);
      if (iteration > start) {
        await unlink(path);
        continue;
      }
      const png = new Uint8Array(await readFile(path));
      // A damaged frame stays out of the GIF; the report names it.
      if (pngDamage(png)) continue;
      try {
        kept.push({ iteration, gif: gifFrame(indexColors(decodeFrame(png, `${FRAMES_DIR}/${name}`))) });
      } catch {
        continue;
      }
    }
    const hasStart = kept.some((k) => k.iteration === start);
    const config = trainer.config;
    const recorder = new RunRecorder(options, frameSchedule(config.iterations, config.logEvery, { from: start, kept: kept.length + (hasStart ? 0 : 1) }));
    for (const k of kept) {
      recorder.gifFrames.set(k.iteration, k.gif);
      recorder.taken.add(k.iteration);
    }
    if (!hasStart) recorder.takeFrame();
    return recorder;
  }

  /** Frames the run holds so far (taken or kept). */
  get frameCount(): number {
    return this.taken.size;
  }

  /**
   * The trainer's RunOptions.afterWindow: a frame where the schedule takes one. Never throws
   * (a failure is taken up by the next call outside the run).
   */
  readonly afterWindow = (iteration: number, gpuPast: Promise<void>): void => {
    if (onSchedule(this.schedule, iteration) && !this.taken.has(iteration)) this.takeFrame(gpuPast);
  };

  /**
   * Training stopped (between runs): takes a frame of the trainer's samples if its iteration is
   * on the schedule and has none, or `last` says training stops here (the end, an interrupt).
   * Returns at once; training may go on.
   */
  frame(last = false): void {
    this.throwIfFailed();
    const iteration = this.options.trainer.iteration;
    if ((last || onSchedule(this.schedule, iteration)) && !this.taken.has(iteration)) this.takeFrame();
  }

  /**
   * A checkpoint of iteration `iteration` was saved: the GIF and the report are rewritten. A
   * rewrite still waiting its turn covers later checkpoints too, so checkpoints faster than the
   * writes do not pile up.
   */
  checkpoint(iteration: number): void {
    this.throwIfFailed();
    this.savedAt = iteration;
    if (this.rewriteWaiting) return;
    this.rewriteWaiting = true;
    this.enqueue(() => {
      this.rewriteWaiting = false;
      return this.writeGifAndReport(this.savedAt);
    });
  }

  /** Waits for the frames and files in flight (nothing more is written). Throws the first failure. */
  async idle(): Promise<void> {
    await this.work;
    this.throwIfFailed();
  }

  /**
   * Waits for the frames and files in flight, then rewrites the GIF and the report if training
   * went on since (a run that diverged after its last checkpoint). Throws the first failure.
   */
  async finish(): Promise<void> {
    const iteration = this.options.trainer.iteration;
    this.enqueue(async () => {
      if (this.writtenAt !== iteration) await this.writeGifAndReport(this.savedAt);
    });
    await this.work;
    this.throwIfFailed();
  }

  private takeFrame(gpuPast?: Promise<void>): void {
    const { trainer, dir, dataPoints, writeFile } = this.options;
    const iteration = trainer.iteration;
    this.taken.add(iteration);
    // Submitted now, read back later: the picture is of this iteration whatever trains next.
    const picture = previewSamples(trainer, { dataPoints, upscale: false, mapAfter: gpuPast });
    picture.catch(() => undefined); // its failure is taken up in order, below
    this.enqueue(async () => {
      const frame = encodeFrame(iteration, (await picture).image);
      this.gifFrames.set(iteration, frame.gif);
      this.writtenAt = null;
      await writeFile(join(dir, FRAMES_DIR, frameFileName(iteration)), frame.png);
    });
  }

  /** Writes samples.gif and report.html; `checkpoint` is the iteration of the checkpoint on disk, if this run saved one. */
  private async writeGifAndReport(checkpoint: number | undefined): Promise<void> {
    const { dir, writeFile } = this.options;
    this.writtenAt = checkpoint ?? null;
    const frames = [...this.gifFrames].sort((a, b) => a[0] - b[0]).map(([, f]) => f);
    // Frames of another size (a data set whose pictures changed under a resumed run) cannot share the screen.
    const same = frames.filter((f) => f.width === frames[0]?.width && f.height === frames[0]?.height);
    if (same.length) await writeFile(join(dir, 'samples.gif'), assembleGif(same));
    const run = await readRunDir(dir, { checkpointIteration: checkpoint });
    await writeFile(join(dir, 'report.html'), runReportHtml(run, reportAssets()));
  }

  /** Chains `step` after the work in flight; once a step fails the rest are skipped. */
  private enqueue(step: () => Promise<void>): void {
    this.work = this.work.then(async () => {
      if (this.failure === null) await step();
    }).catch((e) => {
      this.failure ??= e;
    });
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }
}
