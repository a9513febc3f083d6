// C[M, N] = op(A) op(B) with a fused epilogue, in two strategies that share the operand access
// and the epilogue:
//
//   `register`: no workgroup memory, no barriers. Each invocation accumulates a TM x (4 TN4)
//   tile of C in registers, lanes side by side along N. What suits CPU adapters: lavapipe runs a
//   workgroup's invocations as SIMD lanes, loads every storage-buffer element lane by lane with a
//   bounds check (roughly ten instructions per lane and component), and splits a shader at each
//   barrier. So what decides speed is how many multiply-adds each loaded component feeds: a tile
//   of TM rows by 4 TN4 columns feeds TM TN4 4 of them from TM + 4 TN4 loads per k.
//
//   `tiled`: 64 x 64 blocks of C per workgroup of 16 x 16 invocations, 16-deep slabs of A and B
//   staged in workgroup memory, each invocation a 4 x 4 register tile. What suits real GPUs.
//
// K is consumed in blocks of four: per block an invocation holds op(A) as a 4 x 4 matrix per four
// rows (column r = row r's four k values) and op(B) as a 4 x 4 matrix per four columns (column q =
// B's row k + q), so each four-row, four-column piece of the tile is four matrix-vector products.
// Both transposed layouts become a transpose of a loaded matrix, which costs nothing once the
// compiler has scalarised it. Past the end of K both operands read as zero; past the ends of M
// and N the register kernel reads clamped (valid) rows and columns and never stores them.
//
// Operands are bound as arrays of vec4 (tensors are padded to 16 bytes); where a row is not a
// whole number of vec4s, elements are read one component at a time.

// The operand layout: A is stored [K, M] (TRANS_A) or [M, K]; B is stored [N, K] (TRANS_B) or [K, N].
override TRANS_A: bool = false;
override TRANS_B: bool = false;
// Whole-vec4 rows along each dimension: M % 4, N % 4, K % 4 == 0.
override VEC_M: bool = false;
override VEC_N: bool = false;
override VEC_K: bool = false;
// Epilogue: C = act(A B + bias (+ C)), or C = (A B) * act'(Y) with Y the saved forward output.
override HAS_BIAS: bool = false;
override ACT: u32 = 0u;
override LEAK: f32 = 0.2;
override ACCUMULATE: bool = false;
override HAS_GRAD: bool = false;
override GRAD_ACT: u32 = 0u;
override GRAD_LEAK: f32 = 0.2;
// Register kernel shape: TM rows (a multiple of 4, at most 16) by TN4 vec4 columns (TM TN4 <= 32)
// per invocation, WG invocations per workgroup along N.
override TM: u32 = 8u;
override TN4: u32 = 2u;
override WG: u32 = 8u;

struct Params { M: u32, N: u32, K: u32 }

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
// The saved forward output Y for HAS_GRAD (another operand stands in when unused).
@group(0) @binding(4) var<storage, read> saved: array<vec4f>;
@group(0) @binding(5) var<uniform> params: Params;

fn a_scalar(i: u32) -> f32 { return a[i >> 2u][i & 3u]; }
fn b_scalar(i: u32) -> f32 { return b[i >> 2u][i & 3u]; }

// Four consecutive elements of a row of an operand, from element `start` of the row whose first
// element has index `first` and which holds `len` elements. Elements at or past `len` read as
// zero; indices are clamped so every load stays inside the row. `vec` promises that `first` and
// `start` are multiples of 4 and `start + 4 <= len`: one vec4 load.
fn row4_a(first: u32, start: u32, len: u32, vec: bool) -> vec4f {
  if (vec) { return a[(first + start) >> 2u]; }
  var v: vec4f;
  for (var q = 0u; q < 4u; q++) {
    let at = min(start + q, len - 1u);
    v[q] = select(0.0, a_scalar(first + at), start + q < len);
  }
  return v;
}

fn row4_b(first: u32, start: u32, len: u32, vec: bool) -> vec4f {
  if (vec) { return b[(first + start) >> 2u]; }
  var v: vec4f;
  for (var q = 0u; q < 4u; q++) {
    let at = min(start + q, len - 1u);
    v[q] = select(0.0, b_scalar(first + at), start + q < len);
  }
  return v;
}

// op(A) for rows m..m+3 (each clamped to M - 1) and k..k+3: column r holds row m + r's values.
fn a_block(m: u32, k: u32) -> mat4x4f {
  let M = params.M;
  let K = params.K;
  if (TRANS_A) {
    // Stored [K, M]: load rows k + q of the stored matrix along m, then transpose. Rows past K
    // are clamped and zeroed. With whole vec4 rows a group starting at or past M (never stored)
    // reads the last group instead.
    let ms = select(m, min(m, M - 4u), VEC_M);
    var t: mat4x4f;
    for (var q = 0u; q < 4u; q++) {
      let kq = min(k + q, K - 1u);
      let row = row4_a(kq * M, ms, M, VEC_M);
      t[q] = select(vec4f(0.0), row, k + q < K);
    }
    return transpose(t);
  }
  var r: mat4x4f;
  for (var i = 0u; i < 4u; i++) {
    r[i] = row4_a(min(m + i, M - 1u) * K, k, K, VEC_K);
  }
  return r;
}

