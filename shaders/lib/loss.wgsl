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
