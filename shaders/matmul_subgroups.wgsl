// C[M, N] = op(A) op(B), register strategy with subgroup shuffles (bindings and epilogue:
// lib/matmul.wgsl; operand access: lib/matmul_dense.wgsl or conv.wgsl). Needs the `subgroups`
// feature; shaders/matmul.wgsl holds the others.
//
// On a CPU adapter every storage-buffer load is paid lane by lane (lavapipe: a bounds-checked
// scalar load and an insert per lane and component), so the cost of a kernel is the number of
// components each lane loads per multiply-add. Here lanes run along M, each with 4 rows by
// 4 TN4 columns of C. Each lane loads its own rows of A (no other lane needs them); the op(B)
// block all lanes of a subgroup share is loaded once, spread over the lanes, and broadcast with
// subgroupShuffle, which on lavapipe is a register permute. Per KB values of k a lane loads
// 4 KB values of A and 4 TN4 of B for 16 TN4 KB multiply-adds: about 11 per component loaded
// at TN4 = 4, KB = 8, against 3 for the plain register kernel. A transposed op(B) is loaded along k
// by column instead of along n by row, whichever is contiguous; the shuffles sort it out.
//
// The accumulators are updated once per block of KB values of k, from partial sums that are
// fresh values within the block: lavapipe runs a loop's body under an execution mask and blends
// every value that lives across iterations at each assignment, and with 16 vec4 accumulators
// (more than the CPU's registers) each blend also costs a load and a store. Each partial sum
// is one chain over the block's k, which the compiler keeps in a register (1.6-1.7x faster on
// lavapipe than accumulating product by product). The summation order stays fixed: within a
// block in order of k, then block by block.
//
// Every lane of a subgroup stays active through the K loop (lanes past M load no rows of A and
// are never stored), and KB is at most the adapter's smallest subgroup size, so each shuffle
// reads a lane that exists and holds data.

override TN4: u32 = 4u;    // vec4 columns per lane, 1..4
override KB: u32 = 8u;     // k values per shuffled block: 4 or 8, at most the subgroup size
override WG: u32 = 8u;     // invocations per workgroup, a multiple of the subgroup size

// op(A)[m0 .. m0 + 3, k0 + kk] from the lane's own block.
fn own_column(own: ptr<function, array<vec4f, 8>>, kk: u32) -> vec4f {
  if (TRANS_A) { return (*own)[kk]; }
  let q = kk / 4u;
  let e = kk % 4u;
  let w = KB / 4u;
  return vec4f((*own)[q][e], (*own)[w + q][e], (*own)[2u * w + q][e], (*own)[3u * w + q][e]);
}

// op(B)[k0 + kk, n0 + 4j ..]: lane kk's row, or one element from each column's lane.
fn shared_row(share: ptr<function, array<vec4f, 8>>, j: u32, kk: u32) -> vec4f {
  if (TRANS_B) {
    var v: vec4f;
    for (var e = 0u; e < 4u; e++) {
      let col = 4u * j + e;
      v[e] = subgroupShuffle((*share)[(col / KB) * (KB / 4u) + kk / 4u][kk % 4u], col % KB);
    }
    return v;
  }
  return subgroupShuffle((*share)[j], kk);
}

