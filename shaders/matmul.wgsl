// C[M, N] = op(A) op(B) with a fused epilogue (bindings and epilogue: lib/matmul.wgsl; operand
// access: lib/matmul_dense.wgsl for stored matrices, conv.wgsl for convolutions as implicit GEMMs).
//
//   register_tiled: no workgroup memory, no barriers. Each invocation accumulates a TM x 4 TN4
//   tile of C in registers, lanes side by side along N. For CPU adapters without subgroups, and
//   for products of a few rows (with subgroups and more rows, matmul_subgroups.wgsl does better): lavapipe runs a workgroup's invocations as SIMD
//   lanes, loads every storage-buffer element lane by lane with a bounds check (roughly ten
//   instructions per lane and component), and splits a shader at each barrier. Speed is set by
//   how many multiply-adds each loaded component feeds, against how many accumulators spill.
//
//   register_narrow: products of one or two columns (a one-unit layer, its weight gradient, a
//   convolution to or from one channel), where the other kernels' 4-column vectors would be
//   mostly padding. Lanes run along M, TM rows each, with all NC columns; no shuffles. op(B)'s
//   block is the same for every lane, so its loads are uniform (lavapipe loads them once rather
//   than lane by lane), and each lane's own rows of op(A) are the only loads it pays per lane:
//   one component per useful multiply-add at NC = 1, which is what a matrix-vector product needs.
//
//   workgroup_tiled: 64 x 64 blocks of C per workgroup of 16 x 16 invocations, 16-deep slabs of
//   A and B staged in workgroup memory, each invocation a 4 x 4 register tile. For GPUs. With
//   PREFETCH the next slab is loaded while the current one is read, from a second buffer.
//
// The register kernel consumes K in blocks of four: it holds op(A) as a 4 x 4 matrix per four
// rows (column r = row r's four k values) and op(B) as a 4 x 4 matrix per four columns (column
// q = op(B)'s row k + q), so each 4 x 4 piece of the tile takes four matrix-vector products.
// A transposed layout becomes a transpose of the loaded matrix, free once scalarised.

// Register kernel shape: TM rows (a multiple of 4, at most 16) by TN4 vec4 columns (TM TN4 <= 32)
// per invocation, WG invocations per workgroup along N.
override TM: u32 = 4u;
override TN4: u32 = 4u;
override WG: u32 = 8u;
// Narrow kernel: the columns of C, 1 or 2 (src/kernels/gemm.ts's NARROW_MAX_COLUMNS; at most 4).
override NC: u32 = 1u;

const MAX_TILE = 32u;

// op(A) for rows m..m+3 and k..k+3: column r holds row m + r's values.
fn a_block(m: u32, k: u32) -> mat4x4f {
  if (TRANS_A) {
    return transpose(mat4x4f(a_col4(m, k), a_col4(m, k + 1u), a_col4(m, k + 2u), a_col4(m, k + 3u)));
  }
  return mat4x4f(a_row4(m, k), a_row4(m + 1u, k), a_row4(m + 2u, k), a_row4(m + 3u, k));
}

// op(B) for k..k+3 and columns n..n+3: column q holds op(B)'s row k + q.
fn b_block(k: u32, n: u32) -> mat4x4f {
  if (TRANS_B) {
    return transpose(mat4x4f(b_col4(k, n), b_col4(k, n + 1u), b_col4(k, n + 2u), b_col4(k, n + 3u)));
  }
  return mat4x4f(b_row4(k, n), b_row4(k + 1u, n), b_row4(k + 2u, n), b_row4(k + 3u, n));
}

@compute @workgroup_size(WG)
fn register_tiled(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  enter_part(wid.z);
  let size = part_size(wid.z);
  let M = size.x;
  let K = size.y;
  let m0 = wid.y * TM;
  let n0 = gid.x * TN4 * 4u;
  // The first row of workgroups sums and stores the bias gradient: in the k loop, or over the
  // whole op(B) by part 0's where parts split k.
  let bias_grad = has_flag(FLAG_BIAS_GRAD) && wid.y == 0u && !SPLIT_K;
  if (SPLIT_K && has_flag(FLAG_BIAS_GRAD) && wid.y == 0u && wid.z == 0u) {
    for (var j = 0u; j < TN4; j++) { finish_bias_grad(n0 + 4u * j, whole_column_sums(n0 + 4u * j)); }
  }
  // Parts differ in M; the grid covers the largest.
  if (m0 >= M) { return; }
  enter_rows(m0);
  // acc[r * TN4 + j]: row m0 + r, columns n0 + 4j .. n0 + 4j + 3. The loops below have
  // constant trip counts once the overrides are set, so they unroll and acc lives in registers.
  var acc: array<vec4f, MAX_TILE>;
  var column_sums: array<vec4f, 8>;
  for (var k = 0u; k < K; k += 4u) {
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
    if (bias_grad) {
      for (var j = 0u; j < TN4; j++) { column_sums[j] += ((bt[j][0] + bt[j][1]) + bt[j][2]) + bt[j][3]; }
    }
  }
  // Rolled (the trip count depends on M): the epilogue's code is emitted once.
  let rows = min(TM, M - m0);
  for (var i = 0u; i < rows * TN4; i++) { finish(c_row(m0 + i / TN4), n0 + 4u * (i % TN4), acc[i]); }
  if (bias_grad) {
    for (var j = 0u; j < TN4; j++) { finish_bias_grad(n0 + 4u * j, column_sums[j]); }
  }
}

