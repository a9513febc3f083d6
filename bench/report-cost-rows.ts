// What keeping a run's record (a sample frame every few windows, samples.gif and report.html
// rewritten at each checkpoint) costs training, measured in one process on one trainer: blocks
// of a few windows, alternately with the record and without (ABBA), trained as `npm run train`
// trains (metrics appended to metrics.csv; a checkpoint and samples.png every 10 windows). Alternating blocks of a few seconds within one process keeps
// slow changes in the load of the rest of the machine out of the ratio; on a machine shared with
// other jobs single blocks still vary widely, so the record's own work is also measured apart
// (process CPU time of frames and reports) and set against training's CPU time. Node only.

import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostData } from '../src/data/source.ts';
import { saveCheckpoint } from '../src/gan/checkpoint.ts';
import type { GanConfig } from '../src/gan/config.ts';
import { GanTrainer } from '../src/gan/trainer.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { writeFileAtomic, writePng } from '../src/cli/files.ts';
import { reportAssets } from '../src/report/assets-node.ts';
import { FRAMES_DIR, frameFileName, frameIteration } from '../src/report/frame.ts';
import { encodeFrame, type EncodedFrame } from '../src/report/frame-node.ts';
import { assembleGif } from '../src/report/gif.ts';
import { runReportHtml } from '../src/report/html.ts';
import { RunRecorder } from '../src/report/recorder-node.ts';
import { readRunDir } from '../src/report/run-dir-node.ts';
import type { FrameSchedule } from '../src/report/schedule.ts';
import { previewSamples } from '../src/viz/samples.ts';

export interface RecordCostOptions {
  ctx: GpuContext;
  config: GanConfig;
  host: HostData;
  /** Timed blocks (a multiple of 4 keeps ABBA whole). */
  blocks: number;
  /**
   * Metrics windows per block (default 10). Checkpoints come every 10 windows of the whole
   * run, as npm run train's, whatever block they fall in; short blocks alternate faster.
   */
  windowsPerBlock?: number;
  log?: (line: string) => void;
}

export interface ModeFigures {
  iterations: number;
  seconds: number;
  itPerSec: number;
  /** Process CPU seconds (the software adapter's threads included) per 1,000 iterations. */
  cpuPer1000: number;
}

export interface RecordCost {
  withRecord: ModeFigures;
  without: ModeFigures;
  /** 1 - it/s with the record / it/s without, over all blocks. */
  slowdown: number;
  /** The median over each ABBA group of four blocks of its own slowdown: less swayed by a burst of load elsewhere. */
  medianGroupSlowdown: number;
  /** Frames taken in the timed blocks with the record. */
  frames: number;
  /** Frames per window with the record: the schedule of the config's whole run. */
  everyWindows: number;
  /** The record's own work, measured apart from training (load on the rest of the machine sways it far less). */
  work: RecordWork;
}

export interface RecordWork {
  /** One frame as the recorder takes it: the sample reads, drawing, encoding, writing. CPU of the whole process, and wall. */
  frameCpuMs: number;
  frameWallMs: number;
  /** samples.gif and report.html rewritten with as many frames as the whole run keeps. */
  reportCpuMs: number;
  reportWallMs: number;
  reportFrames: number;
  /**
   * That work over the CPU time of training without the record, for a frame every scheduled
   * window and a report every checkpoint interval (10 windows) as large as the last one: an
   * upper bound of what the record takes from training.
   */
  share: number;
}

/** Times `work` `reps` times: process CPU and wall milliseconds per repetition. */
async function timed(reps: number, work: (rep: number) => Promise<void>): Promise<{ cpuMs: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const began = performance.now();
  for (let r = 0; r < reps; r++) await work(r);
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000 / reps, wallMs: (performance.now() - began) / reps };
}

/**
 * The record's work apart from training: frames taken as the recorder takes them, then the GIF
 * and the report of a directory filled up to the whole run's frame count.
 */
async function recordWork(trainer: GanTrainer, dir: string, schedule: FrameSchedule, trainingCpuPer1000: number): Promise<RecordWork> {
  let last: EncodedFrame | null = null;
  const frame = await timed(5, async () => {
    last = encodeFrame(trainer.iteration, (await previewSamples(trainer, { upscale: false })).image);
    await writeFileAtomic(join(dir, FRAMES_DIR, frameFileName(trainer.iteration)), last.png);
  });
  // Copies of the last frame, at iterations past the trainer's, up to the run's frame count.
  const present = readdirSync(join(dir, FRAMES_DIR)).filter((n) => frameIteration(n) !== null).length;
  for (let k = 1; k <= schedule.count - present; k++) writeFileSync(join(dir, FRAMES_DIR, frameFileName(trainer.iteration + k)), last!.png);
  const reportFrames = Math.max(schedule.count, present);
  const pieces = Array.from({ length: reportFrames }, () => last!.gif);
  const report = await timed(3, async () => {
    await writeFileAtomic(join(dir, 'samples.gif'), assembleGif(pieces));
    const run = await readRunDir(dir, { checkpointIteration: trainer.iteration });
    await writeFileAtomic(join(dir, 'report.html'), runReportHtml(run, reportAssets()));
  });
  const logEvery = trainer.config.logEvery;
  const framesPer1000 = 1000 / schedule.everyIterations;
  const reportsPer1000 = 1000 / (10 * logEvery);
  const share = (framesPer1000 * frame.cpuMs + reportsPer1000 * report.cpuMs) / 1000 / trainingCpuPer1000;
  return { frameCpuMs: frame.cpuMs, frameWallMs: frame.wallMs, reportCpuMs: report.cpuMs, reportWallMs: report.wallMs, reportFrames, share };
}

