// D's one-unit output layer with the loss, in one dispatch of one workgroup: for rows h [R, H]
// (the output of the layer below) and the head's weights w [H] and bias b,
//   1. y_r = act(h_r . w + b)                       D's output (a logit for losses that fold in
//                                                    the sigmoid)
//   2. the metrics of the first `scored` rows, and delta_r = scale * dloss/dy(y_r, label_r *
//      real_target)                                  (lib/loss.wgsl, as the loss step has them)
//   3. dh_r,j = delta_r w_j act'(h_r,j)              the layer below's delta, from the old w
//   4. D update only: dw_j = sum_r h_r,j delta_r and db = sum_r delta_r, then either stored in
//      the gradients' flat layout or given straight to the optimizer's rule (lib/optimizer.wgsl)
// Four dependent steps that are each a few thousand multiply-adds at GAN batch sizes: apart they
// are four or five dispatches whose launches cost more than their work on a GPU. One workgroup
// does them in order with barriers between, every sum in a fixed order (bit-identical runs).

const WG: u32 = 256u;
// Rows D judges at once, at most (workgroup memory: y, then delta).
const MAX_ROWS: u32 = 1024u;

// 0: a D update; 1: a G update (D frozen: no parameter gradients; metrics of the G loss).
override MODE: u32 = 0u;
// D update: apply the optimizer's rule (lib/update_element.wgsl) rather than store the gradients.
override APPLY: bool = false;
override HAS_BIAS: bool = true;

struct Head {
  rows: u32,
  hidden: u32,
  scored: u32,
  scale: f32,
  real_target: f32,
  // The head's activation and the layer below's (lib/activation.wgsl codes).
  act: u32,
  leak: f32,
  below_act: u32,
  below_leak: f32,
  // Where w and b sit in the flat parameters (and gradients, and state).
  weight_at: u32,
  bias_at: u32,
}

@group(0) @binding(0) var<storage, read> h: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(5) var<uniform> head: Head;
@group(0) @binding(6) var<storage, read_write> dh: array<f32>;
// Bindings 3, 4, 7, 8 and 9 (lib/update_element.wgsl): w is the flat parameters; state1 is the
// optimizer's first state under APPLY, else the gradients' flat buffer (laid out like w).

var<workgroup> rows: array<f32, MAX_ROWS>;
var<workgroup> lane_sums: array<vec4f, WG>;
var<workgroup> lane_loss: array<f32, WG>;

// Element j of the layout gets gradient g: stored, or the rule applied.
fn settle(j: u32, g: f32) {
  if (APPLY) {
    update_element(j, g);
  } else {
    state1[j] = g;
  }
}

@compute @workgroup_size(WG)
fn one_unit_head(@builtin(local_invocation_index) lid: u32) {
  let R = head.rows;
  let H = head.hidden;
  let wa = head.weight_at;
  var bias = 0.0;
  if (HAS_BIAS) { bias = w[head.bias_at]; }
  // 1. D's output, one row per lane.
  for (var r = lid; r < R; r += WG) {
    var s = 0.0;
    for (var j = 0u; j < H; j++) { s += h[r * H + j] * w[wa + j]; }
    rows[r] = activate(s + bias, head.act, head.leak);
  }
  workgroupBarrier();
  // 2. The metrics (lanes over strided rows, then a pairwise tree) and the loss gradient, which
  // replaces y in workgroup memory once every lane has read its rows.
  var loss = 0.0;
  var acc = vec4f(0.0);
  for (var r = lid; r < head.scored; r += WG) {
    let p = rows[r];
    let y = labels[r];
    loss += loss_value(p, y);
    acc += metric_terms(p, y);
  }
  lane_sums[lid] = acc;
  lane_loss[lid] = loss;
  workgroupBarrier();
  for (var r = lid; r < R; r += WG) {
    rows[r] = head.scale * loss_gradient(rows[r], labels[r] * head.real_target);
  }
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      lane_sums[lid] += lane_sums[lid + stride];
      lane_loss[lid] += lane_loss[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    add_update_metrics(MODE, head.scale * lane_loss[0], lane_sums[0]);
  }
  // 3. The layer below's delta, from the weights as they were.
  for (var i = lid; i < R * H; i += WG) {
    let r = i / H;
    dh[i] = (rows[r] * w[wa + i - r * H]) * activate_grad_from_output(h[i], head.below_act, head.below_leak);
  }
  if (MODE == 1u) { return; }
  // Every lane's reads of w above come before any lane's update below.
  storageBarrier();
  workgroupBarrier();
  // 4. The head's gradients, a column per lane, rows in order; the bias by lane 0.
  for (var j = lid; j < H; j += WG) {
    var g = 0.0;
    for (var r = 0u; r < R; r++) { g += h[r * H + j] * rows[r]; }
    settle(wa + j, g);
  }
  if (HAS_BIAS && lid == 0u) {
    var g = 0.0;
    for (var r = 0u; r < R; r++) { g += rows[r]; }
    settle(head.bias_at, g);
  }
}
