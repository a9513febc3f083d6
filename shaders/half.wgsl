// f32 to IEEE binary16, two elements to a word (pack2x16float; element 2w in the low half of
// word w): operands that tolerate 11 significant bits at half the bytes (kernels/half.ts). WGSL
// rounds each value to one of its two binary16 neighbours (not necessarily the nearest) and
// leaves values beyond binary16's finite range (|x| > 65504) indeterminate. An odd element
// count leaves the last word's high half 0.

override WG: u32 = 256u;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn to_f16(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = (wid.y * nwg.x + wid.x) * WG + lid;
  let i = 2u * w;
  if (i >= params.n) { return; }
  let high = select(0.0, src[min(i + 1u, params.n - 1u)], i + 1u < params.n);
  dst[w] = pack2x16float(vec2f(src[i], high));
}