@compute @workgroup_size(WG)
fn register_narrow(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  enter_part(wid.z);
  let size = part_size(wid.z);
  let M = size.x;
  let K = size.y;
  let m0 = gid.x * TM;
  // Every lane of the first workgroup sums the same (uniform) columns; lane 0 stores them.
  let bias_grad = has_flag(FLAG_BIAS_GRAD) && wid.x == 0u && !SPLIT_K;
  if (SPLIT_K && has_flag(FLAG_BIAS_GRAD) && wid.x == 0u && wid.z == 0u && li == 0u) { finish_bias_grad(0u, whole_column_sums(0u)); }
  // Parts differ in M; the grid covers the largest.
  if (wid.x * WG * TM >= M) { return; }
  // acc[r][c]: row m0 + r, column c. Each is one chain over k in order.
  var acc: array<vec4f, 16>;
  var column_sums: vec4f;
  for (var k = 0u; k < K; k += 4u) {
    // bt[c] = op(B)[k..k+3, c].
    var bt: mat4x4f;
    for (var c = 0u; c < NC; c++) { bt[c] = b_col4(k, c); }
    for (var g = 0u; g < TM / 4u; g++) {
      let at = a_block(m0 + 4u * g, k);
      for (var r = 0u; r < 4u; r++) {
        for (var c = 0u; c < NC; c++) {
          var s = acc[4u * g + r][c];
          s += at[r][0] * bt[c][0];
          s += at[r][1] * bt[c][1];
          s += at[r][2] * bt[c][2];
          s += at[r][3] * bt[c][3];
          acc[4u * g + r][c] = s;
        }
      }
    }
    if (bias_grad) {
      for (var c = 0u; c < NC; c++) { column_sums[c] += ((bt[c][0] + bt[c][1]) + bt[c][2]) + bt[c][3]; }
    }
  }
  // Rolled, as register_tiled's: the epilogue's code is emitted once.
  let rows = min(TM, max(M, m0) - m0);
  for (var r = 0u; r < rows; r++) { finish(c_row(m0 + r), 0u, acc[r]); }
  if (bias_grad && li == 0u) { finish_bias_grad(0u, column_sums); }
}

const BM = 64u;   // rows of C per workgroup
const BN = 64u;   // columns of C per workgroup
const BK = 16u;   // depth of a staged slab

// Slabs stored k-major as vec4 along m (A) and n (B): invocation (x, y) reads one vec4 of each
// per k step. Rows are padded by one vec4 so that invocations filling a slab along k (A stored
// [M, K], B stored [N, K]) write to different banks rather than 16 to one.
const SLAB_ROW = 17u;
const SLAB_SIZE = 272u;   // BK SLAB_ROW
// PREFETCH: the next slab's loads are issued before the current one's multiply-adds and it is
// staged in a second buffer (one barrier a slab, not two). Each output sums the same terms in the
// same order either way.
override PREFETCH: bool = false;
override TILED_SLABS: u32 = 1u;   // buffers per operand: 2 with PREFETCH
var<workgroup> a_slab: array<vec4f, SLAB_SIZE * TILED_SLABS>;   // [buffer][BK][SLAB_ROW], BM / 4 used
var<workgroup> b_slab: array<vec4f, SLAB_SIZE * TILED_SLABS>;   // [buffer][BK][SLAB_ROW], BN / 4 used

// With PREFETCH each invocation loads elements li, li + 256, li + 512 and li + 768 of each slab
// (counted along the stored layout, as the plain loop does) into one vec4 per operand.
fn slab_a_element(m0: u32, k0: u32, e: u32) -> f32 {
  if (TRANS_A) { return a_element(m0 + e % BM, k0 + e / BM); }
  return a_element(m0 + e / BK, k0 + e % BK);
}

fn slab_b_element(k0: u32, n0: u32, e: u32) -> f32 {
  if (TRANS_B) { return b_element(k0 + e % BK, n0 + e / BK); }
  return b_element(k0 + e / BN, n0 + e % BN);
}

fn slab_a_loads(m0: u32, k0: u32, li: u32) -> vec4f {
  return vec4f(slab_a_element(m0, k0, li), slab_a_element(m0, k0, li + 256u), slab_a_element(m0, k0, li + 512u), slab_a_element(m0, k0, li + 768u));
}

