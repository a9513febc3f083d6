// An exponential moving average of a network's weights (Polyak averaging as GANs use it: the
// generator that is sampled is the average of its recent iterates): average = decay average +
// (1 - decay) w, element by element over the flat layout. `1 - decay` comes from the host in
// float64: in f32, 1 - 0.999 keeps only about 13 bits.

override WG: u32 = 256u;
// Elements per invocation, WG apart (as optim.wgsl: lavapipe pays per invocation).
override PER_INVOCATION: u32 = 8u;

struct Average { n: u32, decay: f32, one_minus_decay: f32 }

@group(0) @binding(0) var<storage, read_write> average: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<uniform> params: Average;

@compute @workgroup_size(WG)
fn weight_average(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = (wid.y * nwg.x + wid.x) * WG * PER_INVOCATION + lid;
  for (var k = 0u; k < PER_INVOCATION; k++) {
    let i = base + k * WG;
    if (i >= params.n) { return; }
    average[i] = params.decay * average[i] + params.one_minus_decay * w[i];
  }
}
