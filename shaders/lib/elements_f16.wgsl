// Stored operands of IEEE binary16 elements, two to a 32-bit word (lib/matmul.wgsl's element
// contract): element i is the low half of word i >> 1 when i is even, the high half when odd.
// The words are read through the vec4f bindings' bits and widened to f32 exactly by
// unpack2x16float (core WGSL: no f16 arithmetic, so no shader-f16 feature, is needed). Products
// of two widened halves are exact in f32 (11 + 11 significant bits), so only the f32
// accumulation rounds. Operands must be finite: an f16 NaN in an odd element makes its word an
// f32 NaN pattern, whose payload a driver need not keep.

fn half_pair(v: vec4f, word: u32) -> vec2f {
  return unpack2x16float(bitcast<u32>(v[word]));
}

fn a_scalar(i: u32) -> f32 { return half_pair(a[i >> 3u], (i >> 1u) & 3u)[i & 1u]; }
fn b_scalar(i: u32) -> f32 { return half_pair(b[i >> 3u], (i >> 1u) & 3u)[i & 1u]; }

// Elements e..e+3 (e a multiple of 4): two words, the low or high half of one vec4 load.
fn quad_of(v: vec4f, high: bool) -> vec4f {
  let w = select(0u, 2u, high);
  return vec4f(half_pair(v, w), half_pair(v, w + 1u));
}

fn a_vec4(e: u32) -> vec4f { return quad_of(a[e >> 3u], (e & 4u) != 0u); }
fn b_vec4(e: u32) -> vec4f { return quad_of(b[e >> 3u], (e & 4u) != 0u); }
