// Batch normalisation over X [groups * m, C], row-major with channels fastest: a batch of
// [rows, P * C] (NHWC) is that matrix with m = rows / groups * P. Each (group, channel) is
// normalised by its own statistics; the kernels never use float atomics, and every sum has a
// fixed order, so results are bit-identical from run to run.
//
// Composed after batchnorm_f32.wgsl or batchnorm_vec4.wgsl, which define V, the values a lane
// handles at once (WIDTH consecutive channels), and the activations on V. Data arrays hold V;
// the per-channel passes read them as f32.
//
// The m rows of a group are cut into `chunks` chunks of `chunk_rows` rows; a workgroup owns one
// chunk of one group for TILE_COLS lanes of channels, ROW_LANES lanes per channel walking rows
// lane, lane + ROW_LANES, ... in order. With ROW_LANES = 1 (CPU adapters) a lane owns its whole
// chunk and no barrier is needed; with more, the lanes of a channel combine pairwise in
// workgroup memory.
//
// Training forward, three dispatches:
//   stats_partial   per chunk: mean and M2 (sum of squared deviations from the chunk's own
//                   mean) of d = x - s, s = the group's first value of the channel. The shift
//                   keeps sums at the scale of the spread, not of the mean (x = 1e3 + noise);
//                   centring on the chunk mean before squaring avoids E[x²] - E[x]² cancellation.
//   stats_finalize  per channel: chunks merged with Chan's update in a fixed pairwise tree,
//                   saved = (s, mean of d, 1 / sqrt(var + eps)) per group; running statistics.
//   normalize       y = act(gamma * ((x - s) - mean_d) * invstd + beta); (x - s) - mean_d
//                   keeps the digits an f32 mean of 1e3 + noise would round away.
// Inference forward is normalize alone, reading the running statistics (s = 0).
//
// Backward (dy = gradient of gamma * xhat + beta), three dispatches:
//   grad_partial    per chunk: sum dy and sum dy * xhat, xhat recomputed from x and saved.
//   grad_finalize   per channel: chunk sums in a fixed pairwise tree per group; dgamma, dbeta
//                   summed over the groups in order (added to the destination with ACCUMULATE).
//   grad_input      dx = gamma * invstd * (dy - sum dy / n - xhat * sum(dy xhat) / n), times
//                   act'(saved output of the producer) unless GRAD_ACT is identity.

override TILE_COLS: u32 = 64u;
override ROW_LANES: u32 = 1u;
override WG: u32 = TILE_COLS * ROW_LANES;
// The fused activation (normalize) and the producer's (grad_input; identity = no gradOf),
// lib/activation.wgsl codes: constants, so the per-element switch compiles away.
override ACT: u32 = 0u;
override GRAD_ACT: u32 = 0u;
// Invocations per workgroup of the per-channel passes.
const FINAL_WG = 64u;
// Deep enough for a pairwise tree over 2^15 chunks (the plan uses at most 256).
const STACK = 16u;

const FLAG_INFERENCE = 1u;
const FLAG_ACCUMULATE = 2u;

struct Params {
  rows: u32,        // m: matrix rows per group (batch rows of the group times positions)
  cols: u32,        // C
  groups: u32,
  chunk_rows: u32,
  chunks: u32,      // chunks per group
  leak: f32,
  grad_leak: f32,
  eps: f32,
  momentum: f32,
  flags: u32,
}

// Each entry point binds its own list (group 0, bindings 0..n-1); variables that share a
// binding number belong to different entry points. Partial results are [chunk, 2, C] and the
// per-group gradient sums [group, 2, C]: (first quantity, second quantity) per channel.
@group(0) @binding(0) var<storage, read> x: array<V>;

// stats_partial
@group(0) @binding(1) var<storage, read_write> stat_partials_out: array<V>;
@group(0) @binding(2) var<uniform> stat_partial_params: Params;

// stats_finalize
@group(0) @binding(0) var<storage, read> x_values: array<f32>;
@group(0) @binding(1) var<storage, read> stat_partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> saved_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(5) var<uniform> stat_final_params: Params;

