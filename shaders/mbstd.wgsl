// Minibatch standard deviation (Karras et al. 2018): D sees, beside each sample's features, how
// much the samples of its group differ. X is [rows, F] with F = P * C (NHWC: P positions of C
// channels); rows form groups of GROUP consecutive rows. For each group g and feature f:
//   mean_f = sum_i x[i, f] / G,  sd_f = sqrt(sum_i (x[i, f] - mean_f)^2 / G + eps),
//   s_g = sum_f sd_f / F,
// and Y [rows, P * (C + 1)] is each row's channels with s_g appended at every position, through
// the activation ACT (identity unless a standalone activation was fused into the layer).
//
// One workgroup per group. Every sum has a fixed order (members in order; a lane's features
// lane, lane + WG, ... in order; lanes combined pairwise in workgroup memory), so results are
// bit-identical from run to run.
//
// Backward: dx[i, f] = dy[i, f] + (S / F) (x[i, f] - mean_f) / (G sd_f), S the sum of the
// appended channel's gradients over the group's rows and positions (the variance's derivative
// needs no mean term: the deviations sum to zero), times act'(the producer's output) unless
// GRAD_ACT is identity.

override WG: u32 = 64u;
override ACT: u32 = 0u;
override GRAD_ACT: u32 = 0u;

struct Params {
  features: u32,  // F
  channels: u32,  // C
  group: u32,     // G, rows per group
  eps: f32,
  leak: f32,
  grad_leak: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;

// forward
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> forward_params: Params;

// backward
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> producer_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> backward_params: Params;

// workgroup_sum(lid, x): lib/workgroup_sum.wgsl.

// (mean_f, sd_f) of feature f over the G rows from `first`.
fn feature_stats(p: Params, first: u32, f: u32) -> vec2f {
  var sum = 0.0;
  for (var i = 0u; i < p.group; i++) { sum += x[(first + i) * p.features + f]; }
  let mean = sum / f32(p.group);
  var m2 = 0.0;
  for (var i = 0u; i < p.group; i++) {
    let d = x[(first + i) * p.features + f] - mean;
    m2 += d * d;
  }
  return vec2f(mean, sqrt(m2 / f32(p.group) + p.eps));
}

@compute @workgroup_size(WG)
fn mbstd_forward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let p = forward_params;
  let first = wid.x * p.group;
  var sds = 0.0;
  for (var f = lid; f < p.features; f += WG) { sds += feature_stats(p, first, f).y; }
  let s = workgroup_sum(lid, sds) / f32(p.features);
  let wide = p.channels + 1u;
  let positions = p.features / p.channels;
  let out_row = positions * wide;
  for (var i = 0u; i < p.group; i++) {
    let row = first + i;
    for (var f = lid; f < p.features; f += WG) {
      let pos = f / p.channels;
      y[row * out_row + pos * wide + f - pos * p.channels] = activate(x[row * p.features + f], ACT, p.leak);
    }
    let appended = activate(s, ACT, p.leak);
    for (var pos = lid; pos < positions; pos += WG) { y[row * out_row + pos * wide + p.channels] = appended; }
  }
}

@compute @workgroup_size(WG)
fn mbstd_backward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let p = backward_params;
  let first = wid.x * p.group;
  let wide = p.channels + 1u;
  let positions = p.features / p.channels;
  let out_row = positions * wide;
  // S: the appended channel's gradients, row by row, each lane its positions in order.
  var sum = 0.0;
  for (var q = lid; q < p.group * positions; q += WG) {
    let i = q / positions;
    sum += dy[(first + i) * out_row + (q - i * positions) * wide + p.channels];
  }
  let coef = workgroup_sum(lid, sum) / f32(p.features);
  for (var f = lid; f < p.features; f += WG) {
    let st = feature_stats(p, first, f);
    let scale = coef / (f32(p.group) * st.y);
    let pos = f / p.channels;
    for (var i = 0u; i < p.group; i++) {
      let row = first + i;
      let at = row * p.features + f;
      var v = dy[row * out_row + pos * wide + f - pos * p.channels] + scale * (x[at] - st.x);
      if (GRAD_ACT != 0u) { v *= activate_grad_from_output(producer_out[at], GRAD_ACT, p.grad_leak); }
      dx[at] = v;
    }
  }
}
