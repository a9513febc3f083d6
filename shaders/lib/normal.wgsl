// Standard normals from Philox words (Box-Muller), with log and sin/cos written out so every
// WebGPU implementation returns the same values to a few ulp. Shared by random and mixture.

// ln(k * 2^-24) for k in [1, 2^24]. Written out rather than the builtin log, whose accuracy
// varies across implementations (Vulkan only promises 2^-21 absolute near 1, which would be
// a large relative error in sqrt(-2 ln u) there): k = m 2^e exactly, m in [sqrt(1/2), sqrt(2)),
// and ln m = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.172, whose series to s^9 leaves
// under 1e-9. The result is accurate to a few ulp relative everywhere, on every implementation.
fn log_of_grid(k: u32) -> f32 {
  var e = i32(firstLeadingBit(k));
  var m = ldexp(f32(k), -e);
  if (m > 1.41421356f) {
    m *= 0.5f;
    e += 1;
  }
  let s = (m - 1.0f) / (m + 1.0f);
  let s2 = s * s;
  let series = 1.0f + s2 * (1.0f / 3.0f + s2 * (1.0f / 5.0f + s2 * (1.0f / 7.0f + s2 * (1.0f / 9.0f))));
  return f32(e - 24) * 0.693147181f + 2.0f * s * series;
}

// (cos, sin) of (octant + f) * pi/4 for f in [0, 1). Written out for the same reason as
// log_of_grid (Vulkan promises sin/cos only to 2^-11 absolute): the polynomials run on
// [0, pi/4] where Taylor series to x^9 / x^10 leave under 2e-9, and the octant symmetries
// (swap, sign flips) are exact.
fn cos_sin_octant(octant: u32, f: f32) -> vec2f {
  let odd = (octant & 1u) == 1u;
  // 1 - f is exact for f = k 2^-24.
  let x = select(f, 1.0f - f, odd) * 0.785398163f;
  let x2 = x * x;
  let s = x * (1.0f - x2 / 6.0f * (1.0f - x2 / 20.0f * (1.0f - x2 / 42.0f * (1.0f - x2 / 72.0f))));
  let c = 1.0f - x2 / 2.0f * (1.0f - x2 / 12.0f * (1.0f - x2 / 30.0f * (1.0f - x2 / 56.0f * (1.0f - x2 / 90.0f))));
  // Odd octants measure from the next multiple of pi/2, where cos and sin trade places.
  let in_quadrant = select(vec2f(c, s), vec2f(s, c), odd);
  switch (octant >> 1u) {
    case 1u: { return vec2f(-in_quadrant.y, in_quadrant.x); }
    case 2u: { return -in_quadrant; }
    case 3u: { return vec2f(in_quadrant.y, -in_quadrant.x); }
    default: { return in_quadrant; }
  }
}

// Box-Muller: two independent normals from two words. u1 = (w0 >> 8 + 1) 2^-24 is in (0, 1],
// so the log never sees 0; the angle has 27 bits (3 for the octant, 24 inside it).
fn box_muller(w0: u32, w1: u32) -> vec2f {
  let r = sqrt(-2.0f * log_of_grid((w0 >> 8u) + 1u));
  let cs = cos_sin_octant(w1 >> 29u, f32((w1 >> 5u) & 0xffffffu) * 0x1p-24f);
  return r * cs;
}

// Four N(mean, std^2) values from one Philox block: both Box-Muller pairs (randomNormal's, and
// the noise a gather draws, one expression so the two agree bit for bit).
fn normal4(words: vec4u, mu: f32, sigma: f32) -> vec4f {
  let z = vec4f(box_muller(words.x, words.y), box_muller(words.z, words.w));
  return mu + sigma * z;
}