// normalize: stat_a/stat_b are saved/saved (training) or running mean/var (inference).
@group(0) @binding(1) var<storage, read> stat_a: array<V>;
@group(0) @binding(2) var<storage, read> stat_b: array<V>;
@group(0) @binding(3) var<storage, read> gamma: array<V>;
@group(0) @binding(4) var<storage, read> beta: array<V>;
@group(0) @binding(5) var<storage, read_write> y: array<V>;
@group(0) @binding(6) var<uniform> normalize_params: Params;

// grad_partial, grad_input (which shares gamma at 3 with normalize)
@group(0) @binding(1) var<storage, read> dy: array<V>;
@group(0) @binding(2) var<storage, read> saved: array<V>;
@group(0) @binding(3) var<storage, read_write> grad_partials_out: array<V>;
@group(0) @binding(4) var<uniform> grad_partial_params: Params;
@group(0) @binding(4) var<storage, read> grad_sums: array<V>;
@group(0) @binding(5) var<storage, read> producer_out: array<V>;
@group(0) @binding(6) var<storage, read_write> dx: array<V>;
@group(0) @binding(7) var<uniform> grad_input_params: Params;

// grad_finalize
@group(0) @binding(0) var<storage, read> grad_partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad_sums_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(3) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(4) var<uniform> grad_final_params: Params;

var<workgroup> lane_first: array<V, WG>;
var<workgroup> lane_second: array<V, WG>;

/** The rows of one workgroup's chunk, and its lane's channels (in units of V). */
struct Chunk {
  col: u32,
  cols: u32,   // C / WIDTH
  lane: u32,
  group: u32,
  base: u32,   // first matrix row of the group
  first: u32,  // chunk rows [first, end) within the group
  end: u32,
  live: bool,  // the lane's channels exist
}

fn chunk_of(p: Params, wid: vec3u, lid: u32) -> Chunk {
  var c: Chunk;
  c.col = wid.x * TILE_COLS + lid % TILE_COLS;
  c.cols = p.cols / WIDTH;
  c.lane = lid / TILE_COLS;
  c.group = wid.y / p.chunks;
  c.base = c.group * p.rows;
  c.first = (wid.y % p.chunks) * p.chunk_rows;
  c.end = min(c.first + p.chunk_rows, p.rows);
  c.live = c.col < c.cols;
  return c;
}

struct Pair {
  first: V,
  second: V,
}

// The sums of a pair over the ROW_LANES lanes of each channel, pairwise in a fixed order,
// returned to every lane of the channel. Called from uniform control flow (it holds barriers).
fn channel_total(lid: u32, lane: u32, v: Pair) -> Pair {
  if (ROW_LANES == 1u) { return v; }
  lane_first[lid] = v.first;
  lane_second[lid] = v.second;
  workgroupBarrier();
  for (var stride = ROW_LANES / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      lane_first[lid] += lane_first[lid + stride * TILE_COLS];
      lane_second[lid] += lane_second[lid + stride * TILE_COLS];
    }
    workgroupBarrier();
  }
  let total = Pair(lane_first[lid % TILE_COLS], lane_second[lid % TILE_COLS]);
  // Every lane has read the total before a later call overwrites the sums.
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn stats_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let p = stat_partial_params;
  let ch = chunk_of(p, wid, lid);
  var shift = V(0.0);
  if (ch.live) { shift = x[ch.base * ch.cols + ch.col]; }
  var sum = V(0.0);
  if (ch.live) {
    for (var r = ch.first + ch.lane; r < ch.end; r += ROW_LANES) { sum += x[(ch.base + r) * ch.cols + ch.col] - shift; }
  }
  let mean = channel_total(lid, ch.lane, Pair(sum, V(0.0))).first / f32(ch.end - ch.first);
  var m2 = V(0.0);
  if (ch.live) {
    for (var r = ch.first + ch.lane; r < ch.end; r += ROW_LANES) {
      let d = (x[(ch.base + r) * ch.cols + ch.col] - shift) - mean;
      m2 += d * d;
    }
  }
  m2 = channel_total(lid, ch.lane, Pair(m2, V(0.0))).first;
  if (ch.live && ch.lane == 0u) {
    stat_partials_out[2u * wid.y * ch.cols + ch.col] = mean;
    stat_partials_out[(2u * wid.y + 1u) * ch.cols + ch.col] = m2;
  }
}

