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
// Sub-pixel classes (GATHER_TR). The transposed gather at stride s > 1 reads zero for all but 1 in
// s^2 taps of each pixel: pixel (gh, gw) meets an exact division only for taps kh = (gh + pad)
// mod s + s th and kw = (gw + pad) mod s + s tw. So the grid splits into s^2 classes by that
// phase (ph, pw) = z of the launch grid (lib/matmul.wgsl's parts), each a dense product over its
// own pixels and its own taps only: class pixels (n, i, j) are the grid pixels
// (first_h + s i, first_w + s j), class taps (th, tw) are (ph + s th, pw + s tw), and the gather
// is then a plain stride-1 correlation, a[n, base_h + i - th, base_w + j - tw, c] (zero outside
// the map), with no divisibility test. Class columns t c are (th, tw, c), t = th taps_w + tw.
// Forward and input gradients (TRANS_A false) split M (pixels, rows of C) and K (columns, rows of
// op(B)); weight gradients split M (columns, rows of dW: each class owns its taps' rows, so no
// class writes another's) and K (pixels, rows of dY). A class with no pixel or no tap (a kernel
// smaller than the stride) has M = 0 or K = 0: nothing to do, or rows of zeros to write.

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
// lib/matmul.wgsl's parts contract: the transposed gather's classes take different k.
override SPLIT_K: bool = GATHER_TR;

// The gathered map, the pixel grid and the filter.
struct Geometry {
  src_h: u32, src_w: u32, src_c: u32, kernel: u32,
  grid_h: u32, grid_w: u32, stride: u32, pad: u32,
  pixels: u32, columns: u32, batch: u32,
}

@group(0) @binding(7) var<uniform> geo: Geometry;

// The product this invocation computes: the whole one, or one sub-pixel class.
struct Part {
  M: u32, K: u32,
  // Pixels and im2col columns of the part's A.
  pixels: u32, columns: u32,
  // GATHER_TR only: the class's sub-grid, its taps along w, its first grid pixel and first tap,
  // and the map position of its pixel (0, 0) at tap (0, 0).
  sub_h: u32, sub_w: u32, taps_w: u32,
  first_h: u32, first_w: u32, phase_h: u32, phase_w: u32,
  base_h: u32, base_w: u32,
}

var<private> part: Part;

// Sub-pixel class z = ph s + pw (GATHER_TR), or the whole product.
fn part_of(z: u32) -> Part {
  var q: Part;
  if (!GATHER_TR) {
    q.M = params.M;
    q.K = params.K;
    q.pixels = geo.pixels;
    q.columns = geo.columns;
    return q;
  }
  let s = geo.stride;
  q.phase_h = z / s;
  q.phase_w = z - q.phase_h * s;
  // The grid rows g with (g + pad) mod s == ph are first_h + s i.
  q.first_h = (q.phase_h + s - geo.pad % s) % s;
  q.first_w = (q.phase_w + s - geo.pad % s) % s;
  q.sub_h = select(0u, (geo.grid_h - q.first_h + s - 1u) / s, q.first_h < geo.grid_h);
  q.sub_w = select(0u, (geo.grid_w - q.first_w + s - 1u) / s, q.first_w < geo.grid_w);
  let taps_h = select(0u, (geo.kernel - q.phase_h + s - 1u) / s, q.phase_h < geo.kernel);
  q.taps_w = select(0u, (geo.kernel - q.phase_w + s - 1u) / s, q.phase_w < geo.kernel);
  // (first_h + s i + pad - ph - s th) / s, exact: first_h + pad >= ph (both are ph mod s).
  q.base_h = (q.first_h + geo.pad - q.phase_h) / s;
  q.base_w = (q.first_w + geo.pad - q.phase_w) / s;
  q.pixels = geo.batch * q.sub_h * q.sub_w;
  q.columns = taps_h * q.taps_w * geo.src_c;
  q.M = select(q.pixels, q.columns, TRANS_A);
  q.K = select(q.columns, q.pixels, TRANS_A);
  return q;
}

fn part_size(z: u32) -> vec2u {
  let q = part_of(z);
  return vec2u(q.M, q.K);
}

fn enter_part(z: u32) { part = part_of(z); }

