// Per-element losses shared by the loss kernels and the GAN metrics.

// log(1 + u) for u in [0, 1]. WGSL has no log1p: log(1 + u) drops u's low bits for small u, and
// the spec only promises 2^-21 absolute accuracy of log on [0.5, 2]. Below 1/16 a six-term
// series is used instead (truncation u^6/7 < 2^-26 relative); above, log(1 + u) >= 0.06.
fn log1p_unit(u: f32) -> f32 {
  if (u < 0.0625) {
    return u * (1.0 - u * (0.5 - u * (1.0 / 3.0 - u * (0.25 - u * (0.2 - u * (1.0 / 6.0))))));
  }
  return log(1.0 + u);
}

// max(x, 0) - x y + log(1 + e^-|x|): exp never overflows, so finite for every finite x.
fn bce_with_logits(x: f32, y: f32) -> f32 {
  return (max(x, 0.0) - x * y) + log1p_unit(exp(-abs(x)));
}

// The per-row loss a kernel computes, by LOSS code (kernels/losses.ts LOSS_CODES), for D's
// output p and target y (1 real, 0 fake; soft targets for BCE and MSE):
//   0 BCE on the logit p;  1 half squared error of the sigmoid output p (DeepLearnToolbox);
//   2 hinge (Lim & Ye 2017), relu(1 - s p) with s = 2y - 1, D's raw score p;
//   3 Wasserstein critic (Arjovsky et al. 2017), -s p: the critic raises real scores and
//     lowers fake ones. G's hinge and Wasserstein objective, -p, is code 3 with y = 1.
override LOSS: u32 = 0u;

fn loss_value(p: f32, y: f32) -> f32 {
  switch (LOSS) {
    case 0u: { return bce_with_logits(p, y); }
    case 1u: { let e = y - p; return 0.5 * e * e; }
    case 2u: { return max(1.0 - (2.0 * y - 1.0) * p, 0.0); }
    default: { return -(2.0 * y - 1.0) * p; }
  }
}

// d loss_value / d p (for MSE through the sigmoid: d/d(pre-activation), as DeepLearnToolbox's
// nnbp has it). The hinge's kink at s p = 1 takes the zero side.
fn loss_gradient(p: f32, y: f32) -> f32 {
  switch (LOSS) {
    case 0u: { return sigmoid(p) - y; }
    case 1u: { return (p - y) * (p * (1.0 - p)); }
    case 2u: { let s = 2.0 * y - 1.0; return select(0.0, -s, s * p < 1.0); }
    default: { return -(2.0 * y - 1.0); }
  }
}

// What D's output means per row for the metrics: a probability (BCE's logit through the
// sigmoid; MSE's output already is one) or the raw score.
fn d_value(p: f32) -> f32 {
  return select(p, sigmoid(p), LOSS == 0u);
}