@compute @workgroup_size(WG)
fn register_subgroups(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u,
                      @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) sid: u32) {
  enter_part(wid.z);
  let size = part_size(wid.z);
  let M = size.x;
  let K = size.y;
  let m0 = gid.x * 4u;
  let n0 = wid.y * TN4 * 4u;
  // Lanes past KB (subgroups wider than the block) repeat a lane's loads; nobody reads them.
  let lane = sid % KB;
  // Only the first M tile stores the bias gradient, so only it sums the columns (lavapipe skips
  // a block whose condition holds in no lane): in the k loop, or over the whole op(B) by part
  // 0's first lane where parts split k.
  let bias_grad = has_flag(FLAG_BIAS_GRAD) && wid.x == 0u && !SPLIT_K;
  if (SPLIT_K && has_flag(FLAG_BIAS_GRAD) && wid.x == 0u && wid.z == 0u && li == 0u) {
    for (var j = 0u; j < TN4; j++) { finish_bias_grad(n0 + 4u * j, whole_column_sums(n0 + 4u * j)); }
  }
  // Parts differ in M; the grid covers the largest. Whole workgroups leave, so every shuffle's
  // lanes stay.
  if (wid.x * WG * 4u >= M) { return; }
  enter_rows(m0);
  var acc: array<vec4f, 16>;   // [row r][column group j] at r * TN4 + j
  var column_sums: array<vec4f, 4>;
  for (var k0 = 0u; k0 < K; k0 += KB) {
    // Own rows of op(A), as own[r * KB / 4 + q] = op(A)[m0 + r, k0 + 4q ..] (A stored [M, K]) or
    // own[kk] = op(A)[m0 .. m0 + 3, k0 + kk] (A stored [K, M]): whichever is contiguous.
    // A lane wholly past M (the last M tile's) loads nothing: its products are never stored,
    // and lavapipe skips a masked-off lane's loads (1.2x at M = 100, where a quarter of the
    // last tile's lanes hold rows).
    var own: array<vec4f, 8>;
    if (m0 >= M) {
    } else if (TRANS_A) {
      for (var kk = 0u; kk < KB; kk++) { own[kk] = a_col4(m0, k0 + kk); }
    } else {
      for (var r = 0u; r < 4u; r++) {
        for (var q = 0u; q < KB / 4u; q++) { own[r * (KB / 4u) + q] = a_row4(m0 + r, k0 + 4u * q); }
      }
    }
    // This lane's share of the op(B) block [k0, k0 + KB) x [n0, n0 + 4 TN4): row k0 + lane
    // (B stored [K, N]), or columns n0 + lane + KB t along k (B stored [N, K]).
    var share: array<vec4f, 8>;
    if (TRANS_B) {
      for (var t = 0u; t < (4u * TN4 + KB - 1u) / KB; t++) {
        for (var q = 0u; q < KB / 4u; q++) { share[t * (KB / 4u) + q] = b_col4(k0 + 4u * q, n0 + lane + KB * t); }
      }
    } else {
      for (var j = 0u; j < TN4; j++) { share[j] = b_row4(k0 + lane, n0 + 4u * j); }
    }
    // The block's columns of op(A) and rows of op(B), as values of this iteration.
    var ak: array<vec4f, 8>;
    var bk: array<vec4f, 32>;   // [kk][j] at TN4 kk + j
    for (var kk = 0u; kk < KB; kk++) {
      ak[kk] = own_column(&own, kk);
      for (var j = 0u; j < TN4; j++) { bk[TN4 * kk + j] = shared_row(&share, j, kk); }
    }
    // Written out rather than in helper functions taking the arrays by pointer: those compile
    // to copies of the arrays on lavapipe (half the speed).
    for (var r = 0u; r < 4u; r++) {
      for (var j = 0u; j < TN4; j++) {
        var s = ak[0][r] * bk[j];
        s += ak[1][r] * bk[TN4 + j];
        s += ak[2][r] * bk[2u * TN4 + j];
        s += ak[3][r] * bk[3u * TN4 + j];
        if (KB > 4u) {
          s += ak[4][r] * bk[4u * TN4 + j];
          s += ak[5][r] * bk[5u * TN4 + j];
          s += ak[6][r] * bk[6u * TN4 + j];
          s += ak[7][r] * bk[7u * TN4 + j];
        }
        acc[r * TN4 + j] += s;
      }
    }
    if (bias_grad) {
      for (var j = 0u; j < TN4; j++) {
        var s = ((bk[j] + bk[TN4 + j]) + bk[2u * TN4 + j]) + bk[3u * TN4 + j];
        if (KB > 4u) { s = (((s + bk[4u * TN4 + j]) + bk[5u * TN4 + j]) + bk[6u * TN4 + j]) + bk[7u * TN4 + j]; }
        column_sums[j] += s;
      }
    }
  }
  // The epilogue's loop stays rolled (its trip count depends on M), so its code, with every
  // activation, is emitted once rather than per accumulator: a third less compile time.
  let rows = min(4u, max(M, m0) - m0);
  for (var i = 0u; i < rows * TN4; i++) { finish(c_row(m0 + i / TN4), n0 + 4u * (i % TN4), acc[i]); }
  finish_staged(wid.x * WG * 4u, n0, li, WG);
  // Every lane holds the column sums (they are sums of broadcasts); one stores them.
  if (bias_grad && li == 0u) {
    for (var j = 0u; j < TN4; j++) { finish_bias_grad(n0 + 4u * j, column_sums[j]); }
  }
}
