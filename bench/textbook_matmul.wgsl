// The textbook baseline the benchmark compares against: 16 x 16 tiles of A and B staged in
// workgroup memory, one output per invocation. Same operand layouts as shaders/matmul.wgsl
// (A stored [K, M] when TRANS_A, B stored [N, K] when TRANS_B); no epilogue.

override TRANS_A: bool = false;
override TRANS_B: bool = false;

struct Params { M: u32, N: u32, K: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const T = 16u;

var<workgroup> a_tile: array<array<f32, T>, T>;
var<workgroup> b_tile: array<array<f32, T>, T>;

fn a_at(m: u32, k: u32) -> f32 {
  if (m >= params.M || k >= params.K) { return 0.0; }
  return a[select(m * params.K + k, k * params.M + m, TRANS_A)];
}

fn b_at(k: u32, n: u32) -> f32 {
  if (k >= params.K || n >= params.N) { return 0.0; }
  return b[select(k * params.N + n, n * params.K + k, TRANS_B)];
}

@compute @workgroup_size(T, T)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row = wid.y * T + lid.y;
  let col = wid.x * T + lid.x;
  var sum = 0.0;
  for (var k0 = 0u; k0 < params.K; k0 += T) {
    a_tile[lid.y][lid.x] = a_at(row, k0 + lid.x);
    b_tile[lid.y][lid.x] = b_at(k0 + lid.y, col);
    workgroupBarrier();
    for (var k = 0u; k < T; k++) {
      sum += a_tile[lid.y][k] * b_tile[k][lid.x];
    }
    workgroupBarrier();
  }
  if (row < params.M && col < params.N) {
    c[row * params.N + col] = sum;
  }
}