fn slab_b_loads(k0: u32, n0: u32, li: u32) -> vec4f {
  return vec4f(slab_b_element(k0, n0, li), slab_b_element(k0, n0, li + 256u), slab_b_element(k0, n0, li + 512u), slab_b_element(k0, n0, li + 768u));
}

// Stores element e of each slab into the buffer at `base` (where the plain loop puts it).
fn tiled_store(base: u32, e: u32, x: f32, y: f32) {
  var r: u32;
  var kk: u32;
  if (TRANS_A) { kk = e / BM; r = e % BM; } else { r = e / BK; kk = e % BK; }
  a_slab[base + kk * SLAB_ROW + r / 4u][r % 4u] = x;
  var cn: u32;
  if (TRANS_B) { cn = e / BK; kk = e % BK; } else { kk = e / BN; cn = e % BN; }
  b_slab[base + kk * SLAB_ROW + cn / 4u][cn % 4u] = y;
}

@compute @workgroup_size(16, 16)
fn workgroup_tiled(@builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3u) {
  enter_part(wid.z);
  let size = part_size(wid.z);
  let M = size.x;
  let K = size.y;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let bias_grad = has_flag(FLAG_BIAS_GRAD) && !SPLIT_K;
  if (SPLIT_K && has_flag(FLAG_BIAS_GRAD) && wid.y == 0u && wid.z == 0u && lid.y == 0u) {
    finish_bias_grad(n0 + 4u * lid.x, whole_column_sums(n0 + 4u * lid.x));
  }
  // Parts differ in M; the grid covers the largest. Uniform: the barriers below stay legal.
  if (m0 >= M) { return; }
  var acc: array<vec4f, 4>;
  var column_sums: vec4f;
  if (PREFETCH) {
    var next_a = slab_a_loads(m0, 0u, li);
    var next_b = slab_b_loads(0u, n0, li);
    let steps = (K + BK - 1u) / BK;
    var write = 0u;
    for (var t = 0u; t < steps; t++) {
      tiled_store(write, li, next_a.x, next_b.x);
      tiled_store(write, li + 256u, next_a.y, next_b.y);
      tiled_store(write, li + 512u, next_a.z, next_b.z);
      tiled_store(write, li + 768u, next_a.w, next_b.w);
      workgroupBarrier();
      let read = write;
      write = SLAB_SIZE - write;
      if (t + 1u < steps) {
        next_a = slab_a_loads(m0, (t + 1u) * BK, li);
        next_b = slab_b_loads((t + 1u) * BK, n0, li);
      }
      for (var kk = 0u; kk < BK; kk++) {
        let av = a_slab[read + kk * SLAB_ROW + lid.y];
        let bv = b_slab[read + kk * SLAB_ROW + lid.x];
        for (var r = 0u; r < 4u; r++) { acc[r] += av[r] * bv; }
      }
      if (bias_grad && lid.y == 0u) {
        var s = b_slab[read + lid.x];
        for (var kk = 1u; kk < BK; kk++) { s += b_slab[read + kk * SLAB_ROW + lid.x]; }
        column_sums += s;
      }
    }
  }
  for (var k0 = 0u; k0 < K && !PREFETCH; k0 += BK) {
    // 1024 elements of each slab, four per invocation; consecutive invocations take consecutive
    // elements of the stored layout so global reads coalesce.
    for (var s = 0u; s < 4u; s++) {
      let e = li + 256u * s;
      var r: u32;
      var kk: u32;
      if (TRANS_A) { kk = e / BM; r = e % BM; } else { r = e / BK; kk = e % BK; }
      a_slab[kk * SLAB_ROW + r / 4u][r % 4u] = a_element(m0 + r, k0 + kk);
      var cn: u32;
      if (TRANS_B) { cn = e / BK; kk = e % BK; } else { kk = e / BN; cn = e % BN; }
      b_slab[kk * SLAB_ROW + cn / 4u][cn % 4u] = b_element(k0 + kk, n0 + cn);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let av = a_slab[kk * SLAB_ROW + lid.y];
      let bv = b_slab[kk * SLAB_ROW + lid.x];
      for (var r = 0u; r < 4u; r++) { acc[r] += av[r] * bv; }
    }
    // The first row of invocations also sums its columns of op(B), slab by slab in order of k.
    if (bias_grad && lid.y == 0u) {
      var s = b_slab[lid.x];
      for (var kk = 1u; kk < BK; kk++) { s += b_slab[kk * SLAB_ROW + lid.x]; }
      column_sums += s;
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let m = m0 + 4u * lid.y + r;
    if (m < M) { finish(c_row(m), n0 + 4u * lid.x, acc[r]); }
  }
  if (bias_grad && wid.y == 0u && lid.y == 0u) { finish_bias_grad(n0 + 4u * lid.x, column_sums); }
}

