// Float64 reference optimizers, written for clarity. Each runs several steps with the given
// gradients and also tracks the magnitude each result is built from, which the checks'
// tolerances scale with.

export interface SgdOptions {
  lr: number;
  momentum: number;
  l2: number;
  /** Clip every weight to [-clip, clip] after each step (0 or absent: no clipping). */
  clip?: number;
  /** Only elements [0, decayEnd) take the L2 penalty (default: all). */
  decayEnd?: number;
}

/** WGAN's weight clipping: continuous, so the f32 run stays within its rounding of the reference. */
export function clip(x: number, c: number | undefined): number {
  return c ? Math.min(Math.max(x, -c), c) : x;
}

/** DeepLearnToolbox's nnapplygrads, `steps.length` times: v = momentum v + lr (g + l2 w); w -= v. */
export function sgdMomentum(w0: ArrayLike<number>, v0: ArrayLike<number>, grads: readonly ArrayLike<number>[], o: SgdOptions) {
  const w = Float64Array.from(w0);
  const v = Float64Array.from(v0);
  // Sums of |terms| that entered each value over all steps: the scale of its rounding error.
  const wMagnitude = new Float64Array(w.length);
  const vMagnitude = new Float64Array(w.length);
  const decayEnd = o.decayEnd ?? w.length;
  for (const g of grads) {
    for (let i = 0; i < w.length; i++) {
      const l2 = i < decayEnd ? o.l2 : 0;
      v[i] = o.momentum * v[i] + o.lr * (g[i] + l2 * w[i]);
      vMagnitude[i] += Math.abs(o.momentum * v[i]) + Math.abs(o.lr * g[i]) + Math.abs(o.lr * l2 * w[i]);
      w[i] = clip(w[i] - v[i], o.clip);
      wMagnitude[i] += Math.abs(w[i]) + Math.abs(v[i]);
    }
  }
  return { w, v, wMagnitude, vMagnitude };
}

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay?: number;
  clip?: number;
  /** lr through step `start`, then falling linearly to 0 at step `end`. */
  lrDecay?: { start: number; end: number };
}

/** The share of Adam's learning rate at step t under `lrDecay`. */
export function lrShare(d: AdamOptions['lrDecay'], t: number): number {
  return !d || t <= d.start ? 1 : Math.min(1, Math.max(0, (d.end - t) / (d.end - d.start)));
}

/** Adam from step t0 + 1 to t0 + grads.length, with bias correction and coupled weight decay. */
export function adam(
  w0: ArrayLike<number>,
  m0: ArrayLike<number>,
  v0: ArrayLike<number>,
  t0: number,
  grads: readonly ArrayLike<number>[],
  o: AdamOptions,
) {
  const w = Float64Array.from(w0);
  const m = Float64Array.from(m0);
  const v = Float64Array.from(v0);
  const wd = o.weightDecay ?? 0;
  const wMagnitude = new Float64Array(w.length);
  const mMagnitude = new Float64Array(w.length);
  grads.forEach((g, s) => {
    const t = t0 + s + 1;
    const c1 = 1 - o.beta1 ** t;
    const c2 = 1 - o.beta2 ** t;
    const lr = o.lr * lrShare(o.lrDecay, t);
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] + wd * w[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * gi;
      // |m|'s twin with |terms|: where m cancels, its rounding error is relative to this.
      mMagnitude[i] = o.beta1 * mMagnitude[i] + (1 - o.beta1) * (Math.abs(g[i]) + Math.abs(wd * w[i]));
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * gi * gi;
      const update = (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + o.eps);
      const updateMagnitude = (lr * (mMagnitude[i] / c1)) / (Math.sqrt(v[i] / c2) + o.eps);
      w[i] = clip(w[i] - update, o.clip);
      wMagnitude[i] += Math.abs(w[i]) + updateMagnitude;
    }
  });
  return { w, m, v, wMagnitude, mMagnitude };
}

export interface RmspropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay?: number;
  clip?: number;
}

/** RMSProp `grads.length` times: s = alpha s + (1 - alpha) g^2; w -= lr g / (sqrt(s) + eps). */
export function rmsprop(w0: ArrayLike<number>, s0: ArrayLike<number>, grads: readonly ArrayLike<number>[], o: RmspropOptions) {
  const w = Float64Array.from(w0);
  const s = Float64Array.from(s0);
  const wd = o.weightDecay ?? 0;
  const wMagnitude = new Float64Array(w.length);
  for (const g of grads) {
    for (let i = 0; i < w.length; i++) {
      const gi = g[i] + wd * w[i];
      s[i] = o.alpha * s[i] + (1 - o.alpha) * gi * gi;
      const update = (o.lr * gi) / (Math.sqrt(s[i]) + o.eps);
      const updateMagnitude = (o.lr * (Math.abs(g[i]) + Math.abs(wd * w[i]))) / (Math.sqrt(s[i]) + o.eps);
      w[i] = clip(w[i] - update, o.clip);
      wMagnitude[i] += Math.abs(w[i]) + updateMagnitude;
    }
  }
  return { w, s, wMagnitude };
}

/**
 * The weights' exponential moving average over `weights.length` updates: a = decay a + (1 - decay) w,
 * and for each element the sum over the updates of |decay a| + |(1 - decay) w| (what roundings scale with).
 */
export function weightAverage(a0: ArrayLike<number>, weights: readonly ArrayLike<number>[], decay: number) {
  const a = Float64Array.from(a0);
  const magnitude = new Float64Array(a.length);
  for (const w of weights) {
    for (let i = 0; i < a.length; i++) {
      const [kept, added] = [decay * a[i], (1 - decay) * w[i]];
      a[i] = kept + added;
      magnitude[i] += Math.abs(kept) + Math.abs(added);
    }
  }
  return { a, magnitude };
}
