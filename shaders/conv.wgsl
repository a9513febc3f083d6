// Convolutions as implicit GEMMs: operand access (the contract is in lib/matmul.wgsl) under which
// the matmul kernels (matmul.wgsl, matmul_subgroups.wgsl) compute conv2d and conv-transpose2d,
// forward and both gradients, reading the feature maps in place rather than an im2col copy.
// src/kernels/conv.ts states which product each op is.
//
// Layout. Feature maps are NHWC, stored [batch, H*W*C] (one sample per row, channels fastest);
// weights are [KH, KW, Cin, Cout] with KH = KW = `kernel`, i.e. [KH*KW*Cin, Cout].
//
// A is the implicit im2col of the map bound as `a`, [batch, src_h, src_w, src_c], over a grid of
// pixels p = (n, gh, gw) (n < batch, gh < grid_h, gw < grid_w, p = (n grid_h + gh) grid_w + gw)
// and columns j = (kh, kw, c) (j = (kh kernel + kw) src_c + c). Element (p, j) is
//   forward gather (GATHER_TR false):    a[n, gh s - pad + kh, gw s - pad + kw, c]
//   transposed gather (GATHER_TR true):  a[n, (gh + pad - kh) / s, (gw + pad - kw) / s, c]
// and zero outside the map, and for the transposed gather unless both divisions are exact.
// op(A) is that matrix [pixels, columns] (TRANS_A false: M = pixels, K = columns) or its
// transpose (TRANS_A true, weight gradients: M = columns, K = pixels).
//
// The transposed gather spends (s^2 - 1) / s^2 of its multiply-adds on zeros at stride s > 1:
// each pixel meets an exact division for only 1 in s^2 taps. Splitting the grid into its s^2
// sub-pixel phases (each a dense GEMM over its own taps) would skip them; not done yet.
//
// B is stored [K, N] (TRANS_B false: weights [KH*KW*Cin, Cout], or a map gradient [pixels, Cout])
// or is the weights with their last two axes swapped (TRANS_B true, input gradients):
//   op(B)[(kh, kw, co), ci] = w[kh, kw, ci, co]   (co < src_c, ci < N)
// which is contiguous along k within one tap.
//
// Cheap loads: with src_c % 4 == 0 (VEC_C) four consecutive columns from a multiple of 4 are four
// channels of one tap, so one vec4 load (of the map, or of the swapped weights) serves them. The
// kernels only ask for four columns from a multiple of 4. The index arithmetic divides by
// uniforms; on lavapipe that measured no slower than multiplying by reciprocals (the lane-by-lane
// loads dominate), so it stays plain.

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override GATHER_TR: bool = false;
override VEC_C: bool = false;

// The gathered map, the pixel grid and the filter.
struct Geometry {
  src_h: u32, src_w: u32, src_c: u32, kernel: u32,
  grid_h: u32, grid_w: u32, stride: u32, pad: u32,
  pixels: u32, columns: u32,
}

@group(0) @binding(7) var<uniform> geo: Geometry;

// Where pixel p's gather of tap (kh, kw) reads, as the index of channel 0 in `a`; `ok` is false
// where the gather reads zero (the index is then 0, still inside `a`).
struct Origin { index: u32, ok: bool }

fn gather_origin(p: u32, tap: u32) -> Origin {
  let row = p / geo.grid_w;
  let gw = p - row * geo.grid_w;
  let n = row / geo.grid_h;
  let gh = row - n * geo.grid_h;
  let kh = tap / geo.kernel;
  let kw = tap - kh * geo.kernel;
  var ih: u32;
  var iw: u32;
  var ok: bool;
  if (GATHER_TR) {
    // (g + pad - k) / s: not negative, exact, and inside the map.
    let th = gh + geo.pad;
    let tw = gw + geo.pad;
    ih = (th - kh) / geo.stride;
    iw = (tw - kw) / geo.stride;
    ok = kh <= th && kw <= tw && ih * geo.stride == th - kh && iw * geo.stride == tw - kw && ih < geo.src_h && iw < geo.src_w;
  } else {
    // g s - pad + k, inside the map. Unsigned: a negative value wraps to one far above the map
    // (which holds fewer than 2^30 elements), so the range test rejects it.
    ih = gh * geo.stride + kh - geo.pad;
    iw = gw * geo.stride + kw - geo.pad;
    ok = ih < geo.src_h && iw < geo.src_w;
  }
  return Origin(select(0u, ((n * geo.src_h + ih) * geo.src_w + iw) * geo.src_c, ok), ok);
}

