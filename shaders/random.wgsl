// Random numbers from Philox 4x32-10 (lib/philox.wgsl). Every element is a pure function of
// (seed, stream, step, index), where step = clock[0] + offset: the clock is a GPU counter the
// trainer advances, so a recorded dispatch draws fresh numbers on every replay. Counter layout:
// (block, attempt, stream, step) with block = index / 4 (one Philox call yields four words),
// attempt > 0 only for rejected integer draws; key = the 64-bit seed as two words.

override WG: u32 = 256u;

struct Params {
  n: u32,
  seed_lo: u32,
  seed_hi: u32,
  stream: u32,
  offset: u32,
  // randomIntegers: values in [0, bound); draws whose low product word is below
  // threshold = 2^32 mod bound are rejected. randomPermutation: bound = domain.
  bound: u32,
  threshold: u32,
  // randomPermutation: the first position, and the Feistel width ceil(log2(domain)).
  start: u32,
  bits: u32,
  // randomUniform: lo, hi - lo and the f32 below hi; randomNormal: mean, std.
  lo: f32,
  scale: f32,
  below_hi: f32,
}

@group(0) @binding(0) var<storage, read_write> dst: array<u32>;
@group(0) @binding(1) var<storage, read> clock: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

// philox_raw's input: rows of (counter x4, key x2); entry points may reuse binding numbers.
@group(0) @binding(1) var<storage, read> philox_input: array<u32>;

fn linear_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

fn draw(block: u32, attempt: u32) -> vec4u {
  let step = clock[0] + params.offset;
  return philox4x32_10(vec4u(block, attempt, params.stream, step), vec2u(params.seed_lo, params.seed_hi));
}

// The top 24 bits as k * 2^-24 in [0, 1): exact in f32.
fn unit_interval(w: vec4u) -> vec4f {
  return vec4f(w >> vec4u(8u)) * 0x1p-24f;
}

// dst[first .. first + 4) = v, stopping at n. Full blocks take four unrolled stores: the
// bounded loop with a dynamic component index costs twice as much on lavapipe.
fn store4(first: u32, v: vec4u) {
  if (first + 3u < params.n) {
    dst[first] = v.x;
    dst[first + 1u] = v.y;
    dst[first + 2u] = v.z;
    dst[first + 3u] = v.w;
    return;
  }
  for (var j = 0u; first + j < params.n; j++) {
    dst[first + j] = v[j];
  }
}

@compute @workgroup_size(WG)
fn draw_uniform(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let block = linear_index(wid, nwg, lid);
  let first = block * 4u;
  if (first >= params.n) { return; }
  // lo + (hi - lo) u can round up to hi (e.g. [1, 2)); the clamp keeps the interval open.
  let v = min(params.lo + params.scale * unit_interval(draw(block, 0u)), vec4f(params.below_hi));
  store4(first, bitcast<vec4u>(v));
}

@compute @workgroup_size(WG)
fn draw_normal(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let block = linear_index(wid, nwg, lid);
  let first = block * 4u;
  if (first >= params.n) { return; }
  store4(first, bitcast<vec4u>(normal4(draw(block, 0u), params.lo, params.scale)));
}

// Lemire's method: hi(w * bound) is uniform on [0, bound) once draws whose low word is below
// 2^32 mod bound are rejected. A rejected element redraws its word from attempt 1, 2, ...;
// after 64 attempts (probability below 2^-64) it keeps the last, slightly biased, draw.
@compute @workgroup_size(WG)
fn draw_integers(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let block = linear_index(wid, nwg, lid);
  let first = block * 4u;
  if (first >= params.n) { return; }
  let words = draw(block, 0u);
  var value = vec4u(0u);
  var low = words * params.bound;
  for (var j = 0u; j < 4u; j++) {
    value[j] = mul_hi_lo(words[j], params.bound).x;
  }
  // Rare (probability < bound / 2^32 per element): redraw the rejected elements.
  if (any(low < vec4u(params.threshold))) {
    for (var j = 0u; j < 4u; j++) {
      for (var attempt = 1u; low[j] < params.threshold && attempt < 64u; attempt++) {
        let p = mul_hi_lo(draw(block, attempt)[j], params.bound);
        value[j] = p.x;
        low[j] = p.y;
      }
    }
  }
  store4(first, value);
}

// out[i] = pi(start + i) (lib/permutation.wgsl).
@compute @workgroup_size(WG)
fn draw_permutation(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  if (i >= params.n) { return; }
  let keys = permutation_keys(vec2u(params.seed_lo, params.seed_hi), params.stream, clock[0] + params.offset);
  dst[i] = permuted(params.start + i, params.bound, params.bits, keys);
}

// The bare generator on given (counter, key) rows, for the known-answer checks.
@compute @workgroup_size(WG)
fn philox_raw(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear_index(wid, nwg, lid);
  if (i >= params.n) { return; }
  let row = 6u * i;
  let counter = vec4u(philox_input[row], philox_input[row + 1u], philox_input[row + 2u], philox_input[row + 3u]);
  let words = philox4x32_10(counter, vec2u(philox_input[row + 4u], philox_input[row + 5u]));
  for (var j = 0u; j < 4u; j++) {
    dst[4u * i + j] = words[j];
  }
}