// Rows in chunk k of a group.
fn chunk_count(p: Params, k: u32) -> f32 {
  return f32(min(p.chunk_rows, p.rows - k * p.chunk_rows));
}

// Chan's update: the (count, mean, M2) of two disjoint sets from theirs. M2 only adds
// non-negative terms, so nothing cancels.
fn merge_stats(a: vec3f, b: vec3f) -> vec3f {
  let n = a.x + b.x;
  let delta = b.y - a.y;
  return vec3f(n, a.y + delta * (b.x / n), a.z + b.z + delta * delta * (a.x * (b.x / n)));
}

@compute @workgroup_size(FINAL_WG)
fn stats_finalize(@builtin(global_invocation_id) gid: vec3u) {
  let p = stat_final_params;
  let col = gid.x;
  if (col >= p.cols) { return; }
  let n = f32(p.rows);
  var mean_sum = 0.0;
  var var_sum = 0.0;
  for (var g = 0u; g < p.groups; g++) {
    // A pairwise tree over the chunks in order: a stack of partial results, where two of equal
    // height merge (earlier on the left), as a binary counter carries.
    var stack: array<vec3f, STACK>;
    var height: array<u32, STACK>;
    var top = 0u;
    for (var k = 0u; k < p.chunks; k++) {
      let at = 2u * (g * p.chunks + k) * p.cols + col;
      var cur = vec3f(chunk_count(p, k), stat_partials[at], stat_partials[at + p.cols]);
      var h = 0u;
      while (top > 0u && height[top - 1u] == h) {
        top -= 1u;
        cur = merge_stats(stack[top], cur);
        h += 1u;
      }
      stack[top] = cur;
      height[top] = h;
      top += 1u;
    }
    var total = stack[top - 1u];
    for (var i = top - 1u; i > 0u; i--) { total = merge_stats(stack[i - 1u], total); }

    let shift = x_values[g * p.rows * p.cols + col];
    let variance = total.z / n;
    saved_out[g * p.cols + col] = shift;
    saved_out[(p.groups + g) * p.cols + col] = total.y;
    saved_out[(2u * p.groups + g) * p.cols + col] = inverseSqrt(variance + p.eps);
    mean_sum += shift + total.y;
    // The running variance is unbiased (n - 1), as torch keeps it; one value has none and
    // counts as 0.
    var_sum += select(0.0, total.z / (n - 1.0), p.rows > 1u);
  }
  let groups = f32(p.groups);
  let m = p.momentum;
  running_mean[col] = (1.0 - m) * running_mean[col] + m * (mean_sum / groups);
  running_var[col] = (1.0 - m) * running_var[col] + m * (var_sum / groups);
}

@compute @workgroup_size(WG)
fn normalize(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let p = normalize_params;
  let ch = chunk_of(p, wid, lid);
  if (!ch.live) { return; }
  var shift = V(0.0);
  var mean: V;
  var invstd: V;
  if ((p.flags & FLAG_INFERENCE) != 0u) {
    mean = stat_a[ch.col];
    invstd = inverseSqrt(stat_b[ch.col] + p.eps);
  } else {
    shift = stat_a[ch.group * ch.cols + ch.col];
    mean = stat_a[(p.groups + ch.group) * ch.cols + ch.col];
    invstd = stat_a[(2u * p.groups + ch.group) * ch.cols + ch.col];
  }
  let scale = gamma[ch.col];
  let offset = beta[ch.col];
  for (var r = ch.first + ch.lane; r < ch.end; r += ROW_LANES) {
    let i = (ch.base + r) * ch.cols + ch.col;
    let xhat = ((x[i] - shift) - mean) * invstd;
    y[i] = activate_v(scale * xhat + offset, ACT, p.leak);
  }
}

