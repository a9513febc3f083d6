// Slices of pseudo-random permutations of [0, domain), shared by randomPermutation and the
// gathers that draw their rows themselves: a keyed Feistel network on [0, 2^bits) restricted to
// the domain by cycle-walking. Needs lib/philox.wgsl for the keys.

// MurmurHash3's 32-bit finaliser: a bijective mixer of u32, the Feistel round function.
fn fmix32(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u;
  h *= 0x85ebca6bu;
  h ^= h >> 13u;
  h *= 0xc2b2ae35u;
  h ^= h >> 16u;
  return h;
}

// The eight round keys of the permutation keyed by (seed, stream, step): Philox blocks 0 and 1.
fn permutation_keys(seed: vec2u, stream: u32, step: u32) -> array<u32, 8> {
  let k0 = philox4x32_10(vec4u(0u, 0u, stream, step), seed);
  let k1 = philox4x32_10(vec4u(1u, 0u, stream, step), seed);
  return array<u32, 8>(k0.x, k0.y, k0.z, k0.w, k1.x, k1.y, k1.z, k1.w);
}

// A bijection of [0, 2^bits), bits <= 31: the value splits into a high part of hi_bits and a
// low part of the rest; each round moves the low part up and replaces the high part by
// high ^ F(low), so the two widths swap every round. Every round is invertible whatever F is,
// so the network is a permutation for any keys, including odd widths.
fn feistel(x: u32, bits: u32, round_keys: array<u32, 8>) -> u32 {
  var keys = round_keys;
  var y = x;
  var hi_bits = (bits + 1u) / 2u;
  for (var r = 0u; r < 8u; r++) {
    let lo_bits = bits - hi_bits;
    let high = y >> lo_bits;
    let low = y & ((1u << lo_bits) - 1u);
    let mixed = high ^ (fmix32(low ^ keys[r]) & ((1u << hi_bits) - 1u));
    y = (low << hi_bits) | mixed;
    hi_bits = lo_bits;
  }
  return y;
}

// pi(position) for the permutation of [0, domain) with these keys, 2^(bits - 1) < domain <=
// 2^bits. Cycle-walking: applying the bijection of [0, 2^bits) until the value falls below the
// domain restricts it to a bijection of [0, domain) (the walk stays on the position's cycle,
// which returns to it, so it ends); 2^bits < 2 domain, so the expected walk is under two passes.
fn permuted(position: u32, domain: u32, bits: u32, keys: array<u32, 8>) -> u32 {
  var y = feistel(position, bits, keys);
  while (y >= domain) {
    y = feistel(y, bits, keys);
  }
  return y;
}
