// The page's fields: reading them, the message beside a field whose value is refused, and what
// a changed field means for a running trainer. Learning rates, k, the real label and the batch
// change the run live (session.update); the seed starts a new run (Reset); the iteration target
// and the quality interval are the page's own.

import { createLoss } from '../loss/index.ts';
import type { GanConfig } from '../gan/config.ts';
import type { LiveChanges } from './session.ts';

/** A value a field refused: the message goes beside the field. */
export class FieldError extends Error {
  override name = 'FieldError';
  readonly input: HTMLInputElement | HTMLSelectElement;
  constructor(input: HTMLInputElement | HTMLSelectElement, message: string) {
    super(message);
    this.input = input;
  }
}

/** The message element beside a field (the .field-error in its label). */
function errorBeside(input: HTMLElement): HTMLElement | null {
  return input.closest('label')?.querySelector<HTMLElement>('.field-error') ?? null;
}

/** Shows (or, with null, clears) the message beside a field. */
export function showFieldError(input: HTMLElement, message: string | null): void {
  const el = errorBeside(input);
  input.toggleAttribute('aria-invalid', message !== null);
  if (!el) return;
  el.textContent = message ?? '';
  el.hidden = message === null;
}

export function readInteger(input: HTMLInputElement, name: string, least: number): number {
  const v = Number(input.value);
  if (input.value.trim() === '' || !Number.isInteger(v) || v < least) throw new FieldError(input, `${name} must be an integer >= ${least}, got '${input.value}'`);
  return v;
}

export function readPositive(input: HTMLInputElement, name: string): number {
  const text = input.value.trim();
  const v = Number(text);
  if (text === '' || !/^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) || !(v > 0) || !Number.isFinite(v)) {
    throw new FieldError(input, `${name} must be a positive number, got '${input.value}'`);
  }
  return v;
}

export interface FormFields {
  batch: HTMLInputElement;
  k: HTMLInputElement;
  lrG: HTMLInputElement;
  lrD: HTMLInputElement;
  realLabel: HTMLInputElement;
  iterations: HTMLInputElement;
  seed: HTMLInputElement;
  qualityEvery: HTMLInputElement;
}

/** Whether the config's loss has targets to smooth (else the real label stays 1). */
export function smoothable(config: GanConfig): boolean {
  return createLoss(config).smoothing;
}

export function readRealLabel(input: HTMLInputElement, config: GanConfig): number {
  const text = input.value.trim();
  const v = Number(text);
  if (text === '' || !Number.isFinite(v) || !(v > 0.5 && v <= 1)) throw new FieldError(input, `Real label must be a number in (0.5, 1], got '${input.value}'`);
  if (v !== 1 && !smoothable(config)) throw new FieldError(input, `the ${config.loss} loss has no targets to smooth: the real label stays 1`);
  return v;
}

/** A default quality interval: about 40 measurements over the preset's run. */
export function defaultQualityEvery(config: GanConfig): number {
  return Math.max(config.logEvery, Math.round(config.iterations / 40));
}

export function fillFields(f: FormFields, config: GanConfig): void {
  f.batch.value = String(config.batch);
  f.k.value = String(config.k);
  f.lrG.value = String(config.optimizerG.lr);
  f.lrD.value = String(config.optimizerD.lr);
  f.realLabel.value = String(config.realLabel ?? 1);
  f.iterations.value = String(config.iterations);
  f.seed.value = String(config.seed);
  f.qualityEvery.value = String(defaultQualityEvery(config));
  for (const input of Object.values(f)) showFieldError(input, null);
}

/**
 * `base` with every field's value; each refused value is shown beside its field and the first
 * is thrown (as a FieldError). The engine's validation follows.
 */
export function configFromFields(f: FormFields, base: GanConfig): GanConfig {
  const config = structuredClone(base);
  const errors: FieldError[] = [];
  const read = <T>(input: HTMLInputElement, fn: () => T, set: (v: T) => void) => {
    try {
      set(fn());
      showFieldError(input, null);
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      showFieldError(input, e.message);
      errors.push(e);
    }
  };
  read(f.batch, () => readInteger(f.batch, 'Batch', 1), (v) => (config.batch = v));
  read(f.k, () => readInteger(f.k, 'k', 1), (v) => (config.k = v));
  read(f.lrG, () => readPositive(f.lrG, 'LR of G'), (v) => (config.optimizerG = { ...config.optimizerG, lr: v }));
  read(f.lrD, () => readPositive(f.lrD, 'LR of D'), (v) => (config.optimizerD = { ...config.optimizerD, lr: v }));
  read(f.realLabel, () => readRealLabel(f.realLabel, config), (v) => (config.realLabel = v === 1 && base.realLabel === undefined ? undefined : v));
  read(f.iterations, () => readInteger(f.iterations, 'Iterations', 0), (v) => (config.iterations = v));
  read(f.seed, () => readInteger(f.seed, 'Seed', 0), (v) => (config.seed = v));
  if (errors.length) throw errors[0];
  if (config.realLabel === undefined) delete config.realLabel;
  return config;
}

/** The live change a field's value makes to `config`, or a FieldError; null for a field that is not live. */
export function liveChange(f: FormFields, input: HTMLInputElement, config: GanConfig): LiveChanges | null {
  switch (input) {
    case f.lrG:
      return { optimizerG: { ...config.optimizerG, lr: readPositive(input, 'LR of G') } };
    case f.lrD:
      return { optimizerD: { ...config.optimizerD, lr: readPositive(input, 'LR of D') } };
    case f.k:
      return { k: readInteger(input, 'k', 1) };
    case f.batch:
      return { batch: readInteger(input, 'Batch', 1) };
    case f.realLabel:
      return { realLabel: readRealLabel(input, config) };
    default:
      return null;
  }
}

/** What a live change says in the status line. */
export function describeChange(changes: LiveChanges): string {
  const parts: string[] = [];
  if (changes.optimizerG) parts.push(`LR of G ${changes.optimizerG.lr}`);
  if (changes.optimizerD) parts.push(`LR of D ${changes.optimizerD.lr}`);
  if (changes.k !== undefined) parts.push(`k ${changes.k}`);
  if (changes.batch !== undefined) parts.push(`batch ${changes.batch}`);
  if (changes.realLabel !== undefined) parts.push(`real label ${changes.realLabel}`);
  return parts.join(', ');
}