@compute @workgroup_size(WG)
fn grad_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let p = grad_partial_params;
  let ch = chunk_of(p, wid, lid);
  var sum_dy = V(0.0);
  var sum_dy_xhat = V(0.0);
  if (ch.live) {
    let shift = saved[ch.group * ch.cols + ch.col];
    let mean = saved[(p.groups + ch.group) * ch.cols + ch.col];
    let invstd = saved[(2u * p.groups + ch.group) * ch.cols + ch.col];
    for (var r = ch.first + ch.lane; r < ch.end; r += ROW_LANES) {
      let i = (ch.base + r) * ch.cols + ch.col;
      let g = dy[i];
      sum_dy += g;
      sum_dy_xhat += g * (((x[i] - shift) - mean) * invstd);
    }
  }
  let total = channel_total(lid, ch.lane, Pair(sum_dy, sum_dy_xhat));
  if (ch.live && ch.lane == 0u) {
    grad_partials_out[2u * wid.y * ch.cols + ch.col] = total.first;
    grad_partials_out[(2u * wid.y + 1u) * ch.cols + ch.col] = total.second;
  }
}

@compute @workgroup_size(FINAL_WG)
fn grad_finalize(@builtin(global_invocation_id) gid: vec3u) {
  let p = grad_final_params;
  let col = gid.x;
  if (col >= p.cols) { return; }
  var over_groups = vec2f(0.0);
  for (var g = 0u; g < p.groups; g++) {
    // The same pairwise tree over chunks as stats_finalize.
    var stack: array<vec2f, STACK>;
    var height: array<u32, STACK>;
    var top = 0u;
    for (var k = 0u; k < p.chunks; k++) {
      let at = 2u * (g * p.chunks + k) * p.cols + col;
      var cur = vec2f(grad_partials[at], grad_partials[at + p.cols]);
      var h = 0u;
      while (top > 0u && height[top - 1u] == h) {
        top -= 1u;
        cur = stack[top] + cur;
        h += 1u;
      }
      stack[top] = cur;
      height[top] = h;
      top += 1u;
    }
    var total = stack[top - 1u];
    for (var i = top - 1u; i > 0u; i--) { total = stack[i - 1u] + total; }
    grad_sums_out[2u * g * p.cols + col] = total.x;
    grad_sums_out[(2u * g + 1u) * p.cols + col] = total.y;
    over_groups += total;
  }
  if ((p.flags & FLAG_ACCUMULATE) != 0u) {
    dgamma[col] = dgamma[col] + over_groups.y;
    dbeta[col] = dbeta[col] + over_groups.x;
  } else {
    dgamma[col] = over_groups.y;
    dbeta[col] = over_groups.x;
  }
}

@compute @workgroup_size(WG)
fn grad_input(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let p = grad_input_params;
  let ch = chunk_of(p, wid, lid);
  if (!ch.live) { return; }
  let shift = saved[ch.group * ch.cols + ch.col];
  let mean = saved[(p.groups + ch.group) * ch.cols + ch.col];
  let invstd = saved[(2u * p.groups + ch.group) * ch.cols + ch.col];
  let n = f32(p.rows);
  let mean_dy = grad_sums[2u * ch.group * ch.cols + ch.col] / n;
  let mean_dy_xhat = grad_sums[(2u * ch.group + 1u) * ch.cols + ch.col] / n;
  let scale = gamma[ch.col] * invstd;
  for (var r = ch.first + ch.lane; r < ch.end; r += ROW_LANES) {
    let i = (ch.base + r) * ch.cols + ch.col;
    let xhat = ((x[i] - shift) - mean) * invstd;
    var v = scale * ((dy[i] - mean_dy) - xhat * mean_dy_xhat);
    if (GRAD_ACT != 0u) { v *= activate_grad_v(producer_out[i], GRAD_ACT, p.grad_leak); }
    dx[i] = v;
  }
}
