// The optimizers' per-element rules, shared by their own kernels (optim.wgsl: a whole network,
// one element per invocation) and by the weight-gradient epilogue that applies them where each
// gradient element is computed (lib/epilogue_update.wgsl): one expression for both, so both
// paths give the same bits.

struct Optim {
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
  // SGD: elements [0, decay_end) of the flat layout take the L2 penalty, the rest (biases)
  // none, so a network's weights and biases follow one rule. The other kinds decay every element.
  decay_end: u32,
  // Adam's t is step[step_index] + step_add: a program that records several updates and ticks
  // the counter once at its end gives its j-th update step_add = j (1-based).
  step_add: u32,
  // The epilogue's elements in the flat layout: C's element i is element weight_at + i, the
  // bias gradient's n is bias_at + n (unused by optim.wgsl).
  weight_at: u32,
  bias_at: u32,
  // Adam's learning rate holds through step decay_start and then falls linearly, reaching 0 at
  // step decay_start + decay_span (decay_span = 0: a constant rate).
  decay_start: f32,
  decay_span: f32,
}

fn optim_clipped(o: Optim, x: f32) -> f32 {
  return select(x, clamp(x, -o.clip, o.clip), o.clip > 0.0);
}

// DeepLearnToolbox's nnapplygrads for element j of the flat layout: v = momentum v + lr (g +
// l2 w); w -= v, with l2 = 0 past decay_end. Returns (w, v).
fn sgd_element(o: Optim, j: u32, w: f32, g: f32, velocity: f32) -> vec2f {
  let l2 = select(0.0, o.l2, j < o.decay_end);
  let v = o.momentum * velocity + o.lr * (g + l2 * w);
  return vec2f(optim_clipped(o, w - v), v);
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

// What Adam's step t sets: the bias corrections (1 - beta1^t, 1 - beta2^t) = -expm1(t ln beta),
// accurate for t = 1 (where 1 - beta2^t is 1e-3) and for t in the millions (where beta^t
// underflows to 0 harmlessly), and the learning rate's share under the linear decay (exactly 1
// until the decay starts, so a constant rate keeps its bits). t = count + step_add, from the
// step counter's value; 0 (a counter not yet incremented) is taken as 1 rather than dividing by
// zero.
fn adam_corrections(o: Optim, count: u32) -> vec3f {
  let t = f32(max(count + o.step_add, 1u));
  let share = clamp((o.decay_start + o.decay_span - t) / o.decay_span, 0.0, 1.0);
  let lr_share = select(1.0, share, o.decay_span > 0.0 && t > o.decay_start);
  return vec3f(-expm1_nonpositive(t * o.ln_beta1), -expm1_nonpositive(t * o.ln_beta2), lr_share);
}

// Adam's corrections for the kernels that apply the rule element by element where they compute
// gradients: computed at an invocation's first element and kept (two exponentials per element
// would cost more than the rest of the update).
var<private> adam_corrections_ready: bool = false;
var<private> adam_corrections_kept: vec3f;

fn adam_corrections_once(o: Optim, count: u32) -> vec3f {
  if (!adam_corrections_ready) {
    adam_corrections_kept = adam_corrections(o, count);
    adam_corrections_ready = true;
  }
  return adam_corrections_kept;
}

// Adam with bias correction for one element, `corrections` from adam_corrections; returns (w, m, v).
fn adam_element(o: Optim, corrections: vec3f, w: f32, g: f32, m0: f32, v0: f32) -> vec3f {
  let gi = g + o.l2 * w;
  let m = o.beta1 * m0 + o.one_minus_beta1 * gi;
  let v = o.beta2 * v0 + o.one_minus_beta2 * (gi * gi);
  let lr = o.lr * corrections.z;
  return vec3f(optim_clipped(o, w - lr * (m / corrections.x) / (sqrt(v / corrections.y) + o.eps)), m, v);
}

// RMSProp (Hinton's lecture 6e; torch.optim.RMSprop without momentum or centring) for one
// element: s = alpha s + (1 - alpha) g^2; w -= lr g / (sqrt(s) + eps), alpha riding in beta2
// and 1 - alpha in one_minus_beta2. Returns (w, s).
fn rmsprop_element(o: Optim, w: f32, g: f32, s0: f32) -> vec2f {
  let gi = g + o.l2 * w;
  let square = o.beta2 * s0 + o.one_minus_beta2 * (gi * gi);
  return vec2f(optim_clipped(o, w - o.lr * gi / (sqrt(square) + o.eps)), square);
}
