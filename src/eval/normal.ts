// How far a 1-D sample is from a normal distribution: the Wasserstein-1 distance between the
// sample's empirical distribution and N(mean, std^2), in the data's units. One figure that sees
// a wrong mean, a wrong width and a wrong shape alike (moments alone miss the shape); for two
// normals it is |dmean| when only the means differ and |dstd| * sqrt(2/pi) when only the widths do.

/** The standard normal CDF via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** The integral of the standard normal CDF from -infinity to z. */
function cdfIntegral(z: number): number {
  return z * normalCdf(z) + Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

/**
 * W1 = integral of |F_n(x) - Phi((x - mean) / std)| dx, exactly: F_n is constant between sorted
 * samples, and the integral of Phi has a closed form; an interval where Phi crosses F_n is split
 * where it does (found by bisection). Infinity if a sample is not finite.
 */
export function wasserstein1ToNormal(samples: ArrayLike<number>, mean: number, std: number): number {
  const n = samples.length;
  if (n === 0) throw new RangeError('wasserstein1ToNormal: no samples');
  if (!(std > 0) || !Number.isFinite(std) || !Number.isFinite(mean)) throw new RangeError(`wasserstein1ToNormal: need a finite mean and std > 0, got ${mean}, ${std}`);
  const z = Float64Array.from(samples, (v) => (v - mean) / std);
  if (z.some((v) => !Number.isFinite(v))) return Infinity;
  z.sort();
  // Below the first sample F_n is 0, above the last 1: the tails of Phi and of 1 - Phi.
  let total = cdfIntegral(z[0]) + cdfIntegral(-z[n - 1]);
  for (let i = 0; i < n - 1; i++) {
    const [a, b, c] = [z[i], z[i + 1], (i + 1) / n];
    if (b === a) continue;
    const above = c >= normalCdf(a);
    const below = c <= normalCdf(b);
    if (above && !below) total += c * (b - a) - (cdfIntegral(b) - cdfIntegral(a));
    else if (!above && below) total += cdfIntegral(b) - cdfIntegral(a) - c * (b - a);
    else if (above && below) {
      let [lo, hi] = [a, b];
      for (let k = 0; k < 60 && hi - lo > 1e-15 * Math.max(1, Math.abs(lo)); k++) {
        const m = 0.5 * (lo + hi);
        if (normalCdf(m) < c) lo = m;
        else hi = m;
      }
      const m = 0.5 * (lo + hi);
      total += c * (m - a) - (cdfIntegral(m) - cdfIntegral(a)) + (cdfIntegral(b) - cdfIntegral(m)) - c * (b - m);
    }
  }
  return total * std;
}
