// Samples from a 2-D mixture of isotropic Gaussians with equal weights (the ring and grid
// mode-collapse benchmarks): row i picks mode floor(w0 * modes / 2^32) and adds std * z with z
// a Box-Muller pair, all from one Philox block at counter (i, 0, stream, clock[0] + offset).
// The mode choice is uniform up to modes / 2^32, far below what any statistic can see.

override WG: u32 = 64u;

struct Params {
  rows: u32,
  modes: u32,
  seed_lo: u32,
  seed_hi: u32,
  stream: u32,
  offset: u32,
  sigma: f32,
}

@group(0) @binding(0) var<storage, read_write> dst: array<vec2f>;
@group(0) @binding(1) var<storage, read> centers: array<vec2f>;
@group(0) @binding(2) var<storage, read> clock: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn sample_mixture(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= params.rows) { return; }
  let step = clock[0] + params.offset;
  let w = philox4x32_10(vec4u(i, 0u, params.stream, step), vec2u(params.seed_lo, params.seed_hi));
  let mode = mul_hi_lo(w.x, params.modes).x;
  dst[i] = centers[mode] + params.sigma * box_muller(w.z, w.w);
}
