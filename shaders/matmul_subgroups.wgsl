// C[M, N] = op(A) op(B), register strategy with subgroup shuffles (operand access and epilogue:
// lib/matmul.wgsl). Needs the `subgroups` feature; shaders/matmul.wgsl holds the others.
//
// On a CPU adapter every storage-buffer load is paid lane by lane (lavapipe: a bounds-checked
// scalar load and an insert per lane and component), so the cost of a kernel is the number of
// components each lane loads per multiply-add. Here lanes run along M, each with TM = 4 rows by
// 4 TN4 columns of C. Each lane loads its own rows of A (no other lane needs them); the op(B)
// block all lanes of a subgroup share is loaded once, spread over the lanes, and broadcast with
// subgroupShuffle, which on lavapipe is a register permute. Per KB values of k a lane loads
// 4 KB values of A and 4 TN4 of B for 16 TN4 KB multiply-adds: about 43 per load at TN4 = 4,
// KB = 8, against 3 for the plain register kernel. A transposed op(B) is loaded along k by
// column instead of along n by row, whichever is contiguous; the shuffles sort it out.
//
// Every lane of a subgroup stays active through the K loop (rows past M load clamped rows and
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

// acc += op(A)[rows, k0 + kk] op(B)[k0 + kk, columns]. Called with literal kk so that, once
// inlined, every array index is a constant and the arrays live in registers.
fn k_step(acc: ptr<function, array<vec4f, 16>>, own: ptr<function, array<vec4f, 8>>, share: ptr<function, array<vec4f, 8>>, kk: u32) {
  let ak = own_column(own, kk);
  for (var j = 0u; j < TN4; j++) {
    let bk = shared_row(share, j, kk);
    for (var r = 0u; r < 4u; r++) { (*acc)[r * TN4 + j] += ak[r] * bk; }
  }
}

@compute @workgroup_size(WG)
fn register_subgroups(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) sid: u32) {
  let K = params.K;
  let m0 = gid.x * 4u;
  let n0 = wid.y * TN4 * 4u;
  // Lanes past KB (subgroups wider than the block) repeat a lane's loads; nobody reads them.
  let lane = sid % KB;
  var acc: array<vec4f, 16>;   // [row r][column group j] at r * TN4 + j
  for (var k0 = 0u; k0 < K; k0 += KB) {
    // Own rows of op(A), as own[r * KB / 4 + q] = op(A)[m0 + r, k0 + 4q ..] (A stored [M, K]) or
    // own[kk] = op(A)[m0 .. m0 + 3, k0 + kk] (A stored [K, M]): whichever is contiguous.
    var own: array<vec4f, 8>;
    if (TRANS_A) {
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
    // Unrolled by hand: the compiler leaves a loop over kk rolled (its body is large), and a
    // rolled loop indexes the arrays dynamically, which puts them in memory.
    k_step(&acc, &own, &share, 0u);
    k_step(&acc, &own, &share, 1u);
    k_step(&acc, &own, &share, 2u);
    k_step(&acc, &own, &share, 3u);
    if (KB > 4u) {
      k_step(&acc, &own, &share, 4u);
      k_step(&acc, &own, &share, 5u);
      k_step(&acc, &own, &share, 6u);
      k_step(&acc, &own, &share, 7u);
    }
  }
  for (var r = 0u; r < 4u; r++) {
    for (var j = 0u; j < TN4; j++) { finish(m0 + r, n0 + 4u * j, acc[r * TN4 + j]); }
  }
}
