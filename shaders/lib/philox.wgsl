// Philox 4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3",
// SC'11), the counter-based generator of Random123: 128-bit counter + 64-bit key -> four
// words. Only 32-bit integer arithmetic, so every WebGPU implementation returns the same bits.

const PHILOX_M0: u32 = 0xd2511f53u;
const PHILOX_M1: u32 = 0xcd9e8d57u;
const PHILOX_W0: u32 = 0x9e3779b9u;
const PHILOX_W1: u32 = 0xbb67ae85u;

// The 64-bit product of two u32 as (high word, low word). WGSL has no 64-bit integers, so the
// high word is assembled from the four 16x16-bit partial products, each exact in a u32.
fn mul_hi_lo(a: u32, b: u32) -> vec2u {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let ll = a_lo * b_lo;
  let lh = a_lo * b_hi;
  let hl = a_hi * b_lo;
  let hh = a_hi * b_hi;
  // Bits 16..47 of the product: at most 3 * (2^16 - 1), so no carry is lost.
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return vec2u(hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u), a * b);
}

fn philox_round(c: vec4u, k: vec2u) -> vec4u {
  let p0 = mul_hi_lo(PHILOX_M0, c.x);
  let p1 = mul_hi_lo(PHILOX_M1, c.z);
  return vec4u(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
}

fn philox4x32_10(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  c = philox_round(c, k);
  for (var r = 1u; r < 10u; r++) {
    k += vec2u(PHILOX_W0, PHILOX_W1);
    c = philox_round(c, k);
  }
  return c;
}
