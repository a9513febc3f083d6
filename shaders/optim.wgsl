// Optimizer updates of a whole network, one element per invocation, by the rules of
// lib/optimizer.wgsl. The entries share one parameter block so their bindings agree: SGD binds
// (w, g, velocity, params); RMSProp (w, g, mean square, params); Adam (w, g, m, params, v,
// step). Every update may end by clipping each weight to [-clip, clip] (WGAN's weight
// clipping; clip = 0 leaves weights unclipped).

override WG: u32 = 256u;
// Elements per invocation, WG apart (consecutive per loop step): on lavapipe an invocation
// costs more than the arithmetic, and Adam's bias corrections are computed once per invocation.
override PER_INVOCATION: u32 = 8u;

@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> state1: array<f32>;
@group(0) @binding(3) var<uniform> params: Optim;
@group(0) @binding(4) var<storage, read_write> state2: array<f32>;
@group(0) @binding(5) var<storage, read> step: array<u32>;

@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = (wid.y * nwg.x + wid.x) * WG * PER_INVOCATION + lid;
  for (var k = 0u; k < PER_INVOCATION; k++) {
    let i = base + k * WG;
    if (i >= params.n) { return; }
    let r = sgd_element(params, i, w[i], g[i], state1[i]);
    state1[i] = r.y;
    w[i] = r.x;
  }
}

@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let corrections = adam_corrections(params, step[params.step_index]);
  let base = (wid.y * nwg.x + wid.x) * WG * PER_INVOCATION + lid;
  for (var k = 0u; k < PER_INVOCATION; k++) {
    let i = base + k * WG;
    if (i >= params.n) { return; }
    let r = adam_element(params, corrections, w[i], g[i], state1[i], state2[i]);
    state1[i] = r.y;
    state2[i] = r.z;
    w[i] = r.x;
  }
}

@compute @workgroup_size(WG)
fn rmsprop(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = (wid.y * nwg.x + wid.x) * WG * PER_INVOCATION + lid;
  for (var k = 0u; k < PER_INVOCATION; k++) {
    let i = base + k * WG;
    if (i >= params.n) { return; }
    let r = rmsprop_element(params, w[i], g[i], state1[i]);
    state1[i] = r.y;
    w[i] = r.x;
  }
}
