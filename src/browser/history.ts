// What a checkpoint saved by the page carries beside the training state: the charts' history
// (metric windows and quality measurements), so loading it brings the charts back as they were
// at its iteration, and, for a run on drawn or loaded points, those points, so it can be loaded
// where they are not at hand. Both are safetensors metadata, which every reader of checkpoints
// (the CLIs included) passes over.

import { CheckpointError, decodeSafetensors, encodeSafetensors } from '../io/safetensors.ts';
import type { Dataset } from '../data/dataset.ts';
import type { MetricRow } from './charts.ts';
import type { QualityRow } from './quality.ts';

export const HISTORY_KEY = 'page.history';
export const POINTS_KEY = 'page.points';
const HISTORY_FORMAT = 'webgpu-gan-page-history/1';

export interface PageHistory {
  metrics: MetricRow[];
  quality: QualityRow[];
}

/** Non-finite numbers (a phase that summed nothing, a distance not yet known) travel as null. */
function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function numberOrNaN(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

export function encodeHistory(history: PageHistory): string {
  return JSON.stringify({
    format: HISTORY_FORMAT,
    // Columns, not objects: a long run's history stays a few hundred kB.
    metrics: history.metrics.map((m) => [m.iteration, m.dLoss, m.gLoss, m.dReal, m.dFake].map(finiteOrNull)),
    quality: history.quality.map((q) =>
      q.kind === 'modes'
        ? ['modes', q.iteration, q.modesCovered, q.modes, finiteOrNull(q.highQualityShare)]
        : ['classifier', q.iteration, q.histogram, q.classesCovered, finiteOrNull(q.klFromUniform), finiteOrNull(q.frechet)],
    ),
  });
}

/** The history in a checkpoint's metadata, rows past `iteration` dropped; null when it has none or it is unreadable. */
export function decodeHistory(text: string | undefined, iteration: number): PageHistory | null {
  if (text === undefined) return null;
  try {
    const raw = JSON.parse(text);
    if (raw?.format !== HISTORY_FORMAT || !Array.isArray(raw.metrics) || !Array.isArray(raw.quality)) return null;
    const metrics: MetricRow[] = [];
    for (const r of raw.metrics) {
      if (!Array.isArray(r) || !Number.isInteger(r[0]) || r[0] > iteration) continue;
      metrics.push({ iteration: r[0], dLoss: numberOrNaN(r[1]), gLoss: numberOrNaN(r[2]), dReal: numberOrNaN(r[3]), dFake: numberOrNaN(r[4]) });
    }
    const quality: QualityRow[] = [];
    for (const r of raw.quality) {
      if (!Array.isArray(r) || !Number.isInteger(r[1]) || r[1] > iteration) continue;
      if (r[0] === 'modes') quality.push({ kind: 'modes', iteration: r[1], modesCovered: numberOrNaN(r[2]), modes: numberOrNaN(r[3]), highQualityShare: numberOrNaN(r[4]) });
      else if (r[0] === 'classifier' && Array.isArray(r[2]) && r[2].every((c: unknown) => Number.isInteger(c))) {
        quality.push({ kind: 'classifier', iteration: r[1], histogram: r[2], classesCovered: numberOrNaN(r[3]), klFromUniform: numberOrNaN(r[4]), frechet: numberOrNaN(r[5]) });
      }
    }
    const increasing = <T extends { iteration: number }>(rows: T[]) => rows.every((r, i) => i === 0 || r.iteration > rows[i - 1].iteration);
    return increasing(metrics) && increasing(quality) ? { metrics, quality } : null;
  } catch {
    return null;
  }
}

/** 2-D points as CSV text that datasetFromCsv reads back to the same float32 values. */
export function pointsCsv(d: Dataset): string {
  if (d.shape.join() !== '2') throw new CheckpointError(`${d.source}: the page keeps 2-D points, not samples of ${d.shape.join('x')}`);
  const lines = ['x,y'];
  for (let i = 0; i < d.count; i++) lines.push(`${d.values[2 * i]},${d.values[2 * i + 1]}`);
  return `${lines.join('\n')}\n`;
}

/** Checkpoint bytes with the page's metadata added (the tensors untouched). */
export function withPageMetadata(bytes: Uint8Array, extra: { history: PageHistory; points?: Dataset | null }): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes, 'checkpoint');
  const added: Record<string, string> = { [HISTORY_KEY]: encodeHistory(extra.history) };
  if (extra.points) added[POINTS_KEY] = pointsCsv(extra.points);
  for (const key of Object.keys(added)) if (key in metadata) throw new CheckpointError(`checkpoint: metadata '${key}' is already set`);
  return encodeSafetensors(tensors, { ...metadata, ...added });
}
