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
