// The toy targets: a 1-D normal (the GAN paper's Figure 1) and the 2-D mixtures of PacGAN and
// VEEGAN's mode-collapse benchmarks: 8 Gaussians on the unit circle (std 0.01) and a 5x5 grid
// at {-4, -2, 0, 2, 4}^2 (std 0.05).

export interface Mixture2d {
  name: 'ring8' | 'grid25';
  centers: [number, number][];
  std: number;
}

export const RING8: Mixture2d = {
  name: 'ring8',
  centers: Array.from({ length: 8 }, (_, k) => [Math.cos((2 * Math.PI * k) / 8), Math.sin((2 * Math.PI * k) / 8)] as [number, number]),
  std: 0.01,
};

export const GRID25: Mixture2d = {
  name: 'grid25',
  centers: [-4, -2, 0, 2, 4].flatMap((x) => [-4, -2, 0, 2, 4].map((y) => [x, y] as [number, number])),
  std: 0.05,
};

export const MIXTURES = { ring8: RING8, grid25: GRID25 } as const;

/** The high-quality radius, in standard deviations of a mode (PacGAN, VEEGAN). */
export const HIGH_QUALITY_STDS = 3;

/**
 * Assigns each 2-D sample ([n, 2] row-major) to its nearest mode; it is high quality when
 * strictly within 3 std of it (as PacGAN's released code compares; NaN never is). Returns the
 * high-quality samples per mode, in the mixture's mode order.
 */
export function assignModes(samples: ArrayLike<number>, mixture: Mixture2d): { samples: number; highQuality: number; countsPerMode: number[] } {
  const n = Math.floor(samples.length / 2);
  const counts = new Array<number>(mixture.centers.length).fill(0);
  const radius = HIGH_QUALITY_STDS * mixture.std;
  let highQuality = 0;
  for (let i = 0; i < n; i++) {
    const [x, y] = [samples[2 * i], samples[2 * i + 1]];
    let best = -1;
    let bestDist = Infinity;
    mixture.centers.forEach(([cx, cy], k) => {
      const d = Math.hypot(x - cx, y - cy);
      if (d < bestDist) [best, bestDist] = [k, d];
    });
    if (best >= 0 && bestDist < radius) {
      highQuality++;
      counts[best]++;
    }
  }
  return { samples: n, highQuality, countsPerMode: counts };
}

/**
 * Mode coverage with a share floor: a mode is covered when at least `minShare` of the samples
 * are high-quality samples of it (1% by default: a mode must be visibly populated). The
 * papers' count (a single sample suffices) is eval/modes.ts's mixtureModes.
 */
export function modeCoverage(samples: ArrayLike<number>, mixture: Mixture2d, minShare = 0.01) {
  const { samples: n, highQuality, countsPerMode } = assignModes(samples, mixture);
  const covered = countsPerMode.filter((c) => c > 0 && c >= minShare * n).length;
  return { modesCovered: covered, modes: mixture.centers.length, highQualityShare: n ? highQuality / n : 0, countsPerMode };
}
