// Softmax cross-entropy on logits z [rows, classes] with integer labels y [rows]:
// L_i = logsumexp(z_i) - z_i[y_i], dL_i/dz_ij = softmax(z_i)_j - [j == y_i].
// The log-sum-exp factors out the row maximum m, so no exp overflows: softmax_j =
// exp(z_j - lse) and L_i = (m - z_y) + log sum_j exp(z_j - m), written so the confident case
// (z_y = m, loss near 0) does not cancel. A label >= classes has no target term: its row's
// gradient is the softmax alone and its loss the log-sum-exp.
// `softmax_xent_grad` writes scale * dL/dz, one invocation per row (rows are short: classes);
// `softmax_xent_loss` adds scale * sum_i L_i into one slot of a metrics tensor in a fixed
// order (one workgroup: lanes walk strided rows, then combine pairwise), so replays give the
// same bits.

override WG: u32 = 64u;
override ACCUMULATE: bool = false;

struct Params {
  rows: u32,
  classes: u32,
  scale: f32,
  slot: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// (m, log sum_j exp(z_j - m)) of the row starting at `base`.
fn row_max_and_log_sum(base: u32) -> vec2f {
  var m = logits[base];
  for (var j = 1u; j < params.classes; j++) {
    m = max(m, logits[base + j]);
  }
  var s = 0.0;
  for (var j = 0u; j < params.classes; j++) {
    s += exp(logits[base + j] - m);
  }
  return vec2f(m, log(s));
}

@compute @workgroup_size(WG)
fn softmax_xent_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * nwg.x + wid.x) * WG + lid;
  if (row >= params.rows) { return; }
  let base = row * params.classes;
  let ml = row_max_and_log_sum(base);
  let lse = ml.x + ml.y;
  let y = labels[row];
  for (var j = 0u; j < params.classes; j++) {
    let p = exp(logits[base + j] - lse);
    out[base + j] = params.scale * (p - select(0.0, 1.0, j == y));
  }
}

const SUM_LANES: u32 = 256u;
var<workgroup> lane_sums: array<f32, SUM_LANES>;

@compute @workgroup_size(SUM_LANES)
fn softmax_xent_loss(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var row = lid; row < params.rows; row += SUM_LANES) {
    let base = row * params.classes;
    let ml = row_max_and_log_sum(base);
    let y = labels[row];
    var term = ml.x + ml.y;
    if (y < params.classes) {
      term = (ml.x - logits[base + y]) + ml.y;
    }
    acc += term;
  }
  lane_sums[lid] = acc;
  workgroupBarrier();
  for (var stride = SUM_LANES / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      lane_sums[lid] += lane_sums[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    var total = params.scale * lane_sums[0];
    if (ACCUMULATE) { total = out[params.slot] + total; }
    out[params.slot] = total;
  }
}
