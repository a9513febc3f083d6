// Mode coverage on the 2-D mixtures, as PacGAN (Lin et al. 2018, Table 1) computes it, following
// VEEGAN (Srivastava et al. 2017): generate 2,500 samples; assign each to its nearest mode;
// the sample is high quality when that distance is below 3 standard deviations of the mode
// (0.03 on the ring, 0.15 on the grid); a mode is captured when at least one high-quality
// sample is assigned to it. This matches PacGAN's released evaluation code (MetricLogger:
// nearest mode by variance-scaled distance, threshold 3, coverage = modes with a nonzero
// count). Their "reverse KL" is KL(q || uniform) = log K - H(q), q the histogram of the
// high-quality samples over the K modes (their code logs H(q) as the entropy of coverage).
//
// data/toy.ts's modeCoverage (the training tests' floor) shares the assignment and asks a mode
// for at least 1% of the samples (25 of 2,500) before counting it.

import { ShapeError } from '../gpu/errors.ts';
import { assignModes, type Mixture2d } from '../data/toy.ts';

export { HIGH_QUALITY_STDS } from '../data/toy.ts';

/** The papers' sample count. */
export const MODE_SAMPLES = 2500;

export interface ModeReport {
  mixture: string;
  samples: number;
  modes: number;
  /** Modes with at least one high-quality sample. */
  modesCaptured: number;
  /** Share of the samples within 3 std of their nearest mode. */
  highQualityShare: number;
  /** High-quality samples per mode, in the mixture's mode order. */
  countsPerMode: number[];
  /** KL(q || uniform) of the high-quality samples' mode histogram q (nats); null without any. */
  reverseKl: number | null;
}

/** Scores 2-D samples ([n, 2] row-major) against a mixture's modes. */
export function mixtureModes(samples: ArrayLike<number>, mixture: Mixture2d): ModeReport {
  const n = samples.length / 2;
  if (!Number.isInteger(n) || n < 1) throw new ShapeError(`mixtureModes: ${samples.length} values are not a positive number of 2-D points`);
  const k = mixture.centers.length;
  const { highQuality, countsPerMode: counts } = assignModes(samples, mixture);
  let reverseKl: number | null = null;
  if (highQuality > 0) {
    reverseKl = 0;
    for (const c of counts) if (c > 0) reverseKl += (c / highQuality) * Math.log((c / highQuality) * k);
  }
  return {
    mixture: mixture.name,
    samples: n,
    modes: k,
    modesCaptured: counts.filter((c) => c > 0).length,
    highQualityShare: highQuality / n,
    countsPerMode: counts,
    reverseKl,
  };
}
