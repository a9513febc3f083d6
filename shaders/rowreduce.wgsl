// Row reductions of a row-major [rows, cols] matrix, one result per row, in a fixed order so a
// result is bit-identical from run to run (no atomics). ROW_LANES lanes share a row: lane l
// walks columns l, l + ROW_LANES, ... in order, then the row's lanes combine pairwise in
// workgroup memory (log2(ROW_LANES) levels). ROW_LANES = 1 is one invocation per row, with no
// combining at all.
//
// row_sum_squares: out[i] = sum_j x[i, j]^2 (squared row norms).
// row_logsumexp:   out[i] = log sum_j exp(scale * v[i, j]), with v = x, or with FROM_DOTS
//   v[i, j] = max(row_norms[i] + col_norms[j] - 2 x[i, j], 0): squared distances formed from
//   dot products and squared norms (a Gaussian kernel's exponent). A lane keeps a running
//   maximum m and sum s = sum exp(v - m), rescaling s when m grows, so nothing overflows and
//   each value costs one exp. s = 0 marks a lane that has seen no value (s >= 1 otherwise),
//   which keeps infinities out of the arithmetic.

override WG: u32 = 64u;
override ROW_LANES: u32 = 64u;
override FROM_DOTS: bool = false;

struct Params {
  rows: u32,
  cols: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// row_logsumexp binds the norms after x; its output and params move down two slots.
@group(0) @binding(1) var<storage, read> row_norms: array<f32>;
@group(0) @binding(2) var<storage, read> col_norms: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse_out: array<f32>;
@group(0) @binding(4) var<uniform> lse_params: Params;

var<workgroup> lane_max: array<f32, WG>;
var<workgroup> lane_sum: array<f32, WG>;

@compute @workgroup_size(WG)
fn row_sum_squares(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let linear = (wid.y * nwg.x + wid.x) * WG + lid;
  let row = linear / ROW_LANES;
  let lane = lid % ROW_LANES;
  var acc = 0.0;
  if (row < params.rows) {
    let base = row * params.cols;
    for (var j = lane; j < params.cols; j += ROW_LANES) {
      let v = x[base + j];
      acc += v * v;
    }
  }
  lane_sum[lid] = acc;
  workgroupBarrier();
  for (var stride = ROW_LANES / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      lane_sum[lid] += lane_sum[lid + stride];
    }
    workgroupBarrier();
  }
  if (lane == 0u && row < params.rows) {
    out[row] = lane_sum[lid];
  }
}

// (m, s) of two partial log-sum-exps merged: the larger maximum stays, the other sum rescales.
fn merge_lse(a: vec2f, b: vec2f) -> vec2f {
  if (b.y == 0.0) { return a; }
  if (a.y == 0.0) { return b; }
  if (a.x >= b.x) { return vec2f(a.x, a.y + b.y * exp(b.x - a.x)); }
  return vec2f(b.x, b.y + a.y * exp(a.x - b.x));
}

@compute @workgroup_size(WG)
fn row_logsumexp(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let linear = (wid.y * nwg.x + wid.x) * WG + lid;
  let row = linear / ROW_LANES;
  let lane = lid % ROW_LANES;
  let cols = lse_params.cols;
  let scale = lse_params.scale;
  var m = 0.0;
  var s = 0.0;
  if (row < lse_params.rows) {
    let base = row * cols;
    var rn = 0.0;
    if (FROM_DOTS) { rn = row_norms[row]; }
    for (var j = lane; j < cols; j += ROW_LANES) {
      var v = x[base + j];
      if (FROM_DOTS) { v = max(rn + col_norms[j] - 2.0 * v, 0.0); }
      v = scale * v;
      if (s == 0.0) {
        m = v;
        s = 1.0;
      } else if (v <= m) {
        s += exp(v - m);
      } else {
        s = s * exp(m - v) + 1.0;
        m = v;
      }
    }
  }
  lane_max[lid] = m;
  lane_sum[lid] = s;
  workgroupBarrier();
  for (var stride = ROW_LANES / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      let merged = merge_lse(vec2f(lane_max[lid], lane_sum[lid]), vec2f(lane_max[lid + stride], lane_sum[lid + stride]));
      lane_max[lid] = merged.x;
      lane_sum[lid] = merged.y;
    }
    workgroupBarrier();
  }
  if (lane == 0u && row < lse_params.rows) {
    lse_out[row] = lane_max[lid] + log(lane_sum[lid]);
  }
}