// im2col element (p, j); zero for j >= geo.columns. p must be a pixel of the grid.
fn gather1(p: u32, j: u32) -> f32 {
  let tap = j / geo.src_c;
  let o = gather_origin(p, tap);
  let ok = o.ok && j < geo.columns;
  return select(0.0, a_scalar(select(0u, o.index + j - tap * geo.src_c, ok)), ok);
}

// im2col elements (p, j..j+3) (zero from geo.columns on), j a multiple of 4.
fn gather4(p: u32, j: u32) -> vec4f {
  if (VEC_C) {
    let tap = j / geo.src_c;
    let o = gather_origin(p, tap);
    let ok = o.ok && j < geo.columns;
    return select(vec4f(0.0), a[select(0u, o.index + j - tap * geo.src_c, ok) >> 2u], ok);
  }
  return vec4f(gather1(p, j), gather1(p, j + 1u), gather1(p, j + 2u), gather1(p, j + 3u));
}

// im2col elements (p..p+3, j): pixels past the grid read zero.
fn gather4_pixels(p: u32, j: u32) -> vec4f {
  var v: vec4f;
  for (var i = 0u; i < 4u; i++) {
    v[i] = select(0.0, gather1(min(p + i, geo.pixels - 1u), j), p + i < geo.pixels);
  }
  return v;
}

// op(A)[m, k..k+3] (m clamped to M - 1); zero for k >= K.
fn a_row4(m: u32, k: u32) -> vec4f {
  let mm = min(m, params.M - 1u);
  if (TRANS_A) { return select(vec4f(0.0), gather4_pixels(k, mm), k < params.K); }
  return gather4(mm, k);
}

// op(A)[m..m+3, k] (rows past M read zero); zero for k >= K.
fn a_col4(m: u32, k: u32) -> vec4f {
  if (TRANS_A) { return select(vec4f(0.0), gather4(min(k, params.K - 1u), m), k < params.K); }
  return select(vec4f(0.0), gather4_pixels(m, k), k < params.K);
}

fn a_element(m: u32, k: u32) -> f32 {
  if (m >= params.M || k >= params.K) { return 0.0; }
  if (TRANS_A) { return gather1(k, m); }
  return gather1(m, k);
}

// The swapped weights' index of op(B)[k, n] (TRANS_B), k < K.
fn swapped_index(k: u32, n: u32) -> u32 {
  let tap = k / geo.src_c;
  return (tap * params.N + n) * geo.src_c + k - tap * geo.src_c;
}

// op(B)[k, n..n+3] (columns past N read zero); zero for k >= K.
fn b_row4(k: u32, n: u32) -> vec4f {
  let N = params.N;
  let kk = min(k, params.K - 1u);
  var v: vec4f;
  if (TRANS_B) {
    for (var j = 0u; j < 4u; j++) {
      v[j] = select(0.0, b_scalar(swapped_index(kk, min(n + j, N - 1u))), n + j < N);
    }
  } else {
    v = row4_b(kk * N, n, N, VEC_N);
  }
  return select(vec4f(0.0), v, k < params.K);
}

// op(B)[k..k+3, n] (n clamped to N - 1); zero for k >= K; k a multiple of 4.
fn b_col4(k: u32, n: u32) -> vec4f {
  let N = params.N;
  let K = params.K;
  let nn = min(n, N - 1u);
  var v: vec4f;
  if (TRANS_B && VEC_C) {
    return select(vec4f(0.0), b[swapped_index(min(k, K - 1u), nn) >> 2u], k < K);
  }
  for (var q = 0u; q < 4u; q++) {
    let kq = min(k + q, K - 1u);
    v[q] = select(0.0, b_scalar(select(kq * N + nn, swapped_index(kq, nn), TRANS_B)), k + q < K);
  }
  return v;
}

fn b_element(k: u32, n: u32) -> f32 {
  if (k >= params.K || n >= params.N) { return 0.0; }
  return b_scalar(select(k * params.N + n, swapped_index(k, n), TRANS_B));
}
