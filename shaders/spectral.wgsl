// Spectral normalisation (Miyato et al. 2018) of a weight W [K, N] (a dense layer's [in, out], a
// convolution's [kernel * kernel * in, out]), one workgroup per weight:
//   power: one power iteration from u [N]: v = W u / |W u|, u = Wᵀ v / |Wᵀ v|, sigma = |Wᵀ v|
//          (= vᵀ W u for the new u), then W_sn = W / sigma. MODE 1 skips the iteration and
//          rescales with the stored sigma (after restoring a checkpoint: the same division
//          gives the same bits).
//   gradient: turns G = dL/dW_sn into dL/dW in place, holding u and v fixed as the paper does:
//          W_sn = W / sigma(W) with sigma = vᵀ W u gives dL/dW = (G - <G, W_sn> v uᵀ) / sigma.
// One workgroup keeps every reduction in one fixed order (lanes stride, then a pairwise tree),
// so the results are bit-identical run to run; a layer's W is at most a few hundred thousand
// values, a few passes each.

override WG: u32 = 256u;
override MODE: u32 = 0u;

struct Params { K: u32, N: u32 }

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> u: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> sigma: array<f32>;
// W_sn for `power`; the gradient G, updated in place, for `gradient`.
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// workgroup_sum(lid, x): lib/workgroup_sum.wgsl.

// torch.nn.functional.normalize's floor on the norm: a zero W gives zero vectors, not NaNs.
const NORM_FLOOR: f32 = 1e-12;

@compute @workgroup_size(WG)
fn power(@builtin(local_invocation_index) lid: u32) {
  let K = params.K;
  let N = params.N;
  var s: f32;
  if (MODE == 0u) {
    // v = W u, each lane its own rows, then normalised by the lane that wrote them.
    var sq = 0.0;
    for (var k = lid; k < K; k += WG) {
      var dot = 0.0;
      for (var n = 0u; n < N; n++) { dot += w[k * N + n] * u[n]; }
      v[k] = dot;
      sq += dot * dot;
    }
    let v_norm = max(sqrt(workgroup_sum(lid, sq)), NORM_FLOOR);
    for (var k = lid; k < K; k += WG) { v[k] = v[k] / v_norm; }
    storageBarrier();
    workgroupBarrier();
    // u = Wᵀ v, each lane its own columns.
    sq = 0.0;
    for (var n = lid; n < N; n += WG) {
      var dot = 0.0;
      for (var k = 0u; k < K; k++) { dot += w[k * N + n] * v[k]; }
      u[n] = dot;
      sq += dot * dot;
    }
    s = max(sqrt(workgroup_sum(lid, sq)), NORM_FLOOR);
    for (var n = lid; n < N; n += WG) { u[n] = u[n] / s; }
    if (lid == 0u) { sigma[0] = s; }
  } else {
    s = sigma[0];
  }
  for (var i = lid; i < K * N; i += WG) { out[i] = w[i] / s; }
}

// `w` binds W_sn here.
@compute @workgroup_size(WG)
fn gradient(@builtin(local_invocation_index) lid: u32) {
  let K = params.K;
  let N = params.N;
  var acc = 0.0;
  for (var i = lid; i < K * N; i += WG) { acc += out[i] * w[i]; }
  let c = workgroup_sum(lid, acc);
  let s = sigma[0];
  for (var i = lid; i < K * N; i += WG) {
    out[i] = (out[i] - c * v[i / N] * u[i % N]) / s;
  }
}
