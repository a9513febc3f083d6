// Checkpoints: a trainer's whole state (weights and optimizer state of G and D, the step
// counters and the RNG clock, the iteration) as safetensors, with the resolved config in the
// metadata. Restoring one and training on gives bit-identical results to never stopping.

import type { GpuContext } from '../gpu/context.ts';
import { download, downloadU32, upload } from '../tensor/tensor.ts';
import { validateConfig, type GanConfig } from './config.ts';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type SafeTensor } from '../io/safetensors.ts';
import { GanTrainer, type TrainerOptions } from './trainer.ts';

export const CHECKPOINT_FORMAT = 'webgpu-gan/1';

export async function saveCheckpoint(trainer: GanTrainer): Promise<Uint8Array> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, t] of trainer.stateTensors()) {
    const data = t.dtype === 'u32' ? await downloadU32(trainer.ctx, t) : await download(trainer.ctx, t);
    tensors.set(name, { dtype: t.dtype === 'u32' ? 'U32' : 'F32', shape: [...t.shape], data });
  }
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(trainer.config),
    iteration: String(trainer.iteration),
    adapter: trainer.ctx.adapterLine,
    layout: 'dense layer l: y = act(x @ weight + bias), weight is [in, out] (the transpose of torch.nn.Linear.weight)',
  });
}

export interface CheckpointContents {
  config: GanConfig;
  iteration: number;
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

export function readCheckpoint(bytes: Uint8Array, name = 'checkpoint'): CheckpointContents {
  const { tensors, metadata } = decodeSafetensors(bytes, name);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${name}: not a webgpu-gan checkpoint (format '${metadata.format ?? 'missing'}', expected '${CHECKPOINT_FORMAT}')`);
  }
  let config: GanConfig;
  try {
    config = JSON.parse(metadata.config);
  } catch {
    throw new CheckpointError(`${name}: the config in its metadata is not JSON`);
  }
  validateConfig(config);
  const iteration = Number(metadata.iteration);
  if (!Number.isInteger(iteration) || iteration < 0) throw new CheckpointError(`${name}: bad iteration '${metadata.iteration}'`);
  return { config, iteration, tensors, metadata };
}

/** Loads a checkpoint's tensors into a trainer built from a compatible config. */
export async function restoreCheckpoint(trainer: GanTrainer, ckpt: CheckpointContents, name = 'checkpoint'): Promise<void> {
  const state = trainer.stateTensors();
  for (const [key, t] of state) {
    const saved = ckpt.tensors.get(key);
    if (!saved) throw new CheckpointError(`${name}: tensor '${key}' is missing (was it saved with another architecture or optimizer?)`);
    if (saved.shape.join() !== t.shape.join() || (saved.dtype === 'U32') !== (t.dtype === 'u32')) {
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
