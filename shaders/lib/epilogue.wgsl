// The plain epilogue of the matmul kernels (lib/matmul.wgsl states the contract): C =
// act(A B + bias (+ C)), or C = (A B) * act'(Y); the bias gradient stored beside. The bodies
// call finish() for every four outputs they own and finish_bias_grad() for every four columns
// whose sums they own; bodies that say so call finish_staged() after their last finish(), which
// does nothing here. lib/epilogue_update.wgsl is the other epilogue: a weight gradient that
// also updates the weights.

@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
// The saved forward output Y for FLAG_GRAD (another operand stands in when unused).
@group(0) @binding(4) var<storage, read> saved: array<vec4f>;
// The bias gradient db [N] for FLAG_BIAS_GRAD (a spare buffer stands in when unused).
@group(0) @binding(6) var<storage, read_write> bias_grad: array<vec4f>;

// The epilogue of one output: x is its product (A B)[m, n], i its index in C.
fn finish_one(i: u32, n: u32, x: f32) -> f32 {
  var v = x;
  if (has_flag(FLAG_ACCUMULATE)) { v += c[i >> 2u][i & 3u]; }
  if (has_flag(FLAG_BIAS)) { v += bias[n >> 2u][n & 3u]; }
  if (has_flag(FLAG_GRAD)) { return v * activate_grad_from_output(saved[i >> 2u][i & 3u], params.grad_act, params.grad_leak); }
  return activate(v, params.act, params.leak);
}

// Finishes four outputs C[row, n..n+3] (those inside C) from their product `v`; the caller
// passes only rows of its part, mapped by c_row.
fn finish(row: u32, n: u32, v: vec4f) {
  let N = params.N;
  if (n >= N) { return; }
  let base = row * N + n;
  if (VEC_N) {
    var x = v;
    if (has_flag(FLAG_ACCUMULATE)) { x += c[base >> 2u]; }
    if (has_flag(FLAG_BIAS)) { x += bias[n >> 2u]; }
    if (has_flag(FLAG_GRAD)) {
      let y = saved[base >> 2u];
      for (var j = 0u; j < 4u; j++) { x[j] *= activate_grad_from_output(y[j], params.grad_act, params.grad_leak); }
    } else if (params.act != 0u) {
      for (var j = 0u; j < 4u; j++) { x[j] = activate(x[j], params.act, params.leak); }
    }
    c[base >> 2u] = x;
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    if (n + j < N) {
      let i = base + j;
      c[i >> 2u][i & 3u] = finish_one(i, n + j, v[j]);
    }
  }
}

// Stores db[n..n+3] (those inside N) from the column sums `v` of op(B), adding to db under
// FLAG_ACCUMULATE.
fn finish_bias_grad(n: u32, v: vec4f) {
  let N = params.N;
  if (n >= N) { return; }
  if (VEC_N) {
    var x = v;
    if (has_flag(FLAG_ACCUMULATE)) { x += bias_grad[n >> 2u]; }
    bias_grad[n >> 2u] = x;
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    let i = n + j;
    if (i < N) {
      var x = v[j];
      if (has_flag(FLAG_ACCUMULATE)) { x += bias_grad[i >> 2u][i & 3u]; }
      bias_grad[i >> 2u][i & 3u] = x;
    }
  }
}

// lib/epilogue_update.wgsl's staged updates; nothing is staged here.
fn finish_staged(row0: u32, n0: u32, lane: u32, lanes: u32) {}
