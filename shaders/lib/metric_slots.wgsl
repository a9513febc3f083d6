// What one update adds to the metric sums (kernels/metrics.ts METRIC), for the kernels that sum
// an update's metrics (metrics.wgsl, head.wgsl); `metrics` is the including kernel's binding.

// A row's terms (D's value on real rows, real rows, D's value on fake rows, fake rows), told
// apart by its label y (1 real, 0 fake).
fn metric_terms(p: f32, y: f32) -> vec4f {
  let d = d_value(p);
  return vec4f(y * d, y, (1.0 - y) * d, 1.0 - y);
}

// A D update (mode 0) adds its scaled loss, the four sums and one update; a G update (mode 1)
// its scaled loss and one update.
fn add_update_metrics(mode: u32, scaled_loss: f32, sums: vec4f) {
  if (mode == 0u) {
    metrics[0] += scaled_loss;
    metrics[1] += sums.x;
    metrics[2] += sums.y;
    metrics[3] += sums.z;
    metrics[4] += sums.w;
    metrics[5] += 1.0;
  } else {
    metrics[6] += scaled_loss;
    metrics[7] += 1.0;
  }
}