// The grid pixel of the part's pixel p.
fn grid_pixel(p: u32) -> u32 {
  if (!GATHER_TR) { return p; }
  let row = p / part.sub_w;
  let j = p - row * part.sub_w;
  let n = row / part.sub_h;
  let i = row - n * part.sub_h;
  return (n * geo.grid_h + part.first_h + geo.stride * i) * geo.grid_w + part.first_w + geo.stride * j;
}

// The filter tap (kh kernel + kw) of the part's tap t.
fn filter_tap(t: u32) -> u32 {
  if (!GATHER_TR) { return t; }
  let th = t / part.taps_w;
  let tw = t - th * part.taps_w;
  return (part.phase_h + geo.stride * th) * geo.kernel + part.phase_w + geo.stride * tw;
}

// The im2col column (filter tap, channel) of the part's column j.
fn filter_column(j: u32) -> u32 {
  if (!GATHER_TR) { return j; }
  let t = j / geo.src_c;
  return filter_tap(t) * geo.src_c + j - t * geo.src_c;
}

fn c_row(m: u32) -> u32 { return select(grid_pixel(m), filter_column(m), TRANS_A); }

// The stored row of B (not TRANS_B) that op(B)'s row k is: a pixel of dY (weight gradients) or
// a column of the weights (forward).
fn b_row(k: u32) -> u32 { return select(filter_column(k), grid_pixel(k), TRANS_A); }

// The weight gradients' bias gradient under SPLIT_K: column sums n..n+3 of dY, every pixel in order.
fn whole_column_sums(n: u32) -> vec4f {
  var s = vec4f(0.0);
  for (var k = 0u; k < geo.pixels; k++) { s += row4_b(k * params.N, n, params.N, VEC_N); }
  return s;
}

// Where pixel p's gather of tap (kh, kw) reads, as the index of channel 0 in `a`; `ok` is false
// where the gather reads zero (the index is then 0, still inside `a`).
struct Origin { index: u32, ok: bool }

fn gather_origin(p: u32, tap: u32) -> Origin {
  let at = pixel_coords(p);
  if (GATHER_TR) {
    // Class pixel (n, i, j), class tap (th, tw): a stride-1 correlation. Unsigned: a negative
    // position wraps to one far above the map, which the range test rejects.
    let th = tap / part.taps_w;
    let tw = tap - th * part.taps_w;
    let ih = part.base_h + at.y - th;
    let iw = part.base_w + at.z - tw;
    let ok = ih < geo.src_h && iw < geo.src_w;
    return Origin(select(0u, ((at.x * geo.src_h + ih) * geo.src_w + iw) * geo.src_c, ok), ok);
  }
  let kh = tap / geo.kernel;
  let kw = tap - kh * geo.kernel;
  // g s - pad + k, inside the map. Unsigned: a negative value wraps to one far above the map
  // (which holds fewer than 2^30 elements), so the range test rejects it.
  let ih = at.y * geo.stride + kh - geo.pad;
  let iw = at.z * geo.stride + kw - geo.pad;
  let ok = ih < geo.src_h && iw < geo.src_w;
  return Origin(select(0u, ((at.x * geo.src_h + ih) * geo.src_w + iw) * geo.src_c, ok), ok);
}

// The part's pixel grid: rows and columns per sample (the whole grid, or a class's sub-grid).
fn grid_size() -> vec2u { return select(vec2u(geo.grid_h, geo.grid_w), vec2u(part.sub_h, part.sub_w), GATHER_TR); }

// Pixel p of the part as (sample, row, column) of its grid.
fn divide_pixel(p: u32) -> vec3u {
  let size = grid_size();
  let row = p / size.y;
  let n = row / size.x;
  return vec3u(n, row - n * size.x, p - row * size.y);
}

// A weight gradient's k loop (TRANS_A) walks the pixels in order, the same pixel in every lane:
// a cursor steps to the next one with a carry instead of two divisions per load (lavapipe
// divides lane by lane). dcgan's weight gradients 1.2-1.25x faster, 150 iterations 1.07x.
// Any other pixel is divided out, so the cursor only saves work. Holds the last pixel divided or
// stepped to; 2^32 - 1 before the first.
var<private> cursor_p: u32 = 0xffffffffu;
var<private> cursor_at: vec3u;