// op(B) for k..k+3 and columns n..n+3 (each clamped to N - 1): column q holds op(B)'s row k + q.
fn b_block(k: u32, n: u32) -> mat4x4f {
  let N = params.N;
  let K = params.K;
  if (TRANS_B) {
    // Stored [N, K]: load rows n + j of the stored matrix along k, then transpose.
    var t: mat4x4f;
    for (var j = 0u; j < 4u; j++) {
      t[j] = row4_b(min(n + j, N - 1u) * K, k, K, VEC_K);
    }
    return transpose(t);
  }
  let ns = select(n, min(n, N - 4u), VEC_N);
  var r: mat4x4f;
  for (var q = 0u; q < 4u; q++) {
    let kq = min(k + q, K - 1u);
    let row = row4_b(kq * N, ns, N, VEC_N);
    r[q] = select(vec4f(0.0), row, k + q < K);
  }
  return r;
}

// Finishes four outputs C[m, n..n+3] (those with n + j < N) from their product `v`.
fn finish(m: u32, n: u32, v: vec4f) {
  let N = params.N;
  if (m >= params.M || n >= N) { return; }
  let base = m * N + n;
  if (VEC_N) {
    var x = v;
    if (ACCUMULATE) { x += c[base >> 2u]; }
    if (HAS_BIAS) { x += bias[n >> 2u]; }
    if (HAS_GRAD) {
      let y = saved[base >> 2u];
      for (var j = 0u; j < 4u; j++) { x[j] *= activate_grad_from_output(y[j], GRAD_ACT, GRAD_LEAK); }
    } else if (ACT != 0u) {
      for (var j = 0u; j < 4u; j++) { x[j] = activate(x[j], ACT, LEAK); }
    }
    c[base >> 2u] = x;
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (n + j < N) {
      let i = base + j;
      var x = v[j];
      if (ACCUMULATE) { x += c[i >> 2u][i & 3u]; }
      if (HAS_BIAS) { x += bias[(n + j) >> 2u][(n + j) & 3u]; }
      if (HAS_GRAD) {
        x *= activate_grad_from_output(saved[i >> 2u][i & 3u], GRAD_ACT, GRAD_LEAK);
      } else if (ACT != 0u) {
        x = activate(x, ACT, LEAK);
      }
      c[i >> 2u][i & 3u] = x;
    }
  }
}

// ---- register strategy ----

const MAX_TILE = 32u;

@compute @workgroup_size(WG)
fn register_tiled(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let m0 = wid.y * TM;
  let n0 = gid.x * TN4 * 4u;
  // acc[r * TN4 + j]: row m0 + r, columns n0 + 4j .. n0 + 4j + 3. The loops below have
  // constant trip counts once the overrides are set, so they unroll and acc lives in registers.
  var acc: array<vec4f, MAX_TILE>;
  for (var k = 0u; k < params.K; k += 4u) {
    var bt: array<mat4x4f, 8>;
    for (var j = 0u; j < TN4; j++) { bt[j] = b_block(k, n0 + 4u * j); }
    for (var g = 0u; g < TM / 4u; g++) {
      let at = a_block(m0 + 4u * g, k);
      for (var r = 0u; r < 4u; r++) {
        for (var j = 0u; j < TN4; j++) {
          acc[(4u * g + r) * TN4 + j] += bt[j] * at[r];
        }
      }
    }
  }
  for (var r = 0u; r < TM; r++) {
    for (var j = 0u; j < TN4; j++) { finish(m0 + r, n0 + 4u * j, acc[r * TN4 + j]); }
  }
}

// ---- workgroup-memory strategy ----

const BM = 64u;   // rows of C per workgroup
const BN = 64u;   // columns of C per workgroup
const BK = 16u;   // depth of a staged slab

// Slabs stored k-major as vec4 along m (A) and n (B): invocation (tx, ty) reads one vec4 of each
// per k step.
var<workgroup> a_slab: array<vec4f, 256>;   // [BK][BM / 4]
var<workgroup> b_slab: array<vec4f, 256>;   // [BK][BN / 4]

fn a_element(m: u32, k: u32) -> f32 {
  if (m >= params.M || k >= params.K) { return 0.0; }
  return a_scalar(select(m * params.K + k, k * params.M + m, TRANS_A));
}

fn b_element(k: u32, n: u32) -> f32 {
  if (k >= params.K || n >= params.N) { return 0.0; }
  return b_scalar(select(k * params.N + n, n * params.K + k, TRANS_B));
}

@compute @workgroup_size(16, 16)
fn workgroup_tiled(@builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3u) {
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < params.K; k0 += BK) {
    // 1024 elements of each slab, four per invocation; consecutive invocations take consecutive
    // elements of the stored layout so global reads coalesce.
    for (var s = 0u; s < 4u; s++) {
      let e = li + 256u * s;
      var r: u32;
      var kk: u32;
      if (TRANS_A) { kk = e / BM; r = e % BM; } else { r = e / BK; kk = e % BK; }
      a_slab[kk * (BM / 4u) + r / 4u][r % 4u] = a_element(m0 + r, k0 + kk);
      var cn: u32;
      if (TRANS_B) { cn = e / BK; kk = e % BK; } else { kk = e / BN; cn = e % BN; }
      b_slab[kk * (BN / 4u) + cn / 4u][cn % 4u] = b_element(k0 + kk, n0 + cn);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let av = a_slab[kk * (BM / 4u) + lid.y];
      let bv = b_slab[kk * (BN / 4u) + lid.x];
      for (var r = 0u; r < 4u; r++) { acc[r] += av[r] * bv; }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) { finish(m0 + 4u * lid.y + r, n0 + 4u * lid.x, acc[r]); }
}