/** Trains blocks alternately with and without the run's record and returns both speeds. */
export async function measureRecordCost(options: RecordCostOptions): Promise<RecordCost> {
  const { ctx, config, host } = options;
  const windowsPerBlock = options.windowsPerBlock ?? 10;
  const blockIterations = windowsPerBlock * config.logEvery;
  const dir = mkdtempSync(join(tmpdir(), 'gan-record-cost-'));
  const trainer = await GanTrainer.create(ctx, config, host);
  try {
    const csv = join(dir, 'metrics.csv');
    writeFileSync(csv, 'iteration,d_loss,g_loss,d_real,d_fake,it_per_s\n');
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const recorder = await RunRecorder.open({ dir, trainer, continuing: false, writeFile: writeFileAtomic });
    const checkpointEvery = 10 * config.logEvery;
    const block = async (record: boolean) => {
      const end = trainer.iteration + blockIterations;
      while (trainer.iteration < end) {
        // As npm run train: checkpoints every 10 windows of the whole run, frames on the schedule.
        const checkpointAt = Math.min(end, (Math.floor(trainer.iteration / checkpointEvery) + 1) * checkpointEvery);
        await trainer.run(checkpointAt - trainer.iteration, {
          afterWindow: record ? recorder.afterWindow : undefined,
          onMetrics: (m) => appendFileSync(csv, `${m.iteration},${m.dLoss},${m.gLoss},${m.dReal},${m.dFake},${m.itPerSec.toFixed(2)}\n`),
        });
        if (record) recorder.frame();
        if (trainer.iteration % checkpointEvery === 0) {
          await writeFileAtomic(join(dir, 'checkpoint.safetensors'), await saveCheckpoint(trainer));
          await writePng(join(dir, 'samples.png'), (await previewSamples(trainer)).image);
          if (record) recorder.checkpoint(trainer.iteration);
        }
      }
      // The record's work of this block finishes in this block's time.
      if (record) await recorder.idle();
    };
    // Untimed: builds the sampling workspaces and warms every path.
    await block(true);
    await block(false);
    const framesBefore = recorder.frameCount;
    const totals = { true: { iterations: 0, seconds: 0, cpu: 0 }, false: { iterations: 0, seconds: 0, cpu: 0 } };
    const groups: { true: number; false: number }[] = [];
    for (let b = 0; b < options.blocks; b++) {
      const record = b % 4 === 0 || b % 4 === 3;
      const began = performance.now();
      const cpu = process.cpuUsage();
      await block(record);
      const used = process.cpuUsage(cpu);
      const t = totals[`${record}`];
      t.iterations += blockIterations;
      t.seconds += (performance.now() - began) / 1000;
      t.cpu += (used.user + used.system) / 1e6;
      if (b % 4 === 0) groups.push({ true: 0, false: 0 });
      groups[groups.length - 1][`${record}`] += (performance.now() - began) / 1000;
      options.log?.(`  block ${b + 1}/${options.blocks} ${record ? 'with the record' : 'without      '}: ${(blockIterations / ((performance.now() - began) / 1000)).toFixed(1)} it/s`);
    }
    const figures = (t: { iterations: number; seconds: number; cpu: number }): ModeFigures => ({
      iterations: t.iterations,
      seconds: t.seconds,
      itPerSec: t.iterations / t.seconds,
      cpuPer1000: (t.cpu / t.iterations) * 1000,
    });
    const withRecord = figures(totals.true);
    const without = figures(totals.false);
    // Seconds with over seconds without, per whole group: the slowdown is 1 - without / with.
    const ratios = groups.filter((g) => g.true && g.false).map((g) => 1 - g.false / g.true).sort((a, b) => a - b);
    const medianGroupSlowdown = ratios.length ? ratios[Math.floor((ratios.length - 1) / 2)] : NaN;
    const frames = recorder.frameCount - framesBefore;
    const work = await recordWork(trainer, dir, recorder.schedule, without.cpuPer1000);
    return { withRecord, without, slowdown: 1 - withRecord.itPerSec / without.itPerSec, medianGroupSlowdown, frames, everyWindows: recorder.schedule.everyWindows, work };
  } finally {
    trainer.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as one line. */
export function describeRecordCost(name: string, cost: RecordCost): string {
  const w = cost.withRecord;
  const o = cost.without;
  return (
    `${name}: ${w.itPerSec.toFixed(1)} it/s with the record (a frame every ${cost.everyWindows} window(s), ${cost.frames} frames; GIF and report at every checkpoint), ` +
    `${o.itPerSec.toFixed(1)} without: ${(cost.slowdown * 100).toFixed(1)}% slower (median over ABBA groups ${(cost.medianGroupSlowdown * 100).toFixed(1)}%); CPU ${w.cpuPer1000.toFixed(1)} / ${o.cpuPer1000.toFixed(1)} s per 1,000 iterations. ` +
    `The record's work apart: ${cost.work.frameCpuMs.toFixed(0)} CPU-ms (${cost.work.frameWallMs.toFixed(0)} ms wall) a frame, ` +
    `${cost.work.reportCpuMs.toFixed(0)} CPU-ms (${cost.work.reportWallMs.toFixed(0)} ms wall) for the GIF and report of ${cost.work.reportFrames} frames: ` +
    `at most ${(cost.work.share * 100).toFixed(1)}% of training's CPU time`
  );
}