fn pixel_coords(p: u32) -> vec3u {
  if (!TRANS_A) { return divide_pixel(p); }
  if (p == cursor_p) { return cursor_at; }
  if (p == cursor_p + 1u && cursor_p != 0xffffffffu) {
    let size = grid_size();
    var at = cursor_at + vec3u(0u, 0u, 1u);
    if (at.z == size.y) {
      at = vec3u(at.x, at.y + 1u, 0u);
      if (at.y == size.x) { at = vec3u(at.x + 1u, 0u, 0u); }
    }
    cursor_at = at;
  } else {
    cursor_at = divide_pixel(p);
  }
  cursor_p = p;
  return cursor_at;
}

// A register kernel's lane reads the same four rows of op(A) (pixels) all along k, when op(A)
// is the im2col itself (TRANS_A false: forward ops and input gradients). enter_rows works out
// their pixels' index arithmetic once per lane, and the k loop adds only the tap's, which is the
// same in every lane (lanes run along M): 1.35-1.55x on lavapipe for dcgan's D1 forward and input
// gradient. A pixel's gather of tap offset (dh, dw) reads map row h0 + dh and column w0 + dw,
// channel 0 at base + (dh src_w + dw) src_c, all mod 2^32: the forward gather adds its tap
// (kh, kw), the transposed one subtracts its class tap (th, tw). The same elements as gather4,
// so the same bits. (Caching the columns' taps of a weight gradient, TRANS_A, measured no faster;
// its pixels' divisions were the cost: pixel_coords.)
struct PixelOrigin { base: u32, h0: u32, w0: u32 }

// The lane's first cached row; 2^32 - 1 until enter_rows: nothing cached.
var<private> rows_m0: u32 = 0xffffffffu;
var<private> rows: array<PixelOrigin, 4>;

fn pixel_origin(p: u32) -> PixelOrigin {
  var n: u32;
  var h0: u32;
  var w0: u32;
  if (GATHER_TR) {
    let row = p / part.sub_w;
    let j = p - row * part.sub_w;
    n = row / part.sub_h;
    h0 = part.base_h + row - n * part.sub_h;
    w0 = part.base_w + j;
  } else {
    let row = p / geo.grid_w;
    let gw = p - row * geo.grid_w;
    n = row / geo.grid_h;
    h0 = (row - n * geo.grid_h) * geo.stride - geo.pad;
    w0 = gw * geo.stride - geo.pad;
  }
  return PixelOrigin(((n * geo.src_h + h0) * geo.src_w + w0) * geo.src_c, h0, w0);
}

// Column j's tap offset (dh, dw) and channel.
fn tap_offset(j: u32) -> vec3u {
  let tap = j / geo.src_c;
  let c = j - tap * geo.src_c;
  if (GATHER_TR) {
    let th = tap / part.taps_w;
    return vec3u(0u - th, 0u - (tap - th * part.taps_w), c);
  }
  let kh = tap / geo.kernel;
  return vec3u(kh, tap - kh * geo.kernel, c);
}

// Four channels (from a multiple of 4) of one tap of pixel o; zero outside the map and from the
// part's columns on (j is the first one's column).
fn gather4_at(o: PixelOrigin, t: vec3u, j: u32) -> vec4f {
  let ok = o.h0 + t.x < geo.src_h && o.w0 + t.y < geo.src_w && j < part.columns;
  let index = o.base + (t.x * geo.src_w + t.y) * geo.src_c + t.z;
  return select(vec4f(0.0), a[select(0u, index, ok) >> 2u], ok);
}

// Rows m0..m0+3 of op(A) (clamped to M - 1) are the ones this lane reads: cache their pixels.
// Only with VEC_C, where four columns from a multiple of 4 are one tap.
fn enter_rows(m0: u32) {
  if (TRANS_A || !VEC_C) { return; }
  rows_m0 = m0;
  for (var r = 0u; r < 4u; r++) { rows[r] = pixel_origin(min(m0 + r, part.M - 1u)); }
}

// im2col element (p, j) of the part; zero for j >= its columns. p must be a pixel of the part.
fn gather1(p: u32, j: u32) -> f32 {
  let tap = j / geo.src_c;
  let o = gather_origin(p, tap);
  let ok = o.ok && j < part.columns;
  return select(0.0, a_scalar(select(0u, o.index + j - tap * geo.src_c, ok)), ok);
}

