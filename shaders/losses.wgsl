// Discriminator losses and their gradients, per element of the output column, for the LOSS
// code of lib/loss.wgsl (BCE on logits, squared error through a sigmoid, hinge, Wasserstein).
// `loss_grad` writes scale * dL/d(input) elementwise; `loss_sum` adds scale * sum_i L_i into
// one slot of a metrics tensor, in a fixed order (one workgroup: lanes walk strided elements,
// then combine pairwise), so the result is bit-identical from run to run.

override ACCUMULATE: bool = false;
override WG: u32 = 256u;
// Gradient elements per invocation, WG apart (lavapipe pays per invocation, not per element).
override PER_INVOCATION: u32 = 8u;

struct Params {
  n: u32,
  scale: f32,
  slot: u32,
}

@group(0) @binding(0) var<storage, read> pred: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn loss_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = (wid.y * nwg.x + wid.x) * WG * PER_INVOCATION + lid;
  for (var k = 0u; k < PER_INVOCATION; k++) {
    let i = base + k * WG;
    if (i >= params.n) { return; }
    out[i] = params.scale * loss_gradient(pred[i], labels[i]);
  }
}

const SUM_LANES: u32 = 256u;
var<workgroup> lane_sums: array<f32, SUM_LANES>;

@compute @workgroup_size(SUM_LANES)
fn loss_sum(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < params.n; i += SUM_LANES) {
    acc += loss_value(pred[i], labels[i]);
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
