// Reads a run directory (what `npm run train` writes) into the report's model. Files are
// hostile until checked: a missing or damaged file becomes a problem the report names, and what
// can be read is still shown. Only a path that holds no run at all is refused.

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { readCheckpoint } from '../gan/checkpoint.ts';
import { FRAMES_DIR, frameIteration, pngDamage } from './frame.ts';
import { parseMetricsCsv, type ReportFrame, type RunData } from './model.ts';

/** A path that is not a run directory; the message names it. */
export class RunDirError extends Error {
  override name = 'RunDirError';
}

/** The files whose presence makes a directory a run's. */
const RUN_MARKERS = ['config.json', 'metrics.csv', 'checkpoint.safetensors', FRAMES_DIR];

export interface ReadRunOptions {
  /**
   * The checkpoint's iteration when the caller knows it (the trainer that just saved it): the
   * checkpoint is then not read back.
   */
  checkpointIteration?: number;
}

function errnoWords(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = { EACCES: 'permission denied', EISDIR: 'it is a directory', EIO: 'input/output error' };
  return code ? `${words[code] ?? 'cannot read it'} (${code})` : (e as Error).message;
}

/**
 * A file's bytes, or null with the reason added to `problems`: it cannot be read, or it does
 * not exist and `ifMissing` says what that costs (optional files pass none).
 */
async function readRunFile(path: string, name: string, problems: string[], ifMissing?: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${name}: ${errnoWords(e)}`);
    else if (ifMissing !== undefined) problems.push(`${name} is missing${ifMissing ? `: ${ifMissing}` : ''}`);
    return null;
  }
}

function parseJsonObject(bytes: Uint8Array, name: string, problems: string[]): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    problems.push(`${name} is not valid JSON (${bytes.length ? 'cut short by an interrupted write?' : 'empty'}): ${(e as Error).message}`);
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${name} does not hold a JSON object`);
    return null;
  }
  return value as Record<string, unknown>;
}

async function readFrames(dir: string, problems: string[]): Promise<ReportFrame[]> {
  let names: string[];
  try {
    names = await readdir(join(dir, FRAMES_DIR));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    problems.push(code === 'ENOENT' ? `${FRAMES_DIR}/ is missing: no sample frames (a run trained with --no-report, or before runs kept frames)` : `${FRAMES_DIR}/: ${errnoWords(e)}`);
    return [];
  }
  const found = names.map((name) => ({ name, iteration: frameIteration(name) })).filter((f): f is { name: string; iteration: number } => f.iteration !== null);
  found.sort((a, b) => a.iteration - b.iteration);
  const frames: ReportFrame[] = [];
  for (const f of found) {
    const shown = `${FRAMES_DIR}/${f.name}`;
    const png = await readRunFile(join(dir, FRAMES_DIR, f.name), shown, problems, 'removed while it was read');
    if (!png) continue;
    const damage = pngDamage(png);
    if (damage) problems.push(`${shown} is damaged (${damage}); left out`);
    else frames.push({ iteration: f.iteration, png });
  }
  if (!found.length) problems.push(`${FRAMES_DIR}/ holds no frames`);
  return frames;
}

/** Everything the report shows of the run in `dir`; throws RunDirError when `dir` holds no run. */
export async function readRunDir(dir: string, options: ReadRunOptions = {}): Promise<RunData> {
  let info;
  try {
    info = await stat(dir);
  } catch (e) {
    throw new RunDirError(`${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : errnoWords(e)}`);
  }
  if (!info.isDirectory()) throw new RunDirError(`${dir} is not a directory (a run directory holds config.json, metrics.csv, checkpoint.safetensors and samples/)`);
  const present = (await readdir(dir)).filter((n) => RUN_MARKERS.includes(n));
  if (!present.length) throw new RunDirError(`${dir} holds no run: none of ${RUN_MARKERS.join(', ')} is there`);

  const problems: string[] = [];
  const configBytes = await readRunFile(join(dir, 'config.json'), 'config.json', problems, '');
  let config = configBytes ? parseJsonObject(configBytes, 'config.json', problems) : null;

  let checkpointIteration = options.checkpointIteration ?? null;
  if (options.checkpointIteration === undefined) {
    const bytes = await readRunFile(join(dir, 'checkpoint.safetensors'), 'checkpoint.safetensors', problems, '');
    if (bytes) {
      try {
        const ckpt = readCheckpoint(bytes, 'checkpoint.safetensors');
        checkpointIteration = ckpt.iteration;
        if (!config) {
          config = ckpt.config as unknown as Record<string, unknown>;
          problems.push('the config shown is the one in checkpoint.safetensors');
        }
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
  }

  const csv = await readRunFile(join(dir, 'metrics.csv'), 'metrics.csv', problems, 'no curves');
  let metrics: RunData['metrics'] = [];
  if (csv) {
    const parsed = parseMetricsCsv(new TextDecoder().decode(csv));
    metrics = parsed.rows;
    problems.push(...parsed.problems);
  }

  const frames = await readFrames(dir, problems);
  const evalBytes = await readRunFile(join(dir, 'eval.json'), 'eval.json', problems);
  const evaluation = evalBytes ? parseJsonObject(evalBytes, 'eval.json', problems) : null;
  return { name: basename(resolve(dir)), dir, config, metrics, frames, evaluation, checkpointIteration, problems };
}
