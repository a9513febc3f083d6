// Optimizer updates, one element per invocation. The entries share one parameter block so
// their bindings agree: SGD binds (w, g, velocity, params); RMSProp (w, g, mean square, params);
// Adam (w, g, m, params, v, step). Every update may end by clipping each weight to [-clip, clip]
// (WGAN's weight clipping; clip = 0 leaves weights unclipped).

override WG: u32 = 256u;
// Elements per invocation, WG apart (consecutive per loop step): on lavapipe an invocation
// costs more than the arithmetic, and Adam's bias corrections are computed once per invocation.
override PER_INVOCATION: u32 = 8u;

struct Params {
  n: u32,
  // Where Adam's step count t sits in the u32 `step` tensor.
  step_index: u32,
  lr: f32,
  momentum: f32,
  // L2 penalty added to the gradient (SGD's weightPenaltyL2, Adam's coupled weight decay).
  l2: f32,
  beta1: f32,
  beta2: f32,
  // 1 - beta and ln(beta), computed in float64 on the host: in f32, 1 - 0.999 keeps only
  // about 13 bits and pow(beta, t) near t = 1 would cancel the same way.
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  ln_beta1: f32,
  ln_beta2: f32,
  eps: f32,
  clip: f32,
  // SGD: elements [0, decay_end) take the L2 penalty, the rest (biases) none, so a network's
  // weights and biases update in one dispatch. The other kinds decay every element.
  decay_end: u32,
  // Adam's t is step[step_index] + step_add: a program that records several updates and ticks
  // the counter once at its end gives its j-th update step_add = j (1-based).
  step_add: u32,
}

@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> state1: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read_write> state2: array<f32>;
@group(0) @binding(5) var<storage, read> step: array<u32>;

fn clipped(x: f32) -> f32 {
  return select(x, clamp(x, -params.clip, params.clip), params.clip > 0.0);
}

// DeepLearnToolbox's nnapplygrads: v = momentum v + lr (g + l2 w); w -= v, with l2 = 0 past
// decay_end.
@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = (wid.y * nwg.x + wid.x) * WG * PER_INVOCATION + lid;
  for (var k = 0u; k < PER_INVOCATION; k++) {
    let i = base + k * WG;
    if (i >= params.n) { return; }
    let wi = w[i];
    let l2 = select(0.0, params.l2, i < params.decay_end);
    let velocity = params.momentum * state1[i] + params.lr * (g[i] + l2 * wi);
    state1[i] = velocity;
    w[i] = clipped(wi - velocity);
  }
}

// e^z - 1 for z <= 0 without the cancellation of exp(z) - 1 near 0 (WGSL has no expm1): a
// Taylor polynomial for |z| <= 1/2 (nine terms; the rest is below 2^-30 relative), and
// exp(z) - 1 beyond, where |e^z - 1| >= 0.39 so exp's error is at most magnified 2.6 times.
fn expm1_nonpositive(z: f32) -> f32 {
  if (z < -0.5) { return exp(z) - 1.0; }
  var p = 1.0 + z * (1.0 / 9.0);
  p = 1.0 + z * (1.0 / 8.0) * p;
  p = 1.0 + z * (1.0 / 7.0) * p;
  p = 1.0 + z * (1.0 / 6.0) * p;
  p = 1.0 + z * (1.0 / 5.0) * p;
  p = 1.0 + z * (1.0 / 4.0) * p;
  p = 1.0 + z * (1.0 / 3.0) * p;
  p = 1.0 + z * 0.5 * p;
  return z * p;
}

// Adam with bias correction: 1 - beta^t = -expm1(t ln beta), accurate for t = 1 (where
// 1 - beta2^t is 1e-3) and for t in the millions (where beta^t underflows to 0 harmlessly).
// t = 0 (a counter not yet incremented) is taken as 1 rather than dividing by zero.
@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = f32(max(step[params.step_index] + params.step_add, 1u));
  let correction1 = -expm1_nonpositive(t * params.ln_beta1);
  let correction2 = -expm1_nonpositive(t * params.ln_beta2);
  let base = (wid.y * nwg.x + wid.x) * WG * PER_INVOCATION + lid;
  for (var k = 0u; k < PER_INVOCATION; k++) {
    let i = base + k * WG;
    if (i >= params.n) { return; }
    let wi = w[i];
    let gi = g[i] + params.l2 * wi;
    let m = params.beta1 * state1[i] + params.one_minus_beta1 * gi;
    let v = params.beta2 * state2[i] + params.one_minus_beta2 * (gi * gi);
    state1[i] = m;
    state2[i] = v;
    w[i] = clipped(wi - params.lr * (m / correction1) / (sqrt(v / correction2) + params.eps));
  }
}

// RMSProp (Hinton's lecture 6e; torch.optim.RMSprop without momentum or centring), the
// optimizer of the Wasserstein GAN: s = alpha s + (1 - alpha) g^2; w -= lr g / (sqrt(s) + eps).
// alpha rides in beta2 and 1 - alpha in one_minus_beta2.
@compute @workgroup_size(WG)
fn rmsprop(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = (wid.y * nwg.x + wid.x) * WG * PER_INVOCATION + lid;
  for (var k = 0u; k < PER_INVOCATION; k++) {
    let i = base + k * WG;
    if (i >= params.n) { return; }
    let wi = w[i];
    let gi = g[i] + params.l2 * wi;
    let square = params.beta2 * state1[i] + params.one_minus_beta2 * (gi * gi);
    state1[i] = square;
    w[i] = clipped(wi - params.lr * gi / (sqrt(square) + params.eps));
  }
}
