// Word writes: filling a tensor with one value, and bumping counters on the GPU. All see
// the tensor as 32-bit words; an f32 value arrives as its bit pattern, so one kernel fills
// f32 and u32 tensors alike.

override WG: u32 = 256u;
// Elements per invocation, WG apart so each step of the loop touches consecutive words. On
// lavapipe an invocation costs far more than a store: 8 per invocation fills 3.6x faster.
override PER_INVOCATION: u32 = 8u;

struct Params {
  n: u32,
  bits: u32,
  index: u32,
}

@group(0) @binding(0) var<storage, read_write> words: array<u32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = (wid.y * nwg.x + wid.x) * WG * PER_INVOCATION + lid;
  for (var k = 0u; k < PER_INVOCATION; k++) {
    let i = base + k * WG;
    if (i < params.n) { words[i] = params.bits; }
  }
}

// One invocation: the counter is a step count read by later dispatches of the same iteration.
@compute @workgroup_size(1)
fn increment_counter() {
  words[params.index] = words[params.index] + 1u;
}

// Up to four counters of one buffer advanced by one invocation: words[at[i]] += by[i] (by 0
// leaves a word alone). An iteration's clock and its optimizers' step counts tick together.
struct Advance {
  at: vec4u,
  by: vec4u,
}

@group(0) @binding(1) var<uniform> advance: Advance;

@compute @workgroup_size(1)
fn advance_counters() {
  for (var i = 0u; i < 4u; i++) {
    if (advance.by[i] != 0u) { words[advance.at[i]] = words[advance.at[i]] + advance.by[i]; }
  }
}
