// Checkpoints: a trainer's whole state (weights and optimizer state of G and D, the step
// counters and the RNG clock, the iteration) as safetensors, with the resolved config in the
// metadata. Restoring one and training on gives bit-identical results to never stopping.

import type { GpuContext } from '../gpu/context.ts';
import { download, downloadU32, upload } from '../tensor/tensor.ts';
import { validateConfig, type GanConfig } from './config.ts';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type SafeTensor } from '../io/safetensors.ts';
import { GanTrainer, type TrainerOptions } from './trainer.ts';
import { Sampler } from './sampler.ts';
import { AVERAGE_STATE } from '../nn/optimizer.ts';

export const CHECKPOINT_FORMAT = 'webgpu-gan/1';

/**
 * How the tensors are laid out, for anyone reading a checkpoint without this code (`npm run
 * export -- --format torch` writes PyTorch's layouts instead).
 */
export const CHECKPOINT_LAYOUT = [
  '<net>.<layer>.<param> with <layer> the index in the config\'s layer list (reshapes and fused activations own no tensors).',
  'Activations are [rows, features]; an image sample is NHWC, feature (y * W + x) * C + c, so a reshape between flat features and [H, W, C] reads that order (torch\'s nn.Flatten / nn.Unflatten read c * H * W + y * W + x).',
  'dense: y = act(x @ weight + bias), weight [in, out] (torch.nn.Linear.weight transposed), bias [out].',
  'conv2d and conv-transpose2d: weight [KH, KW, Cin, Cout] (torch.nn.Conv2d.weight [Cout, Cin, KH, KW] and torch.nn.ConvTranspose2d.weight [Cin, Cout, KH, KW], permuted), bias [Cout]; zero padding on every side.',
  'batchnorm: weight (gamma) and bias (beta) as params, running_mean and running_var (unbiased batch variance) as buffers, per channel (per feature for flat input), momentum 0.1 and eps 1e-5 unless the config says otherwise, as torch.nn.BatchNorm1d/2d.',
  'With spectral normalisation a layer computes with weight / weight_sigma; weight_u and weight_v are the power iteration\'s vectors.',
  'Optimizer state: <net>.<layer>.<param>.<state>, and <net>.optimizer_step; clock is the random draws\' counter.',
  'With optimizerG.average, generator.<layer>.<param>.average is the weights\' moving average and generator.<layer>.<buffer>.average the running statistics that go with it (set by training-mode passes of the average over fresh noise).',
].join(' ');

/** A float tensor holding NaN or infinity: its name, how many such values and of how many. */
export interface NonFiniteTensor {
  name: string;
  count: number;
  total: number;
}

/** The float tensors of `tensors` that hold a NaN or an infinity, in order. */
export function nonFiniteTensors(tensors: ReadonlyMap<string, SafeTensor>): NonFiniteTensor[] {
  const found: NonFiniteTensor[] = [];
  for (const [name, t] of tensors) {
    if (t.dtype !== 'F32') continue;
    let count = 0;
    for (const v of t.data) if (!Number.isFinite(v)) count++;
    if (count) found.push({ name, count, total: t.data.length });
  }
  return found;
}

function describeNonFinite(found: readonly NonFiniteTensor[]): string {
  const shown = found.slice(0, 4).map((f) => `${f.name}: ${f.count} of ${f.total}`);
  if (found.length > 4) shown.push(`and ${found.length - 4} more tensors`);
  return shown.join(', ');
}

/**
 * The trainer's state is not all finite (training diverged, perhaps while its metrics still
 * looked finite), so no checkpoint was built from it. A caller writing checkpoints to disk
 * keeps the previous file.
 */
export class NonFiniteStateError extends CheckpointError {
  override name = 'NonFiniteStateError';
  readonly iteration: number;
  readonly tensors: readonly NonFiniteTensor[];
  constructor(iteration: number, tensors: readonly NonFiniteTensor[]) {
    super(`the training state at iteration ${iteration} holds NaN or infinity (${describeNonFinite(tensors)}); no checkpoint was made of it`);
    this.iteration = iteration;
    this.tensors = tensors;
  }
}

/**
 * The trainer's state as checkpoint bytes. Throws NonFiniteStateError rather than encode a
 * state holding NaN or infinity: such a checkpoint samples garbage and diverges when resumed.
 */
export async function saveCheckpoint(trainer: GanTrainer): Promise<Uint8Array> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, t] of trainer.stateTensors()) {
    const data = t.dtype === 'u32' ? await downloadU32(trainer.ctx, t) : await download(trainer.ctx, t);
    tensors.set(name, { dtype: t.dtype === 'u32' ? 'U32' : 'F32', shape: [...t.shape], data });
  }
  let bad = nonFiniteTensors(tensors);
  if (bad.length) throw new NonFiniteStateError(trainer.iteration, bad);
  if (trainer.optG.average && trainer.G.buffers.size) {
    for (const [key, data] of await averageBuffers(trainer, tensors)) tensors.set(`generator.${key}.${AVERAGE_STATE}`, { dtype: 'F32', shape: [...trainer.G.buffers.get(key)!.shape], data });
    // Statistics made from finite weights may still overflow: they are checked as the state is.
    bad = nonFiniteTensors(tensors);
    if (bad.length) throw new NonFiniteStateError(trainer.iteration, bad);
  }
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(trainer.config),
    iteration: String(trainer.iteration),
    adapter: trainer.ctx.adapterLine,
    layout: CHECKPOINT_LAYOUT,
  });
}

/**
 * The buffers that go with G's weight average (its batch norm's running statistics: the
 * trained weights' would not fit it), made by a sampler of the average from the state being
 * saved, so that whoever reads the checkpoint (sampling, export) needs no GPU passes of its own.
 */
