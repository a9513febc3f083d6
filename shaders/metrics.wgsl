// The GAN's training metrics, summed on the GPU across the iterations of a logging window
// and read back only when asked. Slots of `metrics`:
//   0 D loss (per D update)   1 sum D(x) on real rows   2 real rows   3 sum D(x) on fake rows
//   4 fake rows               5 D updates               6 G loss (per G update)   7 G updates
// A D update's batch mixes real (label 1) and fake (label 0) rows, in any order. One workgroup
// sums in a fixed order (strided lanes, then a pairwise tree), so results are bit-identical.

// LOSS (lib/loss.wgsl) says how a row's loss is computed and what D's output means.
// 0: a D update; 1: a G update.
override MODE: u32 = 0u;
const LANES: u32 = 64u;

struct Params {
  // Rows the metrics score (the first n).
  n: u32,
  // The loss's scale (1/m), and the G loss's sign (-1 for the minimax loss log(1 - D)).
  scale: f32,
  // loss_step: rows the gradient covers (all of them: a matching-aware D trains on rows the
  // metrics do not score).
  rows: u32,
  // loss_step: the targets are labels * real_target (1, or a smoothed real target below it).
  real_target: f32,
}

@group(0) @binding(0) var<storage, read> pred: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
// loss_step: the gradient.
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

var<workgroup> sums: array<vec4f, LANES>;
var<workgroup> losses: array<f32, LANES>;

@compute @workgroup_size(LANES)
fn accumulate(@builtin(local_invocation_index) lid: u32) {
  add_metrics(lid);
}

// One update's loss step in one dispatch: the gradient at D's output (scale * d loss / d pred
// against the targets, every row) and the metrics of the scored rows. A batch is a few hundred
// rows, so one workgroup does both; the sums are the accumulate entry's, in the same order.
@compute @workgroup_size(LANES)
fn loss_step(@builtin(local_invocation_index) lid: u32) {
  for (var i = lid; i < params.rows; i += LANES) {
    grad[i] = params.scale * loss_gradient(pred[i], labels[i] * params.real_target);
  }
  add_metrics(lid);
}

fn add_metrics(lid: u32) {
  var loss = 0.0;
  // (sum D on real, real rows, sum D on fake, fake rows), labels weighting each row.
  var acc = vec4f(0.0);
  for (var i = lid; i < params.n; i += LANES) {
    let p = pred[i];
    let y = labels[i];
    loss += loss_value(p, y);
    acc += metric_terms(p, y);
  }
  sums[lid] = acc;
  losses[lid] = loss;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      sums[lid] += sums[lid + stride];
      losses[lid] += losses[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    add_update_metrics(MODE, params.scale * losses[0], sums[0]);
  }
}
