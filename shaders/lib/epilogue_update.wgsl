// The epilogue of a weight gradient that also updates the weights (lib/matmul.wgsl states the
// contract; lib/epilogue.wgsl is the plain one). C = dW and the bias gradient are stored as the
// plain epilogue stores them (no flags but FLAG_BIAS_GRAD apply), and each element, in the
// invocation that computed it, then takes the optimizer's rule (lib/optimizer.wgsl) on the
// network's flat parameters and state: C's element i is element weight_at + i of the layout,
// the bias gradient's n is bias_at + n. Every gradient element is owned by one invocation, so
// no other invocation reads the weight it updates; the layer's input gradient, which reads
// the weights, is recorded before this dispatch.

@group(0) @binding(2) var<storage, read_write> c: array<vec4f>;
// The bias gradient db [N] for FLAG_BIAS_GRAD (a spare buffer stands in when unused).
@group(0) @binding(6) var<storage, read_write> bias_grad: array<vec4f>;
// Bindings 3, 4, 7, 8 and 9: the parameters, the state and the rule (lib/update_element.wgsl).

// Stores four gradient elements C[row, n..n+3] (those inside C) and updates their weights.
fn finish(row: u32, n: u32, v: vec4f) {
  let N = params.N;
  if (n >= N) { return; }
  let base = row * N + n;
  if (VEC_N) {
    c[base >> 2u] = v;
  }
  for (var j = 0u; j < 4u; j++) {
    if (n + j < N) {
      let i = base + j;
      if (!VEC_N) { c[i >> 2u][i & 3u] = v[j]; }
      update_element(optim.weight_at + i, v[j]);
    }
  }
}

// Stores db[n..n+3] (those inside N) and updates the biases.
fn finish_bias_grad(n: u32, v: vec4f) {
  let N = params.N;
  if (n >= N) { return; }
  if (VEC_N) {
    bias_grad[n >> 2u] = v;
  }
  for (var j = 0u; j < 4u; j++) {
    let i = n + j;
    if (i < N) {
      if (!VEC_N) { bias_grad[i >> 2u][i & 3u] = v[j]; }
      update_element(optim.bias_at + i, v[j]);
    }
  }
}