async function averageBuffers(trainer: GanTrainer, tensors: Map<string, SafeTensor>): Promise<Map<string, Float32Array>> {
  const sampler = new Sampler(trainer.ctx, { config: trainer.config, iteration: trainer.iteration, tensors, metadata: {} }, { weights: 'average' });
  try {
    const out = new Map<string, Float32Array>();
    for (const [key, t] of sampler.buffers) out.set(key, await download(trainer.ctx, t));
    return out;
  } finally {
    sampler.destroy();
  }
}

export interface CheckpointContents {
  config: GanConfig;
  iteration: number;
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
  /** The name the checkpoint was read under (its path, for the CLIs), for error messages. */
  source?: string;
}

/**
 * Parses checkpoint bytes and checks everything that can be checked without a trainer: the
 * safetensors structure, the format tag, the config, the iteration, and that every float
 * tensor is finite. Every refusal is a CheckpointError naming `name`.
 */
export function readCheckpoint(bytes: Uint8Array, name = 'checkpoint'): CheckpointContents {
  const { tensors, metadata } = decodeSafetensors(bytes, name);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${name}: not a webgpu-gan checkpoint (format '${metadata.format ?? 'missing'}', expected '${CHECKPOINT_FORMAT}')`);
  }
  if (metadata.config === undefined) throw new CheckpointError(`${name}: its metadata holds no config`);
  let config: GanConfig;
  try {
    config = JSON.parse(metadata.config);
  } catch {
    throw new CheckpointError(`${name}: the config in its metadata is not JSON`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new CheckpointError(`${name}: the config in its metadata is not an object`);
  try {
    validateConfig(config);
  } catch (e) {
    // A damaged config may lack whole sections, which validation meets as a TypeError.
    throw new CheckpointError(`${name}: the config in its metadata is not valid (${(e as Error).message})`);
  }
  const iteration = /^\d+$/.test(metadata.iteration ?? '') ? Number(metadata.iteration) : NaN;
  if (!Number.isSafeInteger(iteration)) throw new CheckpointError(`${name}: bad iteration '${metadata.iteration}'`);
  const bad = nonFiniteTensors(tensors);
  if (bad.length) {
    throw new CheckpointError(
      `${name}: holds NaN or infinity (${describeNonFinite(bad)}), the state of a diverged run; ` + 'resume or sample an earlier checkpoint, or train again with a lower learning rate',
    );
  }
  return { config, iteration, tensors, metadata, source: name };
}

/** Loads a checkpoint's tensors into a trainer built from a compatible config. */
export async function restoreCheckpoint(trainer: GanTrainer, ckpt: CheckpointContents, name = ckpt.source ?? 'checkpoint'): Promise<void> {
  const state = trainer.stateTensors();
  for (const [key, t] of state) {
    const saved = ckpt.tensors.get(key);
    if (!saved) throw new CheckpointError(`${name}: tensor '${key}' is missing (was it saved with another architecture or optimizer?)`);
    const dtype = t.dtype === 'u32' ? 'U32' : t.dtype === 'u8' ? 'U8' : 'F32';
    if (saved.shape.join() !== t.shape.join() || saved.dtype !== dtype) {
      throw new CheckpointError(`${name}: tensor '${key}' is ${saved.dtype}[${saved.shape}], the trainer expects ${t.dtype}[${t.shape}]`);
    }
    upload(trainer.ctx, t, saved.data);
  }
  trainer.ctx.run([...trainer.G.recordRestored(), ...trainer.D.recordRestored()]);
  trainer.setIteration(ckpt.iteration);
  await trainer.ctx.flush();
}

/** A trainer continuing from a checkpoint (its config, with `overrides` such as the iteration target). */
export async function trainerFromCheckpoint(
  ctx: GpuContext,
  ckpt: CheckpointContents,
  options: TrainerOptions & { overrides?: Partial<GanConfig> } = {},
): Promise<GanTrainer> {
  const { overrides, ...host } = options;
  const config = { ...ckpt.config, ...overrides };
  const trainer = await GanTrainer.create(ctx, config, host);
  await restoreCheckpoint(trainer, ckpt);
  return trainer;
}

/**
 * The same training continued under changed settings that keep every state tensor's shape
 * (learning rates, k, the real label, the batch, the objective's variant): a new trainer takes
 * the whole state over on the GPU, as a checkpoint would, and `trainer` is destroyed. Changes
 * that reshape the state (layers) are refused and leave `trainer` as it was.
 */
export async function continueWith(trainer: GanTrainer, changes: Partial<GanConfig>, host: TrainerOptions = {}): Promise<GanTrainer> {
  const next = await GanTrainer.create(trainer.ctx, { ...trainer.config, ...changes }, host);
  const from = trainer.stateTensors();
  const steps = [];
  for (const [key, t] of next.stateTensors()) {
    const old = from.get(key);
    if (!old || old.shape.join() !== t.shape.join() || old.dtype !== t.dtype) {
      next.destroy();
      throw new CheckpointError(`continueWith: '${key}' does not carry over (${old ? `${old.dtype}[${old.shape}] -> ${t.dtype}[${t.shape}]` : 'new'}); this change needs a new run`);
    }
    steps.push(trainer.ctx.copy(old.buffer, t.buffer, t.byteLength, old.byteOffset, t.byteOffset, `carry ${key}`));
  }
  trainer.ctx.run([...steps, ...next.G.recordRestored(), ...next.D.recordRestored()]);
  next.setIteration(trainer.iteration);
  await trainer.ctx.flush();
  trainer.destroy();
  return next;
}
