// The GAN objectives a config may name. A new one is a module beside these and one line here.

import { ShapeError } from '../gpu/errors.ts';
import { bce } from './bce.ts';
import type { GanLoss } from './loss.ts';
import { mse } from './mse.ts';
import { hinge, wasserstein } from './score.ts';

/** What a loss is built from: the config's objective fields. */
export interface LossChoice {
  loss: string;
  /** BCE's G objective. */
  gLoss?: 'non-saturating' | 'minimax';
}

export const LOSSES: Record<string, (c: LossChoice) => GanLoss> = {
  bce: (c) => bce(c.gLoss ?? 'non-saturating'),
  mse: () => mse(),
  hinge: () => hinge(),
  wasserstein: () => wasserstein(),
};

export const LOSS_NAMES = Object.keys(LOSSES);

export function createLoss(c: LossChoice): GanLoss {
  const make = LOSSES[c.loss];
  if (!make) throw new ShapeError(`loss must be one of ${LOSS_NAMES.join(', ')}, got '${c.loss}'`);
  return make(c);
}

export { recordLoss, type DBatch, type GBatch, type GanLoss, type LossTerms } from './loss.ts';
