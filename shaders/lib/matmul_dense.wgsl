// Dense operand access for the matmul kernels (the contract is in lib/matmul.wgsl): A and B are
// stored matrices, A as [K, M] (TRANS_A) or [M, K], B as [N, K] (TRANS_B) or [K, N].

override TRANS_A: bool = false;
override TRANS_B: bool = false;
// Whole-vec4 rows along M and K: M % 4, K % 4 == 0.
override VEC_M: bool = false;
override VEC_K: bool = false;

// op(A)[m, k..k+3] (m clamped to M - 1). Like every accessor here, zero for k >= K.
fn a_row4(m: u32, k: u32) -> vec4f {
  let M = params.M;
  let K = params.K;
  if (TRANS_A) {
    var v: vec4f;
    let mm = min(m, M - 1u);
    for (var q = 0u; q < 4u; q++) {
      v[q] = select(0.0, a_scalar(min(k + q, K - 1u) * M + mm), k + q < K);
    }
    return v;
  }
  return row4_a(min(m, M - 1u) * K, k, K, VEC_K);
}

// op(A)[m..m+3, k] (rows past M read as zero).
fn a_col4(m: u32, k: u32) -> vec4f {
  let M = params.M;
  let K = params.K;
  let kk = min(k, K - 1u);
  var v: vec4f;
  if (TRANS_A) {
    v = row4_a(kk * M, m, M, VEC_M);
  } else {
    for (var i = 0u; i < 4u; i++) {
      v[i] = select(0.0, a_scalar(min(m + i, M - 1u) * K + kk), m + i < M);
    }
  }
  return select(vec4f(0.0), v, k < K);
}

// op(B)[k, n..n+3] (columns past N read as zero).
fn b_row4(k: u32, n: u32) -> vec4f {
  let N = params.N;
  let K = params.K;
  let kk = min(k, K - 1u);
  var v: vec4f;
  if (TRANS_B) {
    for (var j = 0u; j < 4u; j++) {
      v[j] = select(0.0, b_scalar(min(n + j, N - 1u) * K + kk), n + j < N);
    }
  } else {
    v = row4_b(kk * N, n, N, VEC_N);
  }
  return select(vec4f(0.0), v, k < K);
}

// op(B)[k..k+3, n] (n clamped to N - 1).
fn b_col4(k: u32, n: u32) -> vec4f {
  let N = params.N;
  let K = params.K;
  if (TRANS_B) {
    return row4_b(min(n, N - 1u) * K, k, K, VEC_K);
  }
  var v: vec4f;
  let nn = min(n, N - 1u);
  for (var q = 0u; q < 4u; q++) {
    v[q] = select(0.0, b_scalar(min(k + q, K - 1u) * N + nn), k + q < K);
  }
  return v;
}

fn a_element(m: u32, k: u32) -> f32 {
  if (m >= params.M || k >= params.K) { return 0.0; }
  return a_scalar(select(m * params.K + k, k * params.M + m, TRANS_A));
}

fn b_element(k: u32, n: u32) -> f32 {
  if (k >= params.K || n >= params.N) { return 0.0; }
  return b_scalar(select(k * params.N + n, n * params.K + k, TRANS_B));
}

// One part: the product itself (lib/matmul.wgsl's parts contract).
const SPLIT_K = false;
fn part_size(z: u32) -> vec2u { return vec2u(params.M, params.K); }
fn enter_part(z: u32) {}
fn enter_rows(m0: u32) {}
fn c_row(m: u32) -> u32 { return m; }
fn whole_column_sums(n: u32) -> vec4f {
  var s = vec4f(0.0);
  for (var k = 0u; k < params.K; k++) { s += b_row4(k, n); }
  return s;
}
