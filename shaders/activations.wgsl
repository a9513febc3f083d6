// Elementwise activations: forward y = f(x), and backward dx = dy * f'(x) computed from the
// saved output y. Indices are linear over a 2-D grid of workgroups (x fastest), so tensors
// larger than 65535 workgroups still fit one dispatch.

override ACT: u32 = 0u;
override LEAK: f32 = 0.2;
override WG: u32 = 256u;

struct Params { n: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= params.n) { return; }
  dst[i] = activate(src[i], ACT, LEAK);
}

// Backward takes the saved output y in `src` and the incoming gradient in `dst`, in place.
@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= params.n) { return; }
  dst[i] = dst[i] * activate_grad_from_output(src[i], ACT, LEAK);
}
