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
//   workgroup_tiled: for GPUs. Square blocks of C per workgroup (64 x 64 from 16 x 16 invocations
//   by default, each a 4 x 4 register tile; larger blocks and tiles, and double-buffered slabs,
//   as override constants: src/kernels/gemm.ts's TILED_SHAPES), slabs of A and B staged in
//   workgroup memory.
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

// Workgroup-tiled kernel shape: TW x TW invocations, each TR x TR register blocks of 4 x 4, so a
// workgroup computes a block of C of BT = 4 TR TW rows and columns; BK-deep slabs of A and B are
// staged in workgroup memory. DOUBLE stages the next slab in a second buffer while the current one
// is read (one barrier per slab, not two). Every output sums its k in order in one chain and the
// bias gradient sums each slab's columns in order, so shapes with the same BK give the same bits.
override TW: u32 = 16u;
override TR: u32 = 1u;
override BK: u32 = 16u;
override DOUBLE: bool = false;
// Vec4s per slab row: BT / 4, plus one (by default) so invocations filling a slab along k (A
// stored [M, K], B stored [N, K]) write to different banks rather than all to one.
override SLAB_ROW: u32 = 17u;
// Vec4s of each staging array: BK SLAB_ROW, twice with DOUBLE (src/kernels/gemm.ts sizes it).
override SLAB_VEC4S: u32 = 272u;
var<workgroup> a_slab: array<vec4f, SLAB_VEC4S>;   // [buffer][BK][SLAB_ROW], BT / 4 used per row
var<workgroup> b_slab: array<vec4f, SLAB_VEC4S>;

// Elements of each operand's slab one invocation loads: BK BT / TW^2 (at most MAX_LOADS).
const MAX_LOADS = 16u;

// Element e of the slab of op(A) at rows m0.. and k0.., counted along the stored layout (and
// the same for op(B) at k0.. and columns n0..).
fn slab_a_element(m0: u32, k0: u32, e: u32, bt: u32) -> f32 {
  if (TRANS_A) { return a_element(m0 + e % bt, k0 + e / bt); }
  return a_element(m0 + e / BK, k0 + e % BK);
}

fn slab_b_element(k0: u32, n0: u32, e: u32, bt: u32) -> f32 {
  if (TRANS_B) { return b_element(k0 + e % BK, n0 + e / BK); }
  return b_element(k0 + e / bt, n0 + e % bt);
}

@compute @workgroup_size(TW, TW)
fn workgroup_tiled(@builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3u) {
  enter_part(wid.z);
  let size = part_size(wid.z);
  let M = size.x;
  let K = size.y;
  let BT = 4u * TR * TW;
  let threads = TW * TW;
  let loads = BK * BT / threads;
  let m0 = wid.y * BT;
  let n0 = wid.x * BT;
  let bias_grad = has_flag(FLAG_BIAS_GRAD) && !SPLIT_K;
  if (SPLIT_K && has_flag(FLAG_BIAS_GRAD) && wid.y == 0u && wid.z == 0u && lid.y == 0u) {
    for (var h = 0u; h < TR; h++) {
      let n = n0 + 4u * (lid.x + TW * h);
      finish_bias_grad(n, whole_column_sums(n));
    }
  }
  // Parts differ in M; the grid covers the largest. Uniform: the barriers below stay legal.
  if (m0 >= M) { return; }
  // acc[(4 g + r) TR + h]: row m0 + 4 (lid.y + TW g) + r, columns n0 + 4 (lid.x + TW h) .. + 3.
  var acc: array<vec4f, 16>;
  var column_sums: array<vec4f, 2>;
  // This invocation's elements of the next slab, loaded before the current one is read so the
  // loads are in flight during its multiply-adds. Consecutive invocations take consecutive
  // elements of the stored layout, so global reads coalesce.
  var next_a: array<f32, MAX_LOADS>;
  var next_b: array<f32, MAX_LOADS>;
  for (var s = 0u; s < loads; s++) {
    next_a[s] = slab_a_element(m0, 0u, li + threads * s, BT);
    next_b[s] = slab_b_element(0u, n0, li + threads * s, BT);
  }
  let steps = (K + BK - 1u) / BK;
  let buffer_size = BK * SLAB_ROW;
  var write = 0u;
  for (var t = 0u; t < steps; t++) {
    // Stage the loaded slab. Without DOUBLE the buffer was read in the last step: wait for that.
    if (!DOUBLE && t > 0u) { workgroupBarrier(); }
    for (var s = 0u; s < loads; s++) {
      let e = li + threads * s;
      var r: u32;
      var kk: u32;
      if (TRANS_A) { kk = e / BT; r = e % BT; } else { r = e / BK; kk = e % BK; }
      a_slab[write + kk * SLAB_ROW + r / 4u][r % 4u] = next_a[s];
      var cn: u32;
      if (TRANS_B) { cn = e / BK; kk = e % BK; } else { kk = e / BT; cn = e % BT; }
      b_slab[write + kk * SLAB_ROW + cn / 4u][cn % 4u] = next_b[s];
    }
    workgroupBarrier();
    let read = write;
    if (DOUBLE) { write = buffer_size - write; }
    if (t + 1u < steps) {
      let k0 = (t + 1u) * BK;
      for (var s = 0u; s < loads; s++) {
        next_a[s] = slab_a_element(m0, k0, li + threads * s, BT);
        next_b[s] = slab_b_element(k0, n0, li + threads * s, BT);
      }
    }
    for (var kk = 0u; kk < BK; kk++) {
      let row = read + kk * SLAB_ROW;
      var av: array<vec4f, 2>;
      var bv: array<vec4f, 2>;
      for (var g = 0u; g < TR; g++) {
        av[g] = a_slab[row + lid.y + TW * g];
        bv[g] = b_slab[row + lid.x + TW * g];
      }
      for (var g = 0u; g < TR; g++) {
        for (var r = 0u; r < 4u; r++) {
          for (var h = 0u; h < TR; h++) { acc[(4u * g + r) * TR + h] += av[g][r] * bv[h]; }
        }
      }
    }
    // The first row of invocations also sums its columns of op(B), slab by slab in order of k.
    if (bias_grad && lid.y == 0u) {
      for (var h = 0u; h < TR; h++) {
        let col = read + lid.x + TW * h;
        var s = b_slab[col];
        for (var kk = 1u; kk < BK; kk++) { s += b_slab[col + kk * SLAB_ROW]; }
        column_sums[h] += s;
      }
    }
  }
  for (var g = 0u; g < TR; g++) {
    for (var r = 0u; r < 4u; r++) {
      let m = m0 + 4u * (lid.y + TW * g) + r;
      for (var h = 0u; h < TR; h++) {
        if (m < M) { finish(c_row(m), n0 + 4u * (lid.x + TW * h), acc[(4u * g + r) * TR + h]); }
      }
    }
  }
  if (bias_grad && wid.y == 0u && lid.y == 0u) {
    for (var h = 0u; h < TR; h++) { finish_bias_grad(n0 + 4u * (lid.x + TW * h), column_sums[h]); }
  }
}
