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

// Staged updates, for bodies whose lanes run along M (matmul_subgroups.wgsl): there a lane's
// elements sit a row of C apart from its neighbours', and on a CPU adapter, which loads and
// stores storage lane by lane, the update's six accesses per element cost three times the
// optimizer's own pass (784 x 512 on lavapipe: 13 ms against 4). With STAGED_ROWS > 0 (the
// rows of C a workgroup owns, from a multiple of it; its columns start at a multiple of 4 TN4),
// finish() leaves each gradient element in workgroup memory and finish_staged(), called once by
// every invocation after its last finish(), updates the tile row by row with lanes side by side
// along N. Every element still takes the same rule once, so the bits are the same.
override STAGED_ROWS: u32 = 0u;
const STAGED_COLUMNS = 16u;
var<workgroup> staged: array<f32, max(STAGED_ROWS, 1u) * STAGED_COLUMNS>;

// Stores four gradient elements C[row, n..n+3] (those inside C) and updates their weights.
fn finish(row: u32, n: u32, v: vec4f) {
  let N = params.N;
  if (n >= N) { return; }
  let base = row * N + n;
  if (VEC_N) {
    c[base >> 2u] = v;
  }
  let at = (row % max(STAGED_ROWS, 1u)) * STAGED_COLUMNS + n % (4u * TN4);
  for (var j = 0u; j < 4u; j++) {
    if (n + j < N) {
      let i = base + j;
      if (!VEC_N) { c[i >> 2u][i & 3u] = v[j]; }
      if (STAGED_ROWS > 0u) {
        staged[at + j] = v[j];
      } else {
        update_element(optim.weight_at + i, v[j]);
      }
    }
  }
}

// The staged tile's updates (nothing without STAGED_ROWS): C's rows row0 .., columns n0 ..
// n0 + 4 TN4, by `lanes` invocations of which this is `lane`. In uniform control flow.
fn finish_staged(row0: u32, n0: u32, lane: u32, lanes: u32) {
  if (STAGED_ROWS == 0u) { return; }
  workgroupBarrier();
  let N = params.N;
  let rows = min(STAGED_ROWS, params.M - row0);
  for (var r = 0u; r < rows; r++) {
    for (var col = lane; col < 4u * TN4; col += lanes) {
      let n = n0 + col;
      if (n < N) { update_element(optim.weight_at + (row0 + r) * N + n, staged[r * STAGED_COLUMNS + col]); }
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