// im2col elements (p, j..j+3) (zero from the part's columns on), j a multiple of 4.
fn gather4(p: u32, j: u32) -> vec4f {
  if (VEC_C) {
    let tap = j / geo.src_c;
    let o = gather_origin(p, tap);
    let ok = o.ok && j < part.columns;
    return select(vec4f(0.0), a[select(0u, o.index + j - tap * geo.src_c, ok) >> 2u], ok);
  }
  return vec4f(gather1(p, j), gather1(p, j + 1u), gather1(p, j + 2u), gather1(p, j + 3u));
}

// im2col elements (p..p+3, j): pixels past the part's read zero.
fn gather4_pixels(p: u32, j: u32) -> vec4f {
  var v: vec4f;
  for (var i = 0u; i < 4u; i++) {
    v[i] = select(0.0, gather1(min(p + i, part.pixels - 1u), j), p + i < part.pixels);
  }
  return v;
}

// op(A)[m, k..k+3] (m clamped to M - 1); zero for k >= K.
fn a_row4(m: u32, k: u32) -> vec4f {
  let mm = min(m, part.M - 1u);
  if (TRANS_A) { return select(vec4f(0.0), gather4_pixels(k, mm), k < part.K); }
  if (m >= rows_m0 && m - rows_m0 < 4u) { return gather4_at(rows[m - rows_m0], tap_offset(k), k); }
  return gather4(mm, k);
}

// op(A)[m..m+3, k] (rows past M read zero); zero for k >= K.
fn a_col4(m: u32, k: u32) -> vec4f {
  if (TRANS_A) { return select(vec4f(0.0), gather4(min(k, part.K - 1u), m), k < part.K); }
  return select(vec4f(0.0), gather4_pixels(m, k), k < part.K);
}

fn a_element(m: u32, k: u32) -> f32 {
  if (m >= part.M || k >= part.K) { return 0.0; }
  if (TRANS_A) { return gather1(k, m); }
  return gather1(m, k);
}

// The swapped weights' index of op(B)[k, n] (TRANS_B), k < K.
fn swapped_index(k: u32, n: u32) -> u32 {
  let tap = k / geo.src_c;
  return (filter_tap(tap) * params.N + n) * geo.src_c + k - tap * geo.src_c;
}

// op(B)[k, n..n+3] (columns past N read zero); zero for k >= K.
fn b_row4(k: u32, n: u32) -> vec4f {
  let N = params.N;
  let kk = min(k, part.K - 1u);
  var v: vec4f;
  if (TRANS_B) {
    for (var j = 0u; j < 4u; j++) {
      v[j] = select(0.0, b_scalar(swapped_index(kk, min(n + j, N - 1u))), n + j < N);
    }
  } else {
    v = row4_b(b_row(kk) * N, n, N, VEC_N);
  }
  return select(vec4f(0.0), v, k < part.K);
}

// op(B)[k..k+3, n] (n clamped to N - 1); zero for k >= K; k a multiple of 4.
fn b_col4(k: u32, n: u32) -> vec4f {
  let N = params.N;
  let K = part.K;
  let nn = min(n, N - 1u);
  var v: vec4f;
  if (TRANS_B && VEC_C) {
    return select(vec4f(0.0), b[swapped_index(min(k, K - 1u), nn) >> 2u], k < K);
  }
  if (!TRANS_A && VEC_C) {
    // Four channels of one tap (K is a multiple of 4): consecutive rows of the weights.
    let first = b_row(min(k, K - 4u)) * N + nn;
    for (var q = 0u; q < 4u; q++) { v[q] = b_scalar(first + q * N); }
    return select(vec4f(0.0), v, k < K);
  }
  for (var q = 0u; q < 4u; q++) {
    let kq = min(k + q, K - 1u);
    v[q] = select(0.0, b_scalar(select(b_row(kq) * N + nn, swapped_index(kq, nn), TRANS_B)), k + q < K);
  }
  return v;
}

fn b_element(k: u32, n: u32) -> f32 {
  if (k >= part.K || n >= params.N) { return 0.0; }
  return b_scalar(select(b_row(k) * params.N + n, swapped_index(k, n), TRANS_B));
}
